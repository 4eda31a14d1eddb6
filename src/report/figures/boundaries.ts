/** Boundary crossings as plot layers (phase diagram, overlay). */
import type { BoundaryPoint, Phase } from "../../analysis/schema.js";
import type { Obj } from "./common.js";

/**
 * Which boundary a crossing belongs to: the one with amentia, the eumentia–dementia one, or
 * none (a crossing into or out of "uncertain" is drawn as a point with its error bar, but no
 * boundary line is drawn through it).
 */
export function boundaryFamily(b: { from: Phase; to: Phase }): string {
  if (b.from === "uncertain" || b.to === "uncertain") return UNDECIDED_CROSSING;
  return b.from === "amentia" || b.to === "amentia" ? "amentia boundary" : "eumentia–dementia boundary";
}

export const UNDECIDED_CROSSING = "edge of an uncertain region";

export interface BoundaryRow extends Obj {
  pTrain: number;
  pEval: number;
  /** Plot coordinates (grid-cell positions in heat maps, the values elsewhere). */
  x: number;
  y: number;
  lo: number;
  hi: number;
  err: number;
  transition: string;
  family: string;
  crossing: string;
  method: string;
}

export const ALONG_P_EVAL = "p_eval,c at fixed p_train";
export const ALONG_P_TRAIN = "p_train,c at fixed p_eval";

export function boundaryRows(points: readonly BoundaryPoint[], px: (v: number) => number = (v) => v, py: (v: number) => number = (v) => v): BoundaryRow[] {
  return points.map((b) => {
    const alongEval = b.along === "pEval";
    const pTrain = alongEval ? b.fixed : b.critical;
    const pEval = alongEval ? b.critical : b.fixed;
    const map = alongEval ? py : px;
    return {
      pTrain,
      pEval,
      x: px(pTrain),
      y: py(pEval),
      lo: map(b.critical - b.criticalErr),
      hi: map(b.critical + b.criticalErr),
      err: b.criticalErr,
      transition: transition(b),
      family: boundaryFamily(b),
      crossing: alongEval ? ALONG_P_EVAL : ALONG_P_TRAIN,
      method: b.method,
    };
  });
}

export function transition(b: BoundaryPoint): string {
  return `${b.from} → ${b.to}`;
}

export const boundaryTooltip = [
  { field: "transition", title: "boundary" },
  { field: "crossing", title: "crossing" },
  { field: "pTrain", title: "p_train", format: ".3f" },
  { field: "pEval", title: "p_eval", format: ".3f" },
  { field: "err", title: "± (1σ)", format: ".3f" },
  { field: "method", title: "method" },
];

/**
 * Boundary layers over a p_train × p_eval plane, in plot coordinates (x, y):
 * - p_eval,c(p_train) crossings (found along p_eval at fixed p_train): a line per boundary
 *   through them in p_train order, with a vertical error band and error bars;
 * - p_train,c(p_eval) crossings: horizontal error bars, and for the amentia boundary (which
 *   runs along p_eval) a line in p_eval order (no band: these crossings are located to
 *   their grid bracket, which the error bars already show);
 * - every crossing as a point, shaped by the grid line it was found on.
 * `color` is a constant colour or an encoding (one line set per value).
 */
export function boundaryLayers(rows: BoundaryRow[], color: Obj | string, axes: { x: Obj; y: Obj }): Obj[] {
  if (rows.length === 0) return [];
  const X = (field: string): Obj => ({ ...axes.x, field, type: "quantitative" });
  const Y = (field: string): Obj => ({ ...axes.y, field, type: "quantitative" });
  const enc = (extra: Obj): Obj => (typeof color === "string" ? extra : { ...extra, color });
  const markColor = (m: Obj): Obj => (typeof color === "string" ? { ...m, color } : m);
  const group = typeof color === "string" ? [{ field: "family" }] : [{ field: "family" }, { field: String(color.field) }];
  const dash = { field: "family", type: "nominal", title: "boundary", scale: { domain: ["eumentia–dementia boundary", "amentia boundary"], range: [[1, 0], [6, 3]] } };
  const decided = rows.filter((r) => r.family !== UNDECIDED_CROSSING);
  const alongEval = decided.filter((r) => r.crossing === ALONG_P_EVAL);
  const alongTrain = rows.filter((r) => r.crossing === ALONG_P_TRAIN);
  const amentiaAlongTrain = alongTrain.filter((r) => r.family === "amentia boundary");
  const evalBars = rows.filter((r) => r.crossing === ALONG_P_EVAL);
  const layers: Obj[] = [];
  if (alongEval.length > 0) {
    layers.push(
      { data: { values: alongEval }, mark: markColor({ type: "area", opacity: 0.16, clip: true }), encoding: enc({ x: X("x"), y: Y("lo"), y2: { field: "hi" }, detail: group }) },
      { data: { values: alongEval }, mark: markColor({ type: "line", strokeWidth: 2.2, clip: true }), encoding: enc({ x: X("x"), y: Y("y"), strokeDash: dash, detail: group }) },
    );
  }
  if (evalBars.length > 0) {
    layers.push({ data: { values: evalBars }, mark: markColor({ type: "rule", strokeWidth: 1.2, opacity: 0.8, clip: true }), encoding: enc({ x: X("x"), y: Y("lo"), y2: { field: "hi" } }) });
  }
  if (amentiaAlongTrain.length > 0) {
    layers.push(
      { data: { values: amentiaAlongTrain }, mark: markColor({ type: "line", strokeWidth: 2.2, clip: true }), encoding: enc({ x: X("x"), y: Y("y"), order: { field: "y", type: "quantitative" }, strokeDash: dash, detail: group }) },
    );
  }
  if (alongTrain.length > 0) {
    layers.push({ data: { values: alongTrain }, mark: markColor({ type: "rule", strokeWidth: 1.2, opacity: 0.8, clip: true }), encoding: enc({ x: X("lo"), x2: { field: "hi" }, y: Y("y") }) });
  }
  layers.push({
    data: { values: rows },
    mark: markColor({ type: "point", filled: true, size: 50, stroke: "white", strokeWidth: 0.8, opacity: 1, clip: true }),
    encoding: enc({
      x: X("x"),
      y: Y("y"),
      shape: { field: "crossing", type: "nominal", title: "crossing found", scale: { domain: [ALONG_P_EVAL, ALONG_P_TRAIN], range: ["circle", "diamond"] } },
      tooltip: typeof color === "string" ? boundaryTooltip : [{ field: String(color.field), title: String(color.title ?? color.field) }, ...boundaryTooltip],
    }),
  });
  return layers;
}
