import type { TopLevelSpec } from "vega-lite";
import type { Analysis, Architecture, BoundaryPoint, CollapseComparison, CollapseResult, LengthScaleFit, Phase } from "../analysis/schema.js";
import { pm, sig } from "./format.js";
import { FONT_STACK } from "./render.js";

/**
 * The report's figures as Vega-Lite specs, built from analysis.json alone (pure functions).
 *
 * A figure has one or more variants: one per architecture (width, depth) or per line
 * (width, depth, p_train); the page shows the variant chosen with its controls. A variant
 * without data carries a `note` instead of a spec, and so does a figure with nothing to show
 * at all (e.g. no non-monotonic loss curve → no N* figure).
 */

/** What a figure's variants are chosen by. */
export type FigureDims = "none" | "arch" | "line";

export interface FigureVariant {
  /** "all", archKey(...) or lineKey(...). */
  key: string;
  label: string;
  spec?: TopLevelSpec;
  /** Why there is no plot for this choice. */
  note?: string;
}

export interface Figure {
  /** File-name stem, e.g. "fig2-loss-vs-n". */
  id: string;
  title: string;
  /** How to read it: one or two sentences. */
  caption: string;
  dims: FigureDims;
  variants: FigureVariant[];
  /** Set when the whole figure has nothing to show (variants then empty). */
  note?: string;
}

export const PHASES: Phase[] = ["eumentia", "dementia", "amentia", "uncertain"];
export const PHASE_COLORS: Record<Phase, string> = {
  eumentia: "#1b7837",
  dementia: "#d95f02",
  amentia: "#5e3c99",
  uncertain: "#9e9e9e",
};

const P_TRAIN = "p_train (training dropout)";
const P_EVAL = "p_eval (evaluation removal)";

/** Loose spec objects inside this module; the public builders return TopLevelSpec. */
type Obj = Record<string, unknown>;

export function archKey(a: Architecture): string {
  return `w${a.width}-d${a.depth}`;
}

export function lineKey(a: Architecture, pTrain: number): string {
  return `${archKey(a)}-pt${pTrain}`;
}

export function archLabel(a: Architecture): string {
  return `width ${a.width}, depth ${a.depth}`;
}

const sameArch = (a: Architecture, b: Architecture): boolean => a.width === b.width && a.depth === b.depth;
const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9;

/** Architectures of the analysis, sorted by width then depth. */
export function architectures(analysis: Analysis): Architecture[] {
  const seen = new Map<string, Architecture>();
  const add = (a: Architecture): void => {
    if (!seen.has(archKey(a))) seen.set(archKey(a), { width: a.width, depth: a.depth });
  };
  for (const c of analysis.curves) add(c);
  for (const p of analysis.phases) add(p);
  return [...seen.values()].sort((a, b) => a.width - b.width || a.depth - b.depth);
}

/** The p_train values present for an architecture, ascending. */
export function pTrainsOf(analysis: Analysis, a: Architecture): number[] {
  const s = new Set<number>();
  for (const c of analysis.curves) if (sameArch(c, a)) s.add(c.pTrain);
  for (const p of analysis.phases) if (sameArch(p, a)) s.add(p.pTrain);
  return [...s].sort((x, y) => x - y);
}

const CONFIG = {
  font: FONT_STACK,
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal" },
  legend: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: "bold", labelLimit: 420, symbolOpacity: 1 } as Obj,
  title: { fontSize: 13, anchor: "start", subtitleFontSize: 11, subtitleColor: "#444", offset: 8 },
  view: { stroke: "#bbb" },
};

function base(spec: Obj): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    background: "white",
    padding: 8,
    config: CONFIG,
    ...spec,
  } as unknown as TopLevelSpec;
}

const phaseColor = (legend: Obj = {}): Obj => ({
  field: "phase",
  type: "nominal",
  title: "phase",
  scale: { domain: PHASES, range: PHASES.map((p) => PHASE_COLORS[p]) },
  legend,
});

/**
 * Label positions that keep neighbours at least `gap` apart (same units as `ys`), moving
 * labels as little as possible: overlapping labels form a cluster centred on the mean of
 * their wanted positions, and clusters that then overlap merge. Order is preserved.
 */
export function spreadLabels(ys: readonly number[], gap: number): number[] {
  const order = ys.map((_, i) => i).sort((a, b) => ys[a] - ys[b]);
  const clusters: Array<{ members: number[]; first: number }> = [];
  const place = (members: number[]): number => members.reduce((a, i) => a + ys[i], 0) / members.length - (gap * (members.length - 1)) / 2;
  for (const i of order) {
    clusters.push({ members: [i], first: ys[i] });
    while (clusters.length >= 2) {
      const b = clusters[clusters.length - 1];
      const a = clusters[clusters.length - 2];
      if (a.first + gap * a.members.length <= b.first + 1e-12) break;
      const members = [...a.members, ...b.members];
      clusters.splice(clusters.length - 2, 2, { members, first: place(members) });
    }
  }
  const out = new Array<number>(ys.length);
  for (const c of clusters) c.members.forEach((i, k) => (out[i] = c.first + k * gap));
  return out;
}

/**
 * A heat-map axis over grid values: cell i (value v_i) spans [i − ½, i + ½] whatever the
 * spacing of the values (so uneven grids such as 0, 0.5, 0.9, 0.95 get equal cells), ticks
 * sit at cell centres and are labelled with the values. Continuous quantities (boundary
 * positions and their errors) are placed by piecewise-linear interpolation between the
 * grid values, which is exact at grid values and monotone in between.
 */
export interface GridAxis {
  values: number[];
  /** Position of a value in cell coordinates. */
  pos(v: number): number;
  /** Vega-Lite x/y channel settings (title, scale, axis). */
  channel: Obj;
}

export function gridAxis(values: readonly number[], title: string): GridAxis {
  const v = [...new Set(values)].sort((a, b) => a - b);
  const n = v.length;
  const pos = (x: number): number => {
    if (n === 1) return Math.max(-0.5, Math.min(0.5, x - v[0]));
    let i = 0;
    while (i < n - 2 && x > v[i + 1]) i++;
    const t = (x - v[i]) / (v[i + 1] - v[i]);
    return Math.max(-0.5, Math.min(n - 0.5, i + t));
  };
  const labels = JSON.stringify(v.map((x) => String(x)));
  return {
    values: v,
    pos,
    channel: {
      title,
      scale: { domain: [-0.5, n - 0.5], nice: false, zero: false },
      axis: { values: v.map((_, i) => i), labelExpr: `${labels}[datum.value] || ''`, labelOverlap: n > 24, grid: false, tickSize: 4 },
    },
  };
}

/**
 * Which boundary a crossing belongs to: the one with amentia, the eumentia–dementia one, or
 * none (a crossing into or out of "uncertain" is drawn as a point with its error bar, but no
 * boundary line is drawn through it).
 */
export function boundaryFamily(b: { from: Phase; to: Phase }): string {
  if (b.from === "uncertain" || b.to === "uncertain") return UNDECIDED_CROSSING;
  return b.from === "amentia" || b.to === "amentia" ? "amentia boundary" : "eumentia–dementia boundary";
}

const UNDECIDED_CROSSING = "edge of an uncertain region";

interface BoundaryRow extends Obj {
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

const ALONG_P_EVAL = "p_eval,c at fixed p_train";
const ALONG_P_TRAIN = "p_train,c at fixed p_eval";

function boundaryRows(points: readonly BoundaryPoint[], px: (v: number) => number = (v) => v, py: (v: number) => number = (v) => v): BoundaryRow[] {
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

function transition(b: BoundaryPoint): string {
  return `${b.from} → ${b.to}`;
}

const boundaryTooltip = [
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
function boundaryLayers(rows: BoundaryRow[], color: Obj | string, axes: { x: Obj; y: Obj }): Obj[] {
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

// ---------------------------------------------------------------------------------------------
// 1. Phase diagram per architecture, and the overlay of all boundaries
// ---------------------------------------------------------------------------------------------

function heatSize(nx: number, ny: number): { width: number; height: number } {
  return { width: Math.min(640, Math.max(320, 56 * nx)), height: Math.min(480, Math.max(300, 26 * ny)) };
}

export function phaseDiagramSpec(analysis: Analysis, arch: Architecture): TopLevelSpec | null {
  const labels = analysis.phases.filter((p) => sameArch(p, arch));
  if (labels.length === 0) return null;
  const gx = gridAxis(labels.map((l) => l.pTrain), P_TRAIN);
  const gy = gridAxis(labels.map((l) => l.pEval), P_EVAL);
  const cells = labels.map((l) => ({
    x0: gx.pos(l.pTrain) - 0.5,
    x1: gx.pos(l.pTrain) + 0.5,
    y0: gy.pos(l.pEval) - 0.5,
    y1: gy.pos(l.pEval) + 0.5,
    pTrain: l.pTrain,
    pEval: l.pEval,
    phase: l.phase,
    alpha: l.alpha,
    ci: `[${sig(l.alphaCI[0])}, ${sig(l.alphaCI[1])}]`,
    loss: l.lossAtMaxN,
    rule: l.rule,
  }));
  const alphas = labels.map((l) => l.alpha);
  let aLo = Number(Math.min(...alphas).toPrecision(3));
  let aHi = Number(Math.max(...alphas).toPrecision(3));
  if (!(aHi > aLo)) [aLo, aHi] = [aLo - 0.05, aLo + 0.05];
  const b = analysis.boundaries.find((x) => sameArch(x, arch));
  const rows = b ? boundaryRows([...b.pEvalCritical, ...b.pTrainCritical], gx.pos, gy.pos) : [];
  return base({
    title: { text: `Phase diagram — ${archLabel(arch)}`, subtitle: ["colour: phase; shading: exponent α of L ∝ N⁻ᵅ (darker = larger α)", "black: phase boundaries; bands and bars: ± 1σ"] },
    ...heatSize(gx.values.length, gy.values.length),
    layer: [
      {
        data: { values: cells },
        mark: { type: "rect", stroke: "white", strokeWidth: 0.6 },
        encoding: {
          x: { ...gx.channel, field: "x0", type: "quantitative" },
          x2: { field: "x1" },
          y: { ...gy.channel, field: "y0", type: "quantitative" },
          y2: { field: "y1" },
          color: phaseColor(),
          opacity: { field: "alpha", type: "quantitative", title: "α (shading)", scale: { domain: [aLo, aHi], range: [0.3, 1] }, legend: { format: ".2f", tickCount: 4 } },
          tooltip: [
            { field: "phase", title: "phase" },
            { field: "pTrain", title: "p_train" },
            { field: "pEval", title: "p_eval" },
            { field: "alpha", title: "α", format: ".3f" },
            { field: "ci", title: `α ${Math.round(analysis.options.ciLevel * 100)}% CI` },
            { field: "loss", title: "L at largest N", format: ".3f" },
            { field: "rule", title: "rule" },
          ],
        },
      },
      ...boundaryLayers(rows, "black", { x: gx.channel, y: gy.channel }),
    ],
  });
}

export function boundaryOverlaySpec(analysis: Analysis): TopLevelSpec | null {
  const rows: BoundaryRow[] = [];
  for (const b of analysis.boundaries) {
    const label = archLabel(b);
    for (const r of boundaryRows([...b.pEvalCritical, ...b.pTrainCritical])) rows.push({ ...r, architecture: label });
  }
  if (rows.length === 0) return null;
  const xs = [...analysis.input.pTrains, ...rows.map((r) => r.pTrain)];
  const ys = [...analysis.input.pEvals, ...rows.map((r) => r.pEval)];
  const archs = [...new Set(rows.map((r) => String(r.architecture)))];
  const dom = (v: number[]): [number, number] => [Math.max(0, Math.min(...v)), Math.min(1, Math.max(...v))];
  return base({
    title: { text: "Boundaries of all architectures", subtitle: `${archs.length} architecture${archs.length === 1 ? "" : "s"}; bands and bars: ± 1σ` },
    width: 460,
    height: 340,
    layer: boundaryLayers(rows, { field: "architecture", type: "nominal", title: "architecture", scale: { scheme: "category10" } }, {
      x: { title: P_TRAIN, scale: { domain: dom(xs), nice: false, zero: false } },
      y: { title: P_EVAL, scale: { domain: dom(ys), nice: false, zero: false } },
    }),
  });
}

// ---------------------------------------------------------------------------------------------
// 2. Loss vs N with power-law fits
// ---------------------------------------------------------------------------------------------

function logSpace(lo: number, hi: number, count: number): number[] {
  if (count < 2 || !(hi > lo)) return [lo];
  const a = Math.log(lo);
  const b = Math.log(hi);
  return Array.from({ length: count }, (_, i) => Math.exp(a + ((b - a) * i) / (count - 1)));
}

function phaseOf(analysis: Analysis, arch: Architecture, pTrain: number, pEval: number): Phase {
  return analysis.phases.find((p) => sameArch(p, arch) && close(p.pTrain, pTrain) && close(p.pEval, pEval))?.phase ?? "uncertain";
}

export function lossVsNSpec(analysis: Analysis, arch: Architecture, pTrain: number): TopLevelSpec | null {
  const curves = analysis.curves.filter((c) => sameArch(c, arch) && close(c.pTrain, pTrain) && c.points.length > 0).sort((a, b) => a.pEval - b.pEval);
  if (curves.length === 0) return null;
  const points: Obj[] = [];
  const labels: Obj[] = [];
  const fits: Obj[] = [];
  for (const c of curves) {
    const phase = phaseOf(analysis, arch, pTrain, c.pEval);
    for (const p of c.points) {
      points.push({ n: p.n, loss: p.mean, lo: Math.max(p.mean - p.stderr, p.mean * 0.05), hi: p.mean + p.stderr, stderr: p.stderr, accuracy: p.accuracy, pEval: c.pEval, phase, seeds: p.seeds.length });
    }
    const last = c.points[c.points.length - 1];
    labels.push({ n: last.n, loss: last.mean, phase, text: `p_eval = ${c.pEval}` });
    const fit = analysis.fits.find((f) => sameArch(f, arch) && close(f.pTrain, pTrain) && close(f.pEval, c.pEval));
    if (fit) {
      const pl = fit.powerLaw;
      for (const n of logSpace(c.points[0].n, last.n, 24)) fits.push({ n, fit: pl.amplitude * Math.pow(n, -pl.alpha), pEval: c.pEval, phase, alpha: pl.alpha, alphaErr: pl.alphaErr, model: "power-law fit A·N^−α" });
    }
  }
  // Labels at the right end of each curve, spread apart by ≥ 11 px on the log axis.
  const HEIGHT = 340;
  const ys = [...points.flatMap((p) => [Math.log(p.lo as number), Math.log(p.hi as number)]), ...fits.map((f) => Math.log(f.fit as number))];
  const range = Math.max(1e-9, Math.max(...ys) - Math.min(...ys));
  const spread = spreadLabels(
    labels.map((l) => Math.log(l.loss as number)),
    (11 * range) / HEIGHT,
  );
  labels.forEach((l, i) => (l.ly = Math.exp(spread[i])));
  const tooltip = [
    { field: "pEval", title: "p_eval" },
    { field: "n", title: "N" },
    { field: "loss", title: "L", format: ".4f" },
    { field: "stderr", title: "± (1σ)", format: ".4f" },
    { field: "accuracy", title: "test accuracy", format: ".3f" },
    { field: "phase", title: "phase" },
  ];
  const x = { field: "n", type: "quantitative", title: "N (training-set size)", scale: { type: "log", nice: false, padding: 8 } };
  const y = { type: "quantitative", title: "L (test cross-entropy, nats)", scale: { type: "log", nice: false, padding: 8 } };
  const layers: Obj[] = [];
  if (fits.length > 0) {
    layers.push({
      data: { values: fits },
      mark: { type: "line", strokeWidth: 1.3, strokeDash: [5, 3], clip: true },
      encoding: {
        x,
        y: { ...y, field: "fit" },
        color: phaseColor(),
        detail: { field: "pEval" },
        tooltip: [
          { field: "pEval", title: "p_eval" },
          { field: "alpha", title: "fitted α", format: ".3f" },
          { field: "alphaErr", title: "± (1σ)", format: ".3f" },
        ],
      },
    });
  }
  layers.push(
    { data: { values: points }, mark: { type: "line", strokeWidth: 0.8, opacity: 0.45, clip: true }, encoding: { x, y: { ...y, field: "loss" }, color: phaseColor(), detail: { field: "pEval" } } },
    { data: { values: points }, mark: { type: "rule", strokeWidth: 1.2, clip: true }, encoding: { x, y: { ...y, field: "lo" }, y2: { field: "hi" }, color: phaseColor() } },
    { data: { values: points }, mark: { type: "point", filled: true, size: 36, opacity: 0.95, clip: true }, encoding: { x, y: { ...y, field: "loss" }, color: phaseColor(), tooltip } },
    { data: { values: labels }, mark: { type: "text", align: "left", dx: 7, fontSize: 10 }, encoding: { x, y: { ...y, field: "ly" }, text: { field: "text" }, color: phaseColor() } },
  );
  return base({
    title: { text: `Loss vs N — ${archLabel(arch)}, p_train = ${pTrain}`, subtitle: `points: mean over seeds ± 1σ; dashed: fitted power laws L = A·N⁻ᵅ; one curve per p_eval` },
    width: 480,
    height: HEIGHT,
    layer: layers,
    config: { ...CONFIG, legend: { ...CONFIG.legend, offset: 78 } },
  });
}

// ---------------------------------------------------------------------------------------------
// 3. α vs p_eval
// ---------------------------------------------------------------------------------------------

function criticalsAlongEval(analysis: Analysis, arch: Architecture, pTrain: number): BoundaryPoint[] {
  const b = analysis.boundaries.find((x) => sameArch(x, arch));
  return b ? b.pEvalCritical.filter((p) => close(p.fixed, pTrain)) : [];
}

export function alphaVsPEvalSpec(analysis: Analysis, arch: Architecture, pTrain: number): TopLevelSpec | null {
  const fits = analysis.fits.filter((f) => sameArch(f, arch) && close(f.pTrain, pTrain)).sort((a, b) => a.pEval - b.pEval);
  if (fits.length === 0) return null;
  const ci = Math.round(fits[0].powerLaw.ciLevel * 100);
  const rows = fits.map((f) => ({
    pEval: f.pEval,
    alpha: f.powerLaw.alpha,
    lo: f.powerLaw.alphaCI[0],
    hi: f.powerLaw.alphaCI[1],
    alphaErr: f.powerLaw.alphaErr,
    phase: phaseOf(analysis, arch, pTrain, f.pEval),
    chi2: f.powerLaw.reducedChi2,
  }));
  const crit = criticalsAlongEval(analysis, arch, pTrain).map((b) => ({ critical: b.critical, lo: b.critical - b.criticalErr, hi: b.critical + b.criticalErr, err: b.criticalErr, transition: transition(b), method: b.method }));
  const x = { field: "pEval", type: "quantitative", title: P_EVAL, scale: { zero: false, nice: false, padding: 12 } };
  const layers: Obj[] = [{ data: { values: [{ zero: 0 }] }, mark: { type: "rule", color: "#555", strokeWidth: 1 }, encoding: { y: { field: "zero", type: "quantitative" } } }];
  if (crit.length > 0) {
    layers.push(
      { data: { values: crit }, mark: { type: "rect", color: "#444", opacity: 0.12 }, encoding: { x: { field: "lo", type: "quantitative" }, x2: { field: "hi" } } },
      {
        data: { values: crit },
        mark: { type: "rule", color: "#222", strokeDash: [4, 3], strokeWidth: 1.5 },
        encoding: {
          x: { field: "critical", type: "quantitative" },
          tooltip: [
            { field: "transition", title: "boundary" },
            { field: "critical", title: "p_eval,c", format: ".3f" },
            { field: "err", title: "± (1σ)", format: ".3f" },
            { field: "method", title: "method" },
          ],
        },
      },
    );
  }
  layers.push(
    { data: { values: rows }, mark: { type: "rule", strokeWidth: 1.5 }, encoding: { x, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color: phaseColor() } },
    {
      data: { values: rows },
      mark: { type: "point", filled: true, size: 55, opacity: 1 },
      encoding: {
        x,
        y: { field: "alpha", type: "quantitative", title: "α (L ∝ N⁻ᵅ)" },
        color: phaseColor(),
        tooltip: [
          { field: "pEval", title: "p_eval" },
          { field: "alpha", title: "α", format: ".3f" },
          { field: "lo", title: `${ci}% CI low`, format: ".3f" },
          { field: "hi", title: `${ci}% CI high`, format: ".3f" },
          { field: "phase", title: "phase" },
          { field: "chi2", title: "χ²/dof", format: ".2f" },
        ],
      },
    },
  );
  return base({
    title: {
      text: `Exponent α vs p_eval — ${archLabel(arch)}, p_train = ${pTrain}`,
      subtitle: crit.length > 0 ? `bars: ${ci}% CI; dashed line and band: boundary p_eval,c ± 1σ` : `bars: ${ci}% CI; no phase boundary found along p_eval on this line`,
    },
    width: 440,
    height: 300,
    layer: layers,
  });
}

// ---------------------------------------------------------------------------------------------
// 4. Length scale N* vs p with BKT and power-law fits
// ---------------------------------------------------------------------------------------------

const CENSOR_LABEL = { none: "minimum inside the N range", below: "N* < smallest N (censored)", above: "N* > largest N (censored)" } as const;

/** ln N* of a length-scale fit at p (null where the form is undefined). */
export function lengthScaleCurve(fit: LengthScaleFit, p: number): number | null {
  const d = Math.abs(p - fit.pc);
  if (!(d > 0)) return null;
  if (fit.form === "bkt") {
    const { lnN0, b, sigma } = fit.params;
    if (![lnN0, b, sigma].every(Number.isFinite)) return null;
    return lnN0 + b * Math.pow(d, -sigma);
  }
  const { lnA, nu } = fit.params;
  if (![lnA, nu].every(Number.isFinite)) return null;
  return lnA - nu * Math.log(d);
}

export function fitLabel(fit: LengthScaleFit): string {
  const chi = fit.reducedChi2 === null ? `χ² = ${sig(fit.chi2)} (dof 0)` : `χ²/dof = ${sig(fit.reducedChi2)}`;
  if (fit.form === "bkt") return `BKT: p_c = ${pm(fit.pc, fit.pcErr)}, σ = ${fit.sigmaFixed ? `${sig(fit.params.sigma)} (fixed)` : pm(fit.params.sigma, fit.paramErrs.sigma)}, ${chi}`;
  return `power law: p_c = ${pm(fit.pc, fit.pcErr)}, ν = ${pm(fit.params.nu, fit.paramErrs.nu)}, ${chi}`;
}

export function lengthScaleSpec(analysis: Analysis, arch: Architecture, pTrain: number): TopLevelSpec | null {
  const cross = analysis.crossovers.filter((c) => sameArch(c, arch) && close(c.pTrain, pTrain)).sort((a, b) => a.pEval - b.pEval);
  if (cross.length === 0) return null;
  const maxN = Math.max(...analysis.input.sizes, ...cross.map((c) => c.nStar));
  const minN = Math.min(...analysis.input.sizes, ...cross.map((c) => c.nStar));
  const points = cross.map((c) => ({
    p: c.pEval,
    nStar: c.nStar,
    lo: c.lnNStarErr === null ? c.nStar : Math.exp(c.lnNStar - c.lnNStarErr),
    hi: c.lnNStarErr === null ? c.nStar : Math.exp(c.lnNStar + c.lnNStarErr),
    err: c.lnNStarErr,
    status: CENSOR_LABEL[c.censored],
    significant: c.significant ? "yes" : "no",
  }));
  const fits = analysis.lengthScaleFits.filter((f) => sameArch(f, arch) && close(f.pTrain, pTrain));
  const curve: Obj[] = [];
  const pcs: Obj[] = [];
  for (const f of fits) {
    const label = fitLabel(f);
    const ps = f.points.map((q) => q.p);
    if (ps.length === 0) continue;
    const lo = Math.min(...ps);
    const hi = Math.max(...ps);
    const count = 80;
    for (let i = 0; i < count; i++) {
      const p = hi > lo ? lo + ((hi - lo) * i) / (count - 1) : lo;
      const ln = lengthScaleCurve(f, p);
      if (ln === null || !Number.isFinite(ln) || ln > Math.log(maxN) + 3 || ln < Math.log(minN) - 3) continue;
      curve.push({ p, nStar: Math.exp(ln), fit: label, side: p < f.pc ? "below" : "above" });
    }
    pcs.push({ pc: f.pc, fit: label });
  }
  const x = { field: "p", type: "quantitative", title: P_EVAL, scale: { zero: false, nice: false, padding: 12 } };
  const y = { type: "quantitative", title: "N* (crossover training-set size)", scale: { type: "log", nice: false, padding: 8 } };
  const layers: Obj[] = [];
  const fitColor = { field: "fit", type: "nominal", title: "fit of ln N*(p)", scale: { range: ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"] }, legend: { orient: "bottom", direction: "vertical", labelLimit: 640 } };
  if (curve.length > 0) layers.push({ data: { values: curve }, mark: { type: "line", strokeWidth: 1.8 }, encoding: { x, y: { ...y, field: "nStar" }, color: fitColor, detail: { field: "side" } } });
  if (pcs.length > 0) layers.push({ data: { values: pcs }, mark: { type: "rule", strokeDash: [4, 3], strokeWidth: 1.2 }, encoding: { x: { field: "pc", type: "quantitative" }, color: fitColor } });
  layers.push(
    { data: { values: points }, mark: { type: "rule", strokeWidth: 1.4, color: "#222" }, encoding: { x, y: { ...y, field: "lo" }, y2: { field: "hi" } } },
    {
      data: { values: points },
      mark: { type: "point", size: 60, filled: true, color: "#222", opacity: 1 },
      encoding: {
        x,
        y: { ...y, field: "nStar" },
        shape: { field: "status", type: "nominal", title: "N*", scale: { domain: Object.values(CENSOR_LABEL), range: ["circle", "triangle-down", "triangle-up"] }, legend: { orient: "bottom", direction: "vertical" } },
        tooltip: [
          { field: "p", title: "p_eval" },
          { field: "nStar", title: "N*", format: ".0f" },
          { field: "err", title: "± ln N* (1σ)", format: ".3f" },
          { field: "status", title: "status" },
          { field: "significant", title: "minimum significant" },
        ],
      },
    },
  );
  return base({
    title: {
      text: `Crossover size N* vs p_eval — ${archLabel(arch)}, p_train = ${pTrain}`,
      subtitle: fits.length === 0 ? "no N*(p) fit for this line (too few uncensored, significant N*)" : "curves: fits of ln N*(p); dashed verticals: their p_c",
    },
    width: 440,
    height: 300,
    layer: layers,
    resolve: { legend: { shape: "independent" } },
  });
}

// ---------------------------------------------------------------------------------------------
// 5. Collapse: power law and BKT side by side
// ---------------------------------------------------------------------------------------------

/** Wraps text into lines of at most `width` characters (at spaces). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = "";
  for (const word of text.split(/\s+/)) {
    if (cur && cur.length + 1 + word.length > width) {
      lines.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(cur);
  return lines;
}

export function collapseTitle(r: CollapseResult): string[] {
  const lines = [`p_c = ${pm(r.pc, r.pcErr)}`];
  if (r.form === "power") lines.push(`ν = ${pm(r.nu, r.nuErr)},  β = ${pm(r.beta, r.betaErr)}`);
  else {
    lines.push(r.sigmaErr === null && r.sigma !== null ? `σ = ${sig(r.sigma)} (fixed),  β = ${pm(r.beta, r.betaErr)}` : `σ = ${pm(r.sigma, r.sigmaErr)},  β = ${pm(r.beta, r.betaErr)}`);
    lines.push(`N₀ = ${pm(r.n0, r.n0Err)}`);
  }
  lines.push(`χ²/dof = ${sig(r.chi2)} (dof ${r.dof});  errors: ${r.errorMethod}`);
  lines.push(r.confident ? "confident collapse" : "not confident");
  return lines;
}

function collapsePanel(c: CollapseComparison, form: "power" | "bkt"): Obj {
  const r = form === "power" ? c.power : c.bkt;
  const name = form === "power" ? "Power-law form" : "BKT form";
  if (!r) {
    return {
      title: { text: name, subtitle: "no result" },
      width: 300,
      height: 260,
      data: { values: [{ text: `no ${form === "power" ? "power-law" : "BKT"} collapse: ${c.note ?? "the fit did not run"}` }] },
      mark: { type: "text", fontSize: 11, color: "#555", limit: 290 },
      encoding: { text: { field: "text" } },
    };
  }
  const rows = r.points.map((p) => ({ x: p.x, y: p.y, lo: p.y - p.dy, hi: p.y + p.dy, dy: p.dy, size: p.size, p: p.p }));
  const xTitle = form === "power" ? "(p_eval − p_c)·N^(1/ν)" : "(p_eval − p_c)·(ln(N/N₀))^(1/σ)";
  const yTitle = form === "power" ? "L·N^(β/ν)" : "L·N^β";
  const color = { field: "size", type: "ordinal", title: "N", scale: { scheme: "viridis" } };
  const subtitle = collapseTitle(r);
  if (!r.confident && r.notes.length > 0) subtitle.push(...wrap(r.notes[0], 52).slice(0, 3));
  return {
    title: { text: name, subtitle, subtitleLineHeight: 14 },
    width: 320,
    height: 260,
    layer: [
      { data: { values: rows }, mark: { type: "rule", strokeWidth: 1, opacity: 0.8 }, encoding: { x: { field: "x", type: "quantitative" }, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color } },
      {
        data: { values: rows },
        mark: { type: "point", filled: true, size: 30, opacity: 0.9 },
        encoding: {
          x: { field: "x", type: "quantitative", title: xTitle, scale: { zero: false } },
          y: { field: "y", type: "quantitative", title: yTitle, scale: { zero: false } },
          color,
          tooltip: [
            { field: "size", title: "N" },
            { field: "p", title: "p_eval" },
            { field: "x", title: "x", format: ".4g" },
            { field: "y", title: "y", format: ".4g" },
            { field: "dy", title: "± (1σ)", format: ".3g" },
          ],
        },
      },
    ],
  };
}

export function collapseSpec(c: CollapseComparison): TopLevelSpec {
  const panels = [collapsePanel(c, "power"), collapsePanel(c, "bkt")];
  // Same number of subtitle lines in both panels, so that the two plots line up.
  const subs = panels.map((p) => (p.title as { subtitle: string | string[] }).subtitle);
  const lines = Math.max(...subs.map((x) => (Array.isArray(x) ? x.length : 1)));
  panels.forEach((p, i) => {
    const sub = subs[i];
    const arr = Array.isArray(sub) ? [...sub] : [sub];
    while (arr.length < lines) arr.push(" ");
    (p.title as { subtitle: string[] }).subtitle = arr;
  });
  return base({
    title: {
      text: `Finite-size-scaling collapse — ${archLabel(c)}, p_train = ${c.pTrain}, p_eval ∈ [${sig(c.pRange[0])}, ${sig(c.pRange[1])}]`,
      subtitle: `preferred form: ${c.preferred}${c.note ? ` — ${c.note}` : ""}`,
    },
    hconcat: panels,
    spacing: 40,
    resolve: { scale: { color: "shared" }, legend: { color: "shared" } },
  });
}

// ---------------------------------------------------------------------------------------------
// 6. Test accuracy heat map
// ---------------------------------------------------------------------------------------------

export function accuracySpec(analysis: Analysis, arch: Architecture): TopLevelSpec | null {
  const curves = analysis.curves.filter((c) => sameArch(c, arch) && c.points.length > 0);
  if (curves.length === 0) return null;
  const gx = gridAxis(curves.map((c) => c.pTrain), P_TRAIN);
  const gy = gridAxis(curves.map((c) => c.pEval), P_EVAL);
  const ns = new Set<number>();
  const cells = curves.map((c) => {
    const last = c.points[c.points.length - 1];
    ns.add(last.n);
    const x = gx.pos(c.pTrain);
    const y = gy.pos(c.pEval);
    return { x0: x - 0.5, x1: x + 0.5, y0: y - 0.5, y1: y + 0.5, xm: x, ym: y, pTrain: c.pTrain, pEval: c.pEval, accuracy: last.accuracy, n: last.n };
  });
  const nText = ns.size === 1 ? `N = ${[...ns][0]}` : "the largest N of each curve";
  const size = heatSize(gx.values.length, gy.values.length);
  const showText = size.width / gx.values.length >= 30 && size.height / gy.values.length >= 14;
  const layers: Obj[] = [
    {
      mark: { type: "rect", stroke: "white", strokeWidth: 0.6 },
      encoding: {
        x: { ...gx.channel, field: "x0", type: "quantitative" },
        x2: { field: "x1" },
        y: { ...gy.channel, field: "y0", type: "quantitative" },
        y2: { field: "y1" },
        color: { field: "accuracy", type: "quantitative", title: "test accuracy", scale: { domain: [0, 1], scheme: "viridis" }, legend: { format: ".0%" } },
        tooltip: [
          { field: "pTrain", title: "p_train" },
          { field: "pEval", title: "p_eval" },
          { field: "n", title: "N" },
          { field: "accuracy", title: "test accuracy", format: ".2%" },
        ],
      },
    },
  ];
  if (showText) {
    layers.push({
      mark: { type: "text", fontSize: 10 },
      encoding: {
        x: { ...gx.channel, field: "xm", type: "quantitative" },
        y: { ...gy.channel, field: "ym", type: "quantitative" },
        text: { field: "accuracy", format: ".0%" },
        color: { condition: { test: "datum.accuracy < 0.6", value: "white" }, value: "black" },
      },
    });
  }
  return base({
    title: { text: `Test accuracy — ${archLabel(arch)}`, subtitle: `mean over seeds at ${nText}; chance = 10%` },
    ...size,
    data: { values: cells },
    layer: layers,
  });
}

// ---------------------------------------------------------------------------------------------
// All figures
// ---------------------------------------------------------------------------------------------

const NO_DATA = "no data for this choice";

/** Every figure of the report, in page order. */
export function buildFigures(analysis: Analysis): Figure[] {
  const archs = architectures(analysis);
  const lines = archs.flatMap((a) => pTrainsOf(analysis, a).map((pTrain) => ({ arch: a, pTrain })));
  const perArch = (make: (a: Architecture) => TopLevelSpec | null, none: string): FigureVariant[] =>
    archs.map((a) => {
      const spec = make(a);
      return spec ? { key: archKey(a), label: archLabel(a), spec } : { key: archKey(a), label: archLabel(a), note: none };
    });
  const perLine = (make: (a: Architecture, p: number) => TopLevelSpec | null, none: string): FigureVariant[] =>
    lines.map(({ arch, pTrain }) => {
      const spec = make(arch, pTrain);
      const label = `${archLabel(arch)}, p_train = ${pTrain}`;
      return spec ? { key: lineKey(arch, pTrain), label, spec } : { key: lineKey(arch, pTrain), label, note: none };
    });
  const figures: Figure[] = [];

  figures.push({
    id: "fig1-phase-diagram",
    title: "1. Phase diagram",
    caption:
      "Each cell is one loss curve L(N) at (p_train, p_eval), coloured by its phase and shaded by its scaling exponent α (darker = faster learning with N). Black lines and grey bands are the boundaries between two decided phases with their 1σ errors; every crossing between neighbouring cells of different labels is marked with its error bar (circles: located along p_eval at fixed p_train; diamonds: along p_train at fixed p_eval).",
    dims: "arch",
    variants: perArch((a) => phaseDiagramSpec(analysis, a), "no phase labels for this architecture"),
  });

  const overlay = boundaryOverlaySpec(analysis);
  figures.push({
    id: "fig1b-boundary-overlay",
    title: "1b. Boundaries of all architectures",
    caption: "The phase boundaries of every width and depth on one plane: if the phases are a robust property of pruning, the curves of different architectures should lie on top of each other within their error bands.",
    dims: "none",
    variants: overlay ? [{ key: "all", label: "all architectures", spec: overlay }] : [],
    note: overlay ? undefined : "No phase boundary was found in this sweep (every grid line stays in one phase), so there is no boundary to overlay.",
  });

  figures.push({
    id: "fig2-loss-vs-n",
    title: "2. Loss vs training-set size",
    caption:
      "Test loss L against N on log-log axes for the chosen p_train, one curve per p_eval, coloured by phase. In eumentia L falls as a power law N⁻ᵅ (a straight line with slope −α); in dementia it is flat or rises with N; in amentia it stays near chance (ln 10 ≈ 2.30). Dashed lines are the fitted power laws.",
    dims: "line",
    variants: perLine((a, p) => lossVsNSpec(analysis, a, p), NO_DATA),
  });

  figures.push({
    id: "fig3-alpha-vs-peval",
    title: "3. Scaling exponent α vs p_eval",
    caption: "The exponent α of L ∝ N⁻ᵅ at each p_eval with its confidence interval. The eumentia–dementia boundary is where α crosses zero (dashed line, band = ± 1σ).",
    dims: "line",
    variants: perLine((a, p) => alphaVsPEvalSpec(analysis, a, p), NO_DATA),
  });

  const anyCross = analysis.crossovers.length > 0;
  figures.push({
    id: "fig4-length-scale",
    title: "4. Crossover size N* near the boundary",
    caption:
      "Where L(N) first falls and then rises, N* is the size of its minimum (error bars ± 1σ of ln N*; triangles mark N* outside the sampled range). A diverging N* as p_eval approaches the boundary is fitted with the BKT form ln N* = ln N₀ + b·|p − p_c|^(−σ) and with a power law N* ∝ |p − p_c|^(−ν); compare their χ².",
    dims: "line",
    variants: anyCross ? perLine((a, p) => lengthScaleSpec(analysis, a, p), "no non-monotonic loss curve on this line, so no N*") : [],
    note: anyCross ? undefined : "No loss curve of this sweep is non-monotonic in N (none falls and then rises), so there is no crossover size N* to plot or fit. Larger N ranges or p_eval closer to the eumentia–dementia boundary may show one.",
  });

  const anyCollapse = analysis.collapses.length > 0;
  figures.push({
    id: "fig5-collapse",
    title: "5. Finite-size-scaling collapse",
    caption:
      "The loss curves near the boundary rescaled by the power-law form (left) and the BKT form (right). If a form is right, points of all N fall on one curve; each panel gives its fitted parameters ± 1σ and the reduced χ² of the collapse (≈ 1 is a good collapse).",
    dims: "line",
    variants: anyCollapse
      ? lines.map(({ arch, pTrain }) => {
          const c = analysis.collapses.find((x) => sameArch(x, arch) && close(x.pTrain, pTrain));
          const label = `${archLabel(arch)}, p_train = ${pTrain}`;
          return c ? { key: lineKey(arch, pTrain), label, spec: collapseSpec(c) } : { key: lineKey(arch, pTrain), label, note: "no collapse was fitted on this line (no boundary along p_eval, or too few points near it)" };
        })
      : [],
    note: anyCollapse ? undefined : "No finite-size-scaling collapse was fitted in this sweep (it needs a boundary along p_eval and several N near it).",
  });

  figures.push({
    id: "fig6-accuracy",
    title: "6. Test accuracy",
    caption: "Mean test accuracy of the networks trained on the most data, over the same p_train × p_eval grid as the phase diagram.",
    dims: "arch",
    variants: perArch((a) => accuracySpec(analysis, a), "no loss curves for this architecture"),
  });

  return figures;
}
