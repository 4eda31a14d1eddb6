/**
 * Figure 1b: the boundaries of every architecture on one plane; figure 1c: per architecture,
 * the boundaries of its width at every depth and of its depth at every width (the paper's
 * claim 3: the phase structure does not depend on the architecture).
 */
import type { TopLevelSpec } from "vega-lite";
import type { Analysis, Architecture } from "../../analysis/schema.js";
import { boundaryLayers, boundaryRows, type BoundaryRow } from "./boundaries.js";
import { archLabel, base, gridAxis, P_EVAL, P_TRAIN, type Obj } from "./common.js";

export interface OverlayOptions {
  /** Which architectures to draw (default: all). */
  keep?: (a: Architecture) => boolean;
  /** What the colour says: the architecture (default), its depth or its width. */
  by?: "architecture" | "depth" | "width";
  title?: string;
  width?: number;
  height?: number;
}

export function boundaryOverlaySpec(analysis: Analysis, opts: OverlayOptions = {}): TopLevelSpec | null {
  const panel = overlayPanel(analysis, opts);
  return panel ? base(panel) : null;
}

function overlayPanel(analysis: Analysis, opts: OverlayOptions): Obj | null {
  const by = opts.by ?? "architecture";
  const rows: BoundaryRow[] = [];
  for (const b of analysis.boundaries) {
    if (opts.keep && !opts.keep(b)) continue;
    const label = by === "depth" ? `depth ${b.depth}` : by === "width" ? `width ${b.width}` : archLabel(b);
    for (const r of boundaryRows([...b.pEvalCritical, ...b.pTrainCritical])) rows.push({ ...r, [by]: label, order: by === "depth" ? b.depth : b.width * 100 + b.depth });
  }
  if (rows.length === 0) return null;
  const labels = [...new Map(rows.map((r) => [String(r[by]), Number(r.order)])).entries()].sort((a, b) => a[1] - b[1]).map(([l]) => l);
  const w = opts.width ?? 460;
  const h = opts.height ?? 340;
  // The phase diagrams' axes: to scale, ticks at the grid values, and half a cell of room
  // beyond the first and last value so that no crossing marker at the edge is cut.
  const gx = gridAxis(analysis.input.pTrains, P_TRAIN, w, "x");
  const gy = gridAxis(analysis.input.pEvals, P_EVAL, h, "y");
  return {
    title: { text: opts.title ?? "Boundaries of all architectures", subtitle: `${labels.length} ${by === "architecture" ? "architecture" : by}${labels.length === 1 ? "" : "s"}; bands and bars: ± 1σ` },
    width: w,
    height: h,
    layer: boundaryLayers(rows, { field: by, type: "nominal", title: by, scale: { domain: labels, scheme: "category10" }, sort: labels }, {
      x: gx.channel,
      y: gy.channel,
    }),
  };
}

/** Figure 1c for one architecture: its width at every depth beside its depth at every width (null if neither has two). */
export function boundaryAcrossSpec(analysis: Analysis, arch: Architecture): TopLevelSpec | null {
  const archs = analysis.boundaries;
  const depths = new Set(archs.filter((b) => b.width === arch.width).map((b) => b.depth));
  const widths = new Set(archs.filter((b) => b.depth === arch.depth).map((b) => b.width));
  const size = { width: 320, height: 260 };
  const panels = [
    depths.size > 1 ? overlayPanel(analysis, { keep: (b) => b.width === arch.width, by: "depth", title: `Width ${arch.width}, every depth`, ...size }) : null,
    widths.size > 1 ? overlayPanel(analysis, { keep: (b) => b.depth === arch.depth, by: "width", title: `Depth ${arch.depth}, every width`, ...size }) : null,
  ].filter((p): p is Obj => p !== null);
  if (panels.length === 0) return null;
  return base({ hconcat: panels, resolve: { scale: { color: "independent" }, legend: { color: "independent", shape: "shared", strokeDash: "shared" } } });
}
