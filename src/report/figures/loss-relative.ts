/**
 * Figure 2b: L(N) relative to its minimum, one small panel per p_eval with its own scale, so that
 * the 5–15 % features of a curve (an interior minimum, a rise over a few sizes) are visible even
 * when the grid has dozens of p_eval whose L spans two decades (figure 2 draws them on one axis).
 */
import type { TopLevelSpec } from "vega-lite";
import type { Analysis, Architecture } from "../../analysis/schema.js";
import { archLabel, base, close, phaseColor, phaseOf, sameArch, type Obj } from "./common.js";

export function lossRelativeSpec(analysis: Analysis, arch: Architecture, pTrain: number): TopLevelSpec | null {
  const curves = analysis.curves.filter((c) => sameArch(c, arch) && close(c.pTrain, pTrain) && c.points.length > 0).sort((a, b) => a.pEval - b.pEval);
  if (curves.length === 0) return null;
  const rows: Obj[] = [];
  for (const c of curves) {
    const min = Math.min(...c.points.map((p) => p.mean));
    const phase = phaseOf(analysis, arch, pTrain, c.pEval);
    for (const p of c.points) {
      const rel = p.mean / min;
      rows.push({ panel: `p_eval = ${c.pEval}`, pEval: c.pEval, n: p.n, rel, lo: (p.mean - p.stderr) / min, hi: (p.mean + p.stderr) / min, loss: p.mean, stderr: p.stderr, phase, atMin: p.mean === min });
    }
  }
  const x = { field: "n", type: "quantitative", title: "N", scale: { type: "log", nice: false }, axis: { tickCount: 3, format: "~s" } };
  const y = { type: "quantitative", title: "L / min L", scale: { zero: false, nice: false, padding: 4 }, axis: { tickCount: 4, format: ".2f" } };
  const columns = Math.min(4, curves.length); // wider grids are drawn so small on the page that their text falls under 10 px
  return base({
    title: {
      text: `Loss relative to its minimum — ${archLabel(arch)}, p_train = ${pTrain}`,
      subtitle: "one panel per p_eval, each with its own scale (1 = the curve's smallest mean L; ring: the minimum); bars ± 1σ; colour: phase",
    },
    data: { values: rows },
    facet: { field: "pEval", type: "ordinal", title: null, header: { labelExpr: "'p_eval = ' + datum.value", labelFontSize: 10 } },
    columns,
    spec: {
      width: 130,
      height: 90,
      layer: [
        { mark: { type: "rule", strokeDash: [2, 2], color: "#999" }, encoding: { y: { datum: 1, type: "quantitative" } } },
        { mark: { type: "line", strokeWidth: 1, opacity: 0.6 }, encoding: { x, y: { ...y, field: "rel" }, color: phaseColor() } },
        { mark: { type: "rule", strokeWidth: 1 }, encoding: { x, y: { ...y, field: "lo" }, y2: { field: "hi" }, color: phaseColor() } },
        {
          mark: { type: "point", filled: true, size: 22 },
          encoding: {
            x,
            y: { ...y, field: "rel" },
            color: phaseColor(),
            tooltip: [
              { field: "pEval", title: "p_eval" },
              { field: "n", title: "N" },
              { field: "loss", title: "L", format: ".4f" },
              { field: "stderr", title: "± (1σ)", format: ".4f" },
              { field: "rel", title: "L / min L", format: ".3f" },
            ],
          },
        },
        { transform: [{ filter: "datum.atMin" }], mark: { type: "point", size: 90, strokeWidth: 1.2, color: "black" }, encoding: { x, y: { ...y, field: "rel" } } },
      ],
    },
    resolve: { scale: { y: "independent" } },
  });
}
