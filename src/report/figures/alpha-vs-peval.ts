/** Figure 3: the exponent α vs p_eval. */
import type { TopLevelSpec } from "vega-lite";
import type { Analysis, Architecture, BoundaryPoint } from "../../analysis/schema.js";
import { transition } from "./boundaries.js";
import { archLabel, base, close, P_EVAL, phaseColor, phaseOf, sameArch, type Obj } from "./common.js";
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
  // The window rule labels by α over the largest sizes (phase-rule.ts): that α is drawn.
  const win = analysis.options.phaseRule === "window" ? (analysis.windowSlopes ?? []).filter((w) => sameArch(w, arch) && close(w.pTrain, pTrain)).sort((a, b) => a.pEval - b.pEval) : [];
  const rows =
    win.length > 0
      ? win.map((w) => ({ pEval: w.pEval, alpha: w.alpha, lo: w.alphaCI[0], hi: w.alphaCI[1], alphaErr: w.alphaErr, phase: phaseOf(analysis, arch, pTrain, w.pEval), chi2: null }))
      : fits.map((f) => ({
          pEval: f.pEval,
          alpha: f.powerLaw.alpha,
          lo: f.powerLaw.alphaCI[0],
          hi: f.powerLaw.alphaCI[1],
          alphaErr: f.powerLaw.alphaErr,
          phase: phaseOf(analysis, arch, pTrain, f.pEval),
          chi2: f.powerLaw.reducedChi2,
        }));
  const window = win.length > 0 ? `α over the largest sizes N = ${win[0].nMin}…${win[0].nMax}; ` : "";
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
        y: { field: "alpha", type: "quantitative", title: win.length > 0 ? "α = −d ln L / d ln N (largest sizes)" : "α (L ∝ N⁻ᵅ)" },
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
      subtitle: `${window}${crit.length > 0 ? `bars: ${ci}% CI; dashed line and band: boundary p_eval,c ± 1σ` : `bars: ${ci}% CI; no phase boundary found along p_eval on this line`}`,
    },
    width: 440,
    height: 300,
    layer: layers,
  });
}
