/**
 * Shared parts of the report's figures: figure and variant types, phase colours, keys and
 * labels, the Vega-Lite base config, grid axes and small helpers. One module per figure
 * sits next to this one; src/report/figures.ts lists them in page order.
 */
import type { TopLevelSpec } from "vega-lite";
import type { Analysis, Architecture, Phase } from "../../analysis/schema.js";
import { FONT_STACK } from "../render.js";

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

export const P_TRAIN = "p_train (training dropout)";
export const P_EVAL = "p_eval (evaluation removal)";

/** Loose spec objects inside this module; the public builders return TopLevelSpec. */
export type Obj = Record<string, unknown>;

export function archKey(a: Architecture): string {
  return `w${a.width}-d${a.depth}`;
}

export function lineKey(a: Architecture, pTrain: number): string {
  return `${archKey(a)}-pt${pTrain}`;
}

export function archLabel(a: Architecture): string {
  return `width ${a.width}, depth ${a.depth}`;
}

export const sameArch = (a: Architecture, b: Architecture): boolean => a.width === b.width && a.depth === b.depth;
export const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9;

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

export const CONFIG = {
  font: FONT_STACK,
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal" },
  legend: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: "bold", labelLimit: 420, symbolOpacity: 1 } as Obj,
  title: { fontSize: 13, anchor: "start", subtitleFontSize: 11, subtitleColor: "#444", offset: 8 },
  view: { stroke: "#bbb" },
};

export function base(spec: Obj): TopLevelSpec {
  return describeMarks({
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    background: "white",
    padding: 8,
    config: CONFIG,
    ...spec,
  }) as unknown as TopLevelSpec;
}

/**
 * Hover text = the tooltip fields only. Vega describes a data mark by every encoded channel
 * (plot coordinates such as x0, x1 included); this sets each mark's description to its
 * tooltip's "title: value" list, and marks without a tooltip (lines, bands, error bars) get no
 * description, so they neither show nor announce internal values.
 */
function describeMarks(spec: Obj): Obj {
  const out: Obj = { ...spec };
  for (const k of ["layer", "hconcat", "vconcat"]) if (Array.isArray(out[k])) out[k] = (out[k] as Obj[]).map(describeMarks);
  if (out.mark === undefined) return out;
  const enc = (out.encoding ?? {}) as Obj;
  const mark = typeof out.mark === "string" ? { type: out.mark } : (out.mark as Obj);
  const tips = Array.isArray(enc.tooltip) ? (enc.tooltip as Array<{ field: string; title?: string; format?: string }>) : null;
  if (!tips) {
    out.mark = { ...mark, aria: false };
    return out;
  }
  const q = (t: string): string => JSON.stringify(t).replace(/'/g, "\\'");
  const expr = tips.map((t, i) => `${q(`${i ? "; " : ""}${t.title ?? t.field}: `)} + ${t.format ? `format(datum[${q(t.field)}], ${q(t.format)})` : `datum[${q(t.field)}]`}`).join(" + ");
  out.transform = [...((out.transform as Obj[]) ?? []), { calculate: expr, as: "_description" }];
  out.encoding = { ...enc, description: { field: "_description" } };
  return out;
}

export const phaseColor = (legend: Obj = {}): Obj => ({
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
 * A heat-map axis drawn to scale: a linear axis over the rates, with cell i (grid value v_i)
 * spanning halfway to its neighbours (at the ends, half the gap to the one neighbour), so an
 * uneven grid such as 0, 0.5, 0.9, 0.95, 0.99 gets cells of its true widths, and boundary
 * positions, their error bars and slopes sit where their values are. Ticks are at the grid
 * values; labels turn vertical (x) or are thinned (y) where the grid is too dense for them.
 */
export interface GridAxis {
  values: number[];
  /** The extent [lo, hi] of the cell of grid value v. */
  cell(v: number): [number, number];
  /** Vega-Lite x/y channel settings (title, scale, axis). */
  channel: Obj;
}

export function gridAxis(values: readonly number[], title: string, lengthPx: number, orient: "x" | "y"): GridAxis {
  const v = [...new Set(values)].sort((a, b) => a - b);
  const n = v.length;
  const half = (i: number): [number, number] => {
    if (n === 1) return [v[0] - 0.05, v[0] + 0.05];
    const left = i > 0 ? (v[i] - v[i - 1]) / 2 : (v[1] - v[0]) / 2;
    const right = i < n - 1 ? (v[i + 1] - v[i]) / 2 : (v[n - 1] - v[n - 2]) / 2;
    return [v[i] - left, v[i] + right];
  };
  const extents = v.map((_, i) => half(i));
  const domain: [number, number] = [extents[0][0], extents[n - 1][1]];
  const pxPerUnit = lengthPx / (domain[1] - domain[0]);
  const minGapPx = n > 1 ? Math.min(...v.slice(1).map((x, i) => x - v[i])) * pxPerUnit : Infinity;
  const longest = Math.max(...v.map((x) => String(x).length));
  // About 6.5 px per character at 11 px; a vertical label needs ~13 px of room.
  const vertical = orient === "x" && minGapPx < longest * 6.5 + 6;
  const crowded = minGapPx < 13;
  return {
    values: v,
    cell: (x: number): [number, number] => extents[v.indexOf(x)] ?? [x, x],
    channel: {
      title,
      scale: { domain, nice: false, zero: false },
      axis: { values: v, labelExpr: "format(datum.value, '')", labelOverlap: crowded ? "greedy" : false, grid: false, tickSize: 4, ...(vertical ? { labelAngle: -90, labelAlign: "right", labelBaseline: "middle" } : {}) },
    },
  };
}

/** A rect mark filling each grid cell: data rows carry x0, x1 (p_train extent) and y0, y1 (p_eval extent). */
export function gridCellMark(gx: GridAxis, gy: GridAxis, encoding: Obj): Obj {
  return {
    mark: { type: "rect", stroke: "white", strokeWidth: 0.6 },
    encoding: {
      x: { ...gx.channel, field: "x0", type: "quantitative" },
      x2: { field: "x1" },
      y: { ...gy.channel, field: "y0", type: "quantitative" },
      y2: { field: "y1" },
      ...encoding,
    },
  };
}

/** Plot area of the heat maps (drawn to scale, so not dependent on the number of grid values). */
export const HEAT_SIZE = { width: 520, height: 400 } as const;

export function logSpace(lo: number, hi: number, count: number): number[] {
  if (count < 2 || !(hi > lo)) return [lo];
  const a = Math.log(lo);
  const b = Math.log(hi);
  return Array.from({ length: count }, (_, i) => Math.exp(a + ((b - a) * i) / (count - 1)));
}

export function phaseOf(analysis: Analysis, arch: Architecture, pTrain: number, pEval: number): Phase {
  return analysis.phases.find((p) => sameArch(p, arch) && close(p.pTrain, pTrain) && close(p.pEval, pEval))?.phase ?? "uncertain";
}

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


