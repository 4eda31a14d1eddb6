/** Figure 1b: the boundaries of every architecture on one plane. */
import type { TopLevelSpec } from "vega-lite";
import type { Analysis } from "../../analysis/schema.js";
import { boundaryLayers, boundaryRows, type BoundaryRow } from "./boundaries.js";
import { archLabel, base, gridAxis, P_EVAL, P_TRAIN } from "./common.js";
export function boundaryOverlaySpec(analysis: Analysis): TopLevelSpec | null {
  const rows: BoundaryRow[] = [];
  for (const b of analysis.boundaries) {
    const label = archLabel(b);
    for (const r of boundaryRows([...b.pEvalCritical, ...b.pTrainCritical])) rows.push({ ...r, architecture: label });
  }
  if (rows.length === 0) return null;
  const archs = [...new Set(rows.map((r) => String(r.architecture)))];
  // The phase diagrams' axes: to scale, ticks at the grid values, and half a cell of room
  // beyond the first and last value so that no crossing marker at the edge is cut.
  const gx = gridAxis(analysis.input.pTrains, P_TRAIN, 460, "x");
  const gy = gridAxis(analysis.input.pEvals, P_EVAL, 340, "y");
  return base({
    title: { text: "Boundaries of all architectures", subtitle: `${archs.length} architecture${archs.length === 1 ? "" : "s"}; bands and bars: ± 1σ` },
    width: 460,
    height: 340,
    layer: boundaryLayers(rows, { field: "architecture", type: "nominal", title: "architecture", scale: { scheme: "category10" } }, {
      x: gx.channel,
      y: gy.channel,
    }),
  });
}
