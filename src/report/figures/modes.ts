/**
 * Figures of a sweep evaluated in several eval modes (analysis.modes): the phase diagrams of
 * every mode side by side, and their boundaries overlaid, for one architecture.
 */
import type { TopLevelSpec } from "vega-lite";
import type { Analysis, Architecture } from "../../analysis/schema.js";
import { boundaryLayers, boundaryRows, type BoundaryRow } from "./boundaries.js";
import { archLabel, base, gridAxis, P_EVAL, P_TRAIN, sameArch, type Obj } from "./common.js";
import { phaseDiagramPanels } from "./phase-diagram.js";

/** Whether the analysis holds several modes to compare. */
export function hasModes(analysis: Analysis): boolean {
  return (analysis.modes?.length ?? 0) >= 2;
}

/** The phase diagram of every mode for one architecture, three to a row. */
export function modePhaseDiagramsSpec(analysis: Analysis, arch: Architecture): TopLevelSpec | null {
  if (!hasModes(analysis)) return null;
  const variants = (analysis.modes ?? []).map((m) => ({ analysis: { ...analysis, evalMode: m.evalMode, phases: m.phases, boundaries: m.boundaries } }));
  return phaseDiagramPanels(arch, variants, { text: `Phase diagrams by eval mode — ${archLabel(arch)}`, subtitle: "the same trained networks, units removed in each mode's way" });
}

/** The phase boundaries of every mode for one architecture on one plane, coloured by mode. */
export function modeBoundariesSpec(analysis: Analysis, arch: Architecture): TopLevelSpec | null {
  if (!hasModes(analysis)) return null;
  const modes = (analysis.modes ?? []).map((m) => m.evalMode);
  const rows: BoundaryRow[] = [];
  for (const m of analysis.modes ?? []) {
    const b = m.boundaries.find((x) => sameArch(x, arch));
    if (b) for (const r of boundaryRows([...b.pEvalCritical, ...b.pTrainCritical])) rows.push({ ...r, mode: m.evalMode });
  }
  if (rows.length === 0) return null;
  const gx = gridAxis(analysis.input.pTrains, P_TRAIN, 460, "x");
  const gy = gridAxis(analysis.input.pEvals, P_EVAL, 340, "y");
  return base({
    title: { text: `Boundaries by eval mode — ${archLabel(arch)}`, subtitle: `${new Set(rows.map((r) => r.mode)).size} of ${modes.length} modes have a boundary; bands and bars: ± 1σ` },
    width: 460,
    height: 340,
    layer: boundaryLayers(rows, { field: "mode", type: "nominal", title: "eval mode", scale: { domain: modes, scheme: "category10" } }, { x: gx.channel, y: gy.channel }),
  });
}
