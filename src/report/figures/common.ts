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
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    background: "white",
    padding: 8,
    config: CONFIG,
    ...spec,
  } as unknown as TopLevelSpec;
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

export function heatSize(nx: number, ny: number): { width: number; height: number } {
  return { width: Math.min(640, Math.max(320, 56 * nx)), height: Math.min(480, Math.max(300, 26 * ny)) };
}

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


