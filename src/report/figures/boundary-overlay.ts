/** Figure 1b: the boundaries of every architecture on one plane. */
import type { TopLevelSpec } from "vega-lite";
import type { Analysis } from "../../analysis/schema.js";
import { boundaryLayers, boundaryRows, type BoundaryRow } from "./boundaries.js";
import { archLabel, base, P_EVAL, P_TRAIN } from "./common.js";
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
