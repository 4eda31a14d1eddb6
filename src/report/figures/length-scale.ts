/** Figure 4: the crossover size N* vs p_eval with its N*(p) fits. */
import type { TopLevelSpec } from "vega-lite";
import type { Analysis, Architecture, LengthScaleFit } from "../../analysis/schema.js";
import { pm, sig } from "../format.js";
import { lengthScaleNotDetermined } from "../../analysis/determined.js";
import { archLabel, base, close, CONFIG, P_EVAL, sameArch, wrap, type Obj } from "./common.js";
// ---------------------------------------------------------------------------------------------
// 4. Length scale N* vs p with BKT and power-law fits
// ---------------------------------------------------------------------------------------------

const CENSOR_LABEL = { none: "minimum inside the N range", below: "N* < smallest N (censored)", above: "N* > largest N (censored)" } as const;

/** ln N* of a length-scale fit at p (null where the form is undefined). */
export function lengthScaleCurve(fit: LengthScaleFit, p: number): number | null {
  const d = Math.abs(p - fit.pc);
  if (!(d > 0)) return null;
  if (fit.form === "bkt") {
    const { lnN0, b, sigma } = fit.params;
    if (![lnN0, b, sigma].every(Number.isFinite)) return null;
    return lnN0 + b * Math.pow(d, -sigma);
  }
  const { lnA, nu } = fit.params;
  if (![lnA, nu].every(Number.isFinite)) return null;
  return lnA - nu * Math.log(d);
}

export function fitLabel(fit: LengthScaleFit): string {
  const chi = fit.reducedChi2 === null ? `χ² = ${sig(fit.chi2)} (dof 0)` : `χ²/dof = ${sig(fit.reducedChi2)}`;
  if (fit.form === "bkt") return `BKT: p_c = ${pm(fit.pc, fit.pcErr)}, σ = ${fit.sigmaFixed ? `${sig(fit.params.sigma)} (fixed)` : pm(fit.params.sigma, fit.paramErrs.sigma)}, ${chi}`;
  return `power law: p_c = ${pm(fit.pc, fit.pcErr)}, ν = ${pm(fit.params.nu, fit.paramErrs.nu)}, ${chi}`;
}

export function lengthScaleSpec(analysis: Analysis, arch: Architecture, pTrain: number): TopLevelSpec | null {
  const cross = analysis.crossovers.filter((c) => sameArch(c, arch) && close(c.pTrain, pTrain)).sort((a, b) => a.pEval - b.pEval);
  if (cross.length === 0) return null;
  const maxN = Math.max(...analysis.input.sizes, ...cross.map((c) => c.nStar));
  const minN = Math.min(...analysis.input.sizes, ...cross.map((c) => c.nStar));
  const points = cross.map((c) => ({
    p: c.pEval,
    nStar: c.nStar,
    lo: c.lnNStarErr === null ? c.nStar : Math.exp(c.lnNStar - c.lnNStarErr),
    hi: c.lnNStarErr === null ? c.nStar : Math.exp(c.lnNStar + c.lnNStarErr),
    err: c.lnNStarErr,
    status: CENSOR_LABEL[c.censored],
    significant: c.significant ? "yes" : "no",
  }));
  const fits = analysis.lengthScaleFits.filter((f) => sameArch(f, arch) && close(f.pTrain, pTrain));
  const curve: Obj[] = [];
  const pcs: Obj[] = [];
  // A fit that is not a result (determined.ts) is named in the subtitle, never drawn.
  const undetermined = fits.flatMap((f) => {
    const why = lengthScaleNotDetermined(f);
    return why ? [`${f.form === "bkt" ? "BKT" : "power-law"} fit: not determined (${why})`] : [];
  });
  // The plot spans the measured p_eval values (± 10 % of their span): a p_c far outside them
  // (its search reaches 3 spans beyond the data) would otherwise leave most of the plot empty;
  // such a p_c is named in the subtitle instead of drawn.
  const pAll = cross.map((c) => c.pEval);
  const pSpan = Math.max(...pAll) - Math.min(...pAll) || 0.1;
  const domain: [number, number] = [Math.min(...pAll) - 0.1 * pSpan, Math.max(...pAll) + 0.1 * pSpan];
  const offPlot: string[] = [];
  for (const f of fits.filter((x) => lengthScaleNotDetermined(x) === null)) {
    const label = fitLabel(f);
    // Drawn over the uncensored N* and on to p_c: beyond p_c the forms mirror themselves,
    // but there N* is infinite (the phase without a crossover), so nothing is drawn.
    const ps = f.points.filter((q) => !q.censored).map((q) => q.p);
    if (ps.length === 0) continue;
    const lo = Math.max(domain[0], f.pc < Math.min(...ps) ? f.pc : Math.min(...ps));
    const hi = Math.min(domain[1], f.pc > Math.max(...ps) ? f.pc : Math.max(...ps));
    const count = 80;
    for (let i = 0; i < count; i++) {
      const p = hi > lo ? lo + ((hi - lo) * i) / (count - 1) : lo;
      const ln = lengthScaleCurve(f, p);
      if (ln === null || !Number.isFinite(ln) || ln > Math.log(maxN) + 1 || ln < Math.log(minN) - 1) continue;
      curve.push({ p, nStar: Math.exp(ln), fit: label, side: p < f.pc ? "below" : "above" });
    }
    if (f.pc >= domain[0] && f.pc <= domain[1]) pcs.push({ pc: f.pc, fit: label });
    else offPlot.push(`${f.form === "bkt" ? "BKT" : "power-law"} p_c = ${sig(f.pc)} lies outside the plotted p_eval range`);
  }
  // The non-divergent alternative (nstar-forms.ts), over the uncensored N*, and the verdict.
  const cmp = (analysis.nStarComparisons ?? []).find((c) => sameArch(c, arch) && close(c.pTrain, pTrain));
  const q = cmp?.quadratic;
  if (q) {
    const ps = fits[0]?.points.filter((pt) => !pt.censored).map((pt) => pt.p) ?? [];
    const label = `quadratic in p (never diverges): χ²/dof = ${sig(q.chi2 / q.dof)}`;
    if (ps.length > 0)
      for (let i = 0; i < 60; i++) {
        const p = Math.min(...ps) + ((Math.max(...ps) - Math.min(...ps)) * i) / 59;
        const d = p - q.params.pMean;
        const ln = q.params.c0 + q.params.c1 * d + q.params.c2 * d * d;
        if (ln <= Math.log(maxN) + 3 && ln >= Math.log(minN) - 3) curve.push({ p, nStar: Math.exp(ln), fit: label, side: "quadratic" });
      }
  }
  const x = { field: "p", type: "quantitative", title: P_EVAL, scale: { zero: false, nice: false, domain } };
  const y = { type: "quantitative", title: "N* (crossover training-set size)", scale: { type: "log", nice: false, padding: 8 } };
  const layers: Obj[] = [];
  const fitColor = { field: "fit", type: "nominal", title: "fit of ln N*(p)", scale: { range: ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"] }, legend: { orient: "bottom", direction: "vertical", labelLimit: 640 } };
  if (curve.length > 0) layers.push({ data: { values: curve }, mark: { type: "line", strokeWidth: 1.8 }, encoding: { x, y: { ...y, field: "nStar" }, color: fitColor, detail: { field: "side" } } });
  if (pcs.length > 0) layers.push({ data: { values: pcs }, mark: { type: "rule", strokeDash: [4, 3], strokeWidth: 1.2 }, encoding: { x: { field: "pc", type: "quantitative" }, color: fitColor } });
  layers.push(
    { data: { values: points }, mark: { type: "rule", strokeWidth: 1.4, color: "#222" }, encoding: { x, y: { ...y, field: "lo" }, y2: { field: "hi" } } },
    {
      data: { values: points },
      mark: { type: "point", size: 60, filled: true, color: "#222", opacity: 1 },
      encoding: {
        x,
        y: { ...y, field: "nStar" },
        shape: { field: "status", type: "nominal", title: "N*", scale: { domain: Object.values(CENSOR_LABEL), range: ["circle", "triangle-down", "triangle-up"] }, legend: { orient: "bottom", direction: "vertical" } },
        tooltip: [
          { field: "p", title: "p_eval" },
          { field: "nStar", title: "N*", format: ".0f" },
          { field: "err", title: "± ln N* (1σ)", format: ".3f" },
          { field: "status", title: "status" },
          { field: "significant", title: "minimum significant" },
        ],
      },
    },
  );
  const main: Obj = {
    title: {
      text: `Crossover size N* vs p_eval — ${archLabel(arch)}, p_train = ${pTrain}`,
      subtitle: [
        fits.length === 0 ? "no N*(p) fit for this line (too few uncensored N*: a fit needs 4 or more)" : pcs.length > 0 ? "curves: fits of ln N*(p); dashed verticals: their p_c" : "no N*(p) fit is a result on this line",
        ...undetermined.flatMap((u) => wrap(u, 80)),
        ...(cmp ? wrap(`N* ${cmp.verdict}: ${cmp.reason}`, 80) : []),
        ...offPlot,
      ],
    },
    width: 440,
    height: 300,
    layer: layers,
    resolve: { legend: { shape: "independent" } },
  };
  const bkt = bktLinearPanel(analysis, arch, pTrain, cross, fits);
  // the two legends under the main plot one above the other (side by side they widened it by half)
  return base(bkt ? { config: { ...CONFIG, legend: { ...(CONFIG.legend as object), layout: { bottom: { anchor: "start", direction: "vertical" } } } }, hconcat: [main, bkt], resolve: { scale: { color: "independent", shape: "independent" }, legend: { color: "independent", shape: "independent" } } } : main);
}

/**
 * The BKT test made straight: ln N* against x = |p − p_c|^(−σ) is a line, slope b, if
 * N* = N₀ exp(b |p − p_c|^(−σ)). p_c and σ from the BKT fit of N*(p) when it is a result, else
 * p_c = the eumentia–dementia crossing p_eval,c of this line and σ = 1/2 (the subtitle says
 * which). Only points on the dementia side of p_c (where N* is finite) are drawn.
 */
function bktLinearPanel(analysis: Analysis, arch: Architecture, pTrain: number, cross: Analysis["crossovers"], fits: LengthScaleFit[]): Obj | null {
  const fit = fits.find((f) => f.form === "bkt" && lengthScaleNotDetermined(f) === null) ?? null;
  let pc: number;
  let sigma: number;
  let source: string;
  let diverges: "low" | "high";
  if (fit) {
    pc = fit.pc;
    sigma = fit.params.sigma;
    const exact = fit.points.filter((q) => !q.censored).map((q) => q.p);
    diverges = pc < Math.min(...exact) ? "low" : "high";
    source = `p_c = ${pm(fit.pc, fit.pcErr)} and σ = ${sig(sigma)} from the BKT fit of N*(p)`;
  } else {
    const b = analysis.boundaries.find((x) => sameArch(x, arch))?.pEvalCritical.find((x) => close(x.fixed, pTrain) && new Set([x.from, x.to]).has("eumentia") && new Set([x.from, x.to]).has("dementia"));
    if (!b) return null;
    pc = b.critical;
    sigma = 0.5;
    diverges = b.from === "eumentia" ? "low" : "high";
    source = `no BKT fit of N*(p) is a result here: p_c = ${pm(b.critical, b.criticalErr)} (the eumentia–dementia crossing p_eval,c), σ = 1/2`;
  }
  const side = cross.filter((c) => (diverges === "low" ? c.pEval > pc : c.pEval < pc));
  if (side.length === 0) return null;
  const xOf = (p: number): number => Math.pow(Math.abs(p - pc), -sigma);
  const pts = side.map((c) => ({
    x: xOf(c.pEval),
    p: c.pEval,
    nStar: c.nStar,
    lo: c.lnNStarErr === null ? c.nStar : Math.exp(c.lnNStar - c.lnNStarErr),
    hi: c.lnNStarErr === null ? c.nStar : Math.exp(c.lnNStar + c.lnNStarErr),
    status: CENSOR_LABEL[c.censored],
  }));
  const xTitle = `|p_eval − p_c|^(−${sig(sigma)})`;
  // the x range of the measured (uncensored) N* plus 30 %: a censored N* next to p_c has an x
  // far beyond them and would squeeze every measured point into a sliver (it is named instead)
  const measured = pts.filter((q) => q.status === CENSOR_LABEL.none).map((q) => q.x);
  const xMax = measured.length > 0 ? Math.max(...measured) + 0.3 * (Math.max(...measured) - Math.min(...pts.map((q) => q.x)) || 1) : Infinity;
  const offRight = pts.filter((q) => q.x > xMax).length;
  const X = { field: "x", type: "quantitative", title: xTitle, scale: { zero: false, nice: false, padding: 12, ...(Number.isFinite(xMax) ? { domain: [Math.min(...pts.map((q) => q.x)), xMax] } : {}) } };
  const Y = { type: "quantitative", title: "N*", scale: { type: "log", nice: false, padding: 8 } };
  const layers: Obj[] = [];
  if (fit) {
    const inside = pts.filter((q) => q.status === CENSOR_LABEL.none).map((q) => q.x);
    const xs = inside.length > 0 ? inside : pts.map((q) => q.x);
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    const line = Array.from({ length: 40 }, (_, i) => lo + ((hi - lo) * i) / 39).map((x) => ({ x, nStar: Math.exp(fit.params.lnN0 + fit.params.b * x), fit: fitLabel(fit) }));
    layers.push({ data: { values: line }, mark: { type: "line", strokeWidth: 1.8, color: "#1f77b4", clip: true }, encoding: { x: X, y: { ...Y, field: "nStar" } } });
  }
  layers.push(
    { data: { values: pts.filter((q) => q.x <= xMax) }, mark: { type: "rule", strokeWidth: 1.4, color: "#222" }, encoding: { x: X, y: { ...Y, field: "lo" }, y2: { field: "hi" } } },
    {
      data: { values: pts.filter((q) => q.x <= xMax) },
      mark: { type: "point", size: 60, filled: true, color: "#222", opacity: 1 },
      encoding: {
        x: X,
        y: { ...Y, field: "nStar" },
        shape: { field: "status", type: "nominal", title: "N*", scale: { domain: Object.values(CENSOR_LABEL), range: ["circle", "triangle-down", "triangle-up"] }, legend: null },
        tooltip: [
          { field: "p", title: "p_eval" },
          { field: "x", title: xTitle, format: ".3f" },
          { field: "nStar", title: "N*", format: ".0f" },
          { field: "status", title: "status" },
        ],
      },
    },
  );
  return {
    title: { text: "BKT test: ln N* against |p − p_c|^(−σ)", subtitle: [...wrap(source, 60), fit ? "a straight line (the fit) if N* grows as BKT predicts" : "BKT predicts a straight line", ...(offRight > 0 ? [`${offRight} censored N* nearer p_c (x beyond the measured ones) not drawn`] : [])] },
    width: 320,
    height: 300,
    layer: layers,
  };
}
