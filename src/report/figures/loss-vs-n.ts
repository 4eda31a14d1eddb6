/** Figure 2: loss vs N with the fitted power laws. */
import type { TopLevelSpec } from "vega-lite";
import type { Analysis, Architecture } from "../../analysis/schema.js";
import { archLabel, base, close, CONFIG, logSpace, phaseColor, phaseOf, sameArch, spreadLabels, type Obj } from "./common.js";
// ---------------------------------------------------------------------------------------------
// 2. Loss vs N with power-law fits
// ---------------------------------------------------------------------------------------------

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
