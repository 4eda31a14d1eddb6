/** Figure 1: the phase diagram of one architecture. */
import type { TopLevelSpec } from "vega-lite";
import type { Analysis, Architecture } from "../../analysis/schema.js";
import { sig } from "../format.js";
import { boundaryLayers, boundaryRows } from "./boundaries.js";
import { archLabel, base, gridAxis, gridCellMark, HEAT_SIZE, P_EVAL, P_TRAIN, phaseColor, sameArch, type Obj } from "./common.js";
// ---------------------------------------------------------------------------------------------
// 1. Phase diagram per architecture, and the overlay of all boundaries
// ---------------------------------------------------------------------------------------------

export function phaseDiagramSpec(analysis: Analysis, arch: Architecture): TopLevelSpec | null {
  const labels = analysis.phases.filter((p) => sameArch(p, arch));
  if (labels.length === 0) return null;
  const gx = gridAxis(labels.map((l) => l.pTrain), P_TRAIN, HEAT_SIZE.width, "x");
  const gy = gridAxis(labels.map((l) => l.pEval), P_EVAL, HEAT_SIZE.height, "y");
  const cells = labels.map((l) => ({
    x0: gx.cell(l.pTrain)[0],
    x1: gx.cell(l.pTrain)[1],
    y0: gy.cell(l.pEval)[0],
    y1: gy.cell(l.pEval)[1],
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
  const rows = b ? boundaryRows([...b.pEvalCritical, ...b.pTrainCritical]) : [];
  return base({
    title: { text: `Phase diagram — ${archLabel(arch)}${analysis.evalMode && (analysis.modes || analysis.evalMode !== "sample") ? `, ${analysis.evalMode}` : ""}`, subtitle: ["colour: phase; shading: exponent α of L ∝ N⁻ᵅ (darker = larger α)", "black: phase boundaries; bands and bars: ± 1σ"] },
    ...HEAT_SIZE,
    layer: [
      {
        data: { values: cells },
        ...gridCellMark(gx, gy, {
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
        }),
      },
      ...boundaryLayers(rows, "black", { x: gx.channel, y: gy.channel }),
    ],
  });
}

/**
 * Phase diagrams of one architecture side by side, three to a row: one panel per variant (an
 * analysis with its own phases and boundaries), titled `title` when given (else as figure 1).
 */
export function phaseDiagramPanels(arch: Architecture, variants: ReadonlyArray<{ analysis: Analysis; title?: string }>, title: Obj): TopLevelSpec | null {
  const panels: Obj[] = [];
  for (const v of variants) {
    const spec = phaseDiagramSpec(v.analysis, arch) as unknown as Obj | null;
    if (!spec) continue;
    const { $schema: _s, config: _c, background: _b, padding: _p, ...inner } = spec;
    panels.push(v.title === undefined ? inner : { ...inner, title: { text: v.title, fontSize: 12 } });
  }
  if (panels.length === 0) return null;
  return base({ title, columns: Math.min(3, panels.length), concat: panels, resolve: { scale: { opacity: "independent" }, legend: { opacity: "independent" } } });
}
