/**
 * The diverging length scale: the crossover size N* of a non-monotonic L(N), and fits of
 * N*(p) to the BKT and power-law forms.
 *
 * Crossover size of one curve (u = ln N, ℓ = ln L, σ_ℓ = stderr / L):
 *   i* = argmin_i L_i. If i* is the first point, L rises over the whole range:
 *   censored "below" (N* < N_min); if the last, censored "above" (N* > N_max). Otherwise a
 *   weighted quadratic ℓ = c0 + c1 u + c2 u² is fitted to the points i*−h … i*+h
 *   (h = crossoverHalfWindow, clipped to the curve) and
 *       ln N* = −c1 / (2 c2)      (c2 > 0; clipped to the sampled range, else censored)
 *   Error: sd of ln N* over the bootstrap replicates (same procedure on each replicate,
 *   censored replicates counted at the range ends), times the small-sample factor.
 *   `significant`: L at both ends exceeds L_min by more than 3 combined standard errors
 *   (3, not 2: the minimum of several noisy points is biased low, so a flat noisy curve
 *   passes a 2σ test too often).
 *
 * N*(p) along one p_eval line, from every uncensored crossover with a bootstrap error
 * (weights 1/σ(ln N*)²):
 *   BKT:    ln N* = ln N0 + b |p − p_c|^(−σ)     (σ fixed, default 1/2, or fitted)
 *   power:  ln N* = ln A − ν ln |p − p_c|
 * Censored crossovers enter as one-sided bounds (N* > N_max where L falls over the whole
 * range, N* < N_min where it rises): a bound the fitted curve violates adds
 * ((bound − fit)/σ_b)² to χ² (σ_b: the median error of the uncensored points), one that it
 * respects adds nothing. Bounds count in χ² but not in the degrees of freedom. A bound
 * "above" on the far side of p_c (inside the phase where N* is infinite) always holds.
 * For fixed p_c (and σ) both forms are linear in the remaining parameters, so p_c (and σ)
 * are found by a profile search — p_c on the side of the data where N* is largest, outside
 * the uncensored data — and the linear parameters by weighted least squares (with the
 * violated bounds as pseudo-observations, iterated to a fixed point: the penalty is convex).
 * Parameter errors from the χ² curvature (cov = 2 H⁻¹), scaled by max(1, χ²/dof).
 */
import { pooledLogErrors } from "./seeds.js";
import type { CrossoverSize, LengthScaleFit, LossCurve } from "./schema.js";
import { SingularMatrixError, covarianceFromChi2Hessian, minimize1d, numericalHessian, sampleSd, weightedLinearFit } from "./stats.js";
import { atSearchEdge, N_STAR_PC_SEARCH } from "./determined.js";
import { ciQuantile, tInterval } from "./intervals.js";

interface Quadratic {
  lnNStar: number | null;
  censored: "none" | "below" | "above";
  /** "grid-minimum" when the quadratic could not be used (singular, or not convex): N* is the lowest sampled N. */
  method: "quadratic" | "grid-minimum";
}

/** ln N* of one set of means (see the file header); null-free by construction. */
function crossoverOf(lnN: readonly number[], means: readonly number[], sig: readonly number[], halfWindow: number): Quadratic {
  let iMin = 0;
  for (let i = 1; i < means.length; i++) if (means[i] < means[iMin]) iMin = i;
  const n = means.length;
  if (iMin === 0) return { lnNStar: lnN[0], censored: "below", method: "grid-minimum" };
  if (iMin === n - 1) return { lnNStar: lnN[n - 1], censored: "above", method: "grid-minimum" };
  let lo = Math.max(0, iMin - halfWindow);
  let hi = Math.min(n - 1, iMin + halfWindow);
  while (hi - lo + 1 < 3) {
    if (lo > 0) lo--;
    else if (hi < n - 1) hi++;
    else break;
  }
  const u0 = lnN[iMin];
  const X: number[][] = [];
  const y: number[] = [];
  const s: number[] = [];
  for (let i = lo; i <= hi; i++) {
    const u = lnN[i] - u0;
    X.push([1, u, u * u]);
    y.push(Math.log(means[i]));
    s.push(sig[i]);
  }
  let c: number[];
  try {
    c = weightedLinearFit(X, y, s).coef;
  } catch (e) {
    if (e instanceof SingularMatrixError) return { lnNStar: u0, censored: "none", method: "grid-minimum" };
    throw e;
  }
  if (!(c[2] > 0)) return { lnNStar: u0, censored: "none", method: "grid-minimum" };
  const star = u0 - c[1] / (2 * c[2]);
  if (star < lnN[0]) return { lnNStar: lnN[0], censored: "below", method: "quadratic" };
  if (star > lnN[n - 1]) return { lnNStar: lnN[n - 1], censored: "above", method: "quadratic" };
  return { lnNStar: star, censored: "none", method: "quadratic" };
}

/** N* of one curve with bootstrap error (bootMeans[b][i] from bootstrapCurve). */
export function crossoverSize(curve: LossCurve, bootMeans: readonly number[][], expansion: number, halfWindow = 2): CrossoverSize {
  const lnN = curve.points.map((p) => Math.log(p.n));
  const means = curve.points.map((p) => p.mean);
  const sig = pooledLogErrors(curve);
  const q = crossoverOf(lnN, means, sig, halfWindow);
  let err: number | null = null;
  if (q.censored === "none" && bootMeans.length >= 2) {
    const reps = bootMeans.map((row) => crossoverOf(lnN, row, sig, halfWindow).lnNStar as number);
    err = sampleSd(reps) * expansion;
  }
  const iMin = means.indexOf(Math.min(...means));
  const first = curve.points[0];
  const last = curve.points[curve.points.length - 1];
  const minP = curve.points[iMin];
  const se = (i: number): number => sig[i] * means[i];
  const last_ = curve.points.length - 1;
  const significant = q.censored === "none" && first.mean - minP.mean > 3 * Math.hypot(se(0), se(iMin)) && last.mean - minP.mean > 3 * Math.hypot(se(last_), se(iMin));
  const lnNStar = q.lnNStar as number;
  return {
    width: curve.width,
    depth: curve.depth,
    pTrain: curve.pTrain,
    pEval: curve.pEval,
    nStar: q.censored === "below" ? first.n : q.censored === "above" ? last.n : Math.exp(lnNStar),
    lnNStar,
    lnNStarErr: err !== null && err > 0 ? err : null,
    censored: q.censored,
    significant,
    method: q.method,
  };
}

/** ln N* of a curve from replicate means (the same procedure as crossoverSize), for refits. */
export function crossoverLnNStar(curve: LossCurve, means: readonly number[], halfWindow = 2): number {
  const lnN = curve.points.map((p) => Math.log(p.n));
  return crossoverOf(lnN, means, pooledLogErrors(curve), halfWindow).lnNStar as number;
}

/** Regressor of the linear parameters' slope at p (power: −ln|p − p_c|; BKT: |p − p_c|^(−σ)). */
function regressor(form: "bkt" | "power", p: number, pc: number, sg: number): number {
  return form === "power" ? -Math.log(Math.abs(p - pc)) : Math.pow(Math.abs(p - pc), -sg);
}

/**
 * χ² terms of the bounds at (p_c, σ, c0, c1): ((bound − fit)/σ_b)² for each violated bound.
 * A bound "above" on the far side of p_c is inside the phase where N* is infinite: it holds.
 */
function boundPenalty(bounds: readonly LengthScalePoint[], form: "bkt" | "power", pc: number, sg: number, c0: number, c1: number, side: "low" | "high"): { chi2: number; violated: LengthScalePoint[] } {
  let chi2 = 0;
  const violated: LengthScalePoint[] = [];
  for (const b of bounds) {
    const beyond = side === "low" ? b.p <= pc : b.p >= pc;
    if (beyond && b.censored === "above") continue;
    const fit = beyond ? Infinity : c0 + c1 * regressor(form, b.p, pc, sg);
    const miss = b.censored === "above" ? b.lnNStar - fit : fit - b.lnNStar;
    if (miss > 0) {
      chi2 += Number.isFinite(miss) ? (miss / b.lnNStarErr) ** 2 : 1e300;
      violated.push(b);
    }
  }
  return { chi2, violated };
}

/** The profile search of fitLengthScale (p_c, σ by 1-D searches, linear parameters by least squares). */
function fitCore(allPoints: readonly LengthScalePoint[], form: "bkt" | "power", sigma: number | null, near?: { pc: number; sg: number }) {
  const k = form === "power" ? 3 : sigma === null ? 4 : 3;
  const points = allPoints.filter((q) => !q.censored);
  const bounds = allPoints.filter((q) => q.censored);
  if (points.length < k) return null;
  const ps = points.map((q) => q.p);
  const y = points.map((q) => q.lnNStar);
  const s = points.map((q) => q.lnNStarErr);
  const pMin = Math.min(...ps);
  const pMax = Math.max(...ps);
  const span = pMax - pMin || 1;
  // Which side does N* diverge on? The side of the largest N* (bounds "above" included).
  const iTop = y.indexOf(Math.max(...y));
  const above = bounds.filter((b) => b.censored === "above").map((b) => b.p);
  const topAbove = above.length > 0 ? (above.every((p) => p < pMin) ? "low" : above.every((p) => p > pMax) ? "high" : null) : null;
  let sides: ("low" | "high")[] = topAbove ? [topAbove] : iTop === ps.indexOf(pMin) ? ["low"] : iTop === ps.indexOf(pMax) ? ["high"] : ["low", "high"];
  // replicate refits: the main fit's side only (and, below, no σ grid)
  if (near) sides = [near.pc < pMin ? "low" : "high"];
  const profile = (pc: number, sg: number): { chi2: number; coef: number[] } | null => {
    const g = ps.map((p) => regressor(form, p, pc, sg));
    if (!g.every(Number.isFinite)) return null;
    const side = pc < pMin ? "low" : "high";
    // Active set: refit with the violated bounds as pseudo-observations until it is stable.
    let active: LengthScalePoint[] = [];
    let out: { chi2: number; coef: number[] } | null = null;
    for (let iter = 0; iter < 20; iter++) {
      const X = [...g.map((v) => [1, v]), ...active.map((b) => [1, regressor(form, b.p, pc, sg)])];
      if (!X.every((r) => Number.isFinite(r[1]))) return null;
      let coef: number[];
      try {
        coef = weightedLinearFit(X, [...y, ...active.map((b) => b.lnNStar)], [...s, ...active.map((b) => b.lnNStarErr)]).coef;
      } catch (e) {
        if (e instanceof SingularMatrixError) return null;
        throw e;
      }
      let chi2 = 0;
      for (let i = 0; i < ps.length; i++) chi2 += ((y[i] - coef[0] - coef[1] * g[i]) / s[i]) ** 2;
      const pen = boundPenalty(bounds, form, pc, sg, coef[0], coef[1], side);
      out = { chi2: chi2 + pen.chi2, coef };
      const same = pen.violated.length === active.length && pen.violated.every((b) => active.includes(b));
      if (same) break;
      active = pen.violated;
    }
    return out;
  };
  const chi2At = (pc: number, sg: number): number => profile(pc, sg)?.chi2 ?? Infinity;
  let best: { pc: number; sg: number; chi2: number } | null = null;
  const sigmas = form === "bkt" && sigma === null ? (near ? [near.sg] : Array.from({ length: 19 }, (_, i) => 0.1 + 0.1 * i)) : [sigma ?? 0.5];
  for (const side of sides) {
    // distance d from the nearest data point, log-spaced from 1e-4·span to 3·span
    for (const sg of sigmas) {
      const toPc = (t: number): number => (side === "low" ? pMin - span * Math.exp(t) : pMax + span * Math.exp(t));
      const m = minimize1d((t) => chi2At(toPc(t), sg), Math.log(1e-4), Math.log(3), 120, 1e-8);
      if (!best || m.fx < best.chi2) best = { pc: toPc(m.x), sg, chi2: m.fx };
    }
  }
  if (!best || !Number.isFinite(best.chi2)) return null;
  // Refine σ (if fitted) jointly with p_c by a final 1-D pass on σ.
  if (form === "bkt" && sigma === null) {
    const side = best.pc < pMin ? "low" : "high";
    const toPc = (t: number): number => (side === "low" ? pMin - span * Math.exp(t) : pMax + span * Math.exp(t));
    const inner = (sg: number): { pc: number; chi2: number } => {
      const m = minimize1d((t) => chi2At(toPc(t), sg), Math.log(1e-4), Math.log(3), near ? 30 : 60, 1e-8);
      return { pc: toPc(m.x), chi2: m.fx };
    };
    const ms = minimize1d((sg) => inner(sg).chi2, 0.05, 2, near ? 15 : 40, 1e-5);
    const r = inner(ms.x);
    if (r.chi2 < best.chi2) best = { pc: r.pc, sg: ms.x, chi2: r.chi2 };
  }
  const prof = profile(best.pc, best.sg);
  if (!prof) return null;
  const dist = Math.min(...ps.map((p) => Math.abs(p - best!.pc))) / span;
  // the search covers distances 1e-4 … 3 spans from the data (in ln): an optimum at either end is a bound
  const atEdge = atSearchEdge(Math.log(dist), null, N_STAR_PC_SEARCH) !== null;
  return { best, prof, ps, y, s, atEdge, points, bounds };
}

export interface LengthScalePoint {
  p: number;
  /** ln N*, or for a censored point the bound (ln N_max for "above", ln N_min for "below"). */
  lnNStar: number;
  /** 1σ of ln N*; for a bound, the σ_b of its penalty. */
  lnNStarErr: number;
  /** Set for a censored crossover: N* lies above (or below) lnNStar. */
  censored?: "above" | "below";
}

export interface LengthScaleOptions {
  /** Replicate ln N* values ([b][i], aligned with points) from seed-bootstrap replicates: p_c's error from refitting each. */
  replicates?: { lnNStar: readonly (readonly number[])[]; expansion: number; units: number };
  ciLevel?: number;
}

/**
 * Fits ln N*(p) in the BKT form (ln N* = ln ξ + const: sigma a fixed number, or null to fit
 * it) or the power form. Returns null when there are too few points: dof = points − k must
 * be ≥ 1 (with dof 0 every form fits exactly and nothing is compared).
 * Errors: with `replicates`, p_c's error is the sd of refits on the replicates × expansion
 * (intervals: Student t with units − 1 dof); the other parameters' errors from the χ²
 * curvature (Cholesky-checked) × max(1, χ²/dof). p_c found at the end of its search range
 * (distance 1e-4 or 3 p-spans from the data) is flagged as a bound (pcBound).
 */
export function fitLengthScale(points: readonly LengthScalePoint[], form: "bkt" | "power", sigma: number | null = 0.5, lopts: LengthScaleOptions = {}): Omit<LengthScaleFit, "width" | "depth" | "pTrain"> | null {
  const k = form === "power" ? 3 : sigma === null ? 4 : 3;
  if (points.filter((q) => !q.censored).length - k < 1) return null;
  const core = fitCore(points, form, sigma);
  if (!core) return null;
  const { best, prof, ps, y, s, atEdge, bounds } = core;
  const side = best.pc < Math.min(...ps) ? "low" : "high";

  // Full parameter vector for the curvature: [pc, c0, c1, (sigma)].
  const full = form === "bkt" && sigma === null ? [best.pc, prof.coef[0], prof.coef[1], best.sg] : [best.pc, prof.coef[0], prof.coef[1]];
  const chi2Full = (v: number[]): number => {
    const sg = v.length === 4 ? v[3] : best!.sg;
    let c = 0;
    for (let i = 0; i < ps.length; i++) {
      const g = form === "power" ? -Math.log(Math.abs(ps[i] - v[0])) : Math.pow(Math.abs(ps[i] - v[0]), -sg);
      c += ((y[i] - v[1] - v[2] * g) / s[i]) ** 2;
    }
    c += boundPenalty(bounds, form, v[0], sg, v[1], v[2], side).chi2;
    return Number.isFinite(c) ? c : 1e300;
  };
  const dist = Math.min(...ps.map((p) => Math.abs(p - best!.pc)));
  const h = [dist * 1e-3, 1e-4 * (1 + Math.abs(full[1])), 1e-4 * (1 + Math.abs(full[2])), 1e-4];
  const dof = ps.length - k;
  const reduced = dof > 0 ? best.chi2 / dof : null;
  const scale = reduced !== null && reduced > 1 ? reduced : 1;
  const cov = covarianceFromChi2Hessian(numericalHessian(chi2Full, full, h.slice(0, full.length)));
  const err = (i: number): number | null => (cov && Number.isFinite(cov[i][i]) && dof >= 0 ? Math.sqrt(cov[i][i] * scale) : null);
  const params: Record<string, number> = form === "power" ? { pc: best.pc, lnA: prof.coef[0], nu: prof.coef[1] } : { pc: best.pc, lnN0: prof.coef[0], b: prof.coef[1], sigma: best.sg };
  const paramErrs: Record<string, number | null> = form === "power" ? { pc: err(0), lnA: err(1), nu: err(2) } : { pc: err(0), lnN0: err(1), b: err(2), sigma: sigma === null ? err(3) : null };
  const level = lopts.ciLevel ?? 0.95;
  let pcErr = err(0);
  let units = Infinity;
  let errorMethod: "seed-bootstrap" | "curvature" = "curvature";
  const notes: string[] = [];
  if (lopts.replicates && lopts.replicates.lnNStar.length >= 2) {
    // Refit every seed-bootstrap replicate (same form, same σ policy): p_c's spread.
    const pcs: number[] = [];
    const sgs: number[] = [];
    for (const row of lopts.replicates.lnNStar) {
      const c = fitCore(
        points.map((q, i) => ({ ...q, lnNStar: row[i] })),
        form,
        sigma,
        { pc: best.pc, sg: best.sg },
      );
      if (c) {
        pcs.push(c.best.pc);
        sgs.push(c.best.sg);
      }
    }
    if (pcs.length >= Math.max(2, lopts.replicates.lnNStar.length / 2)) {
      pcErr = sampleSd(pcs) * lopts.replicates.expansion;
      if (form === "bkt" && sigma === null) paramErrs.sigma = sampleSd(sgs) * lopts.replicates.expansion;
      units = Math.min(lopts.replicates.units, pcs.length);
      errorMethod = "seed-bootstrap";
    } else notes.push(`only ${pcs.length} of ${lopts.replicates.lnNStar.length} replicate refits succeeded: p_c error from the χ² curvature`);
  }
  paramErrs.pc = pcErr;
  const q = ciQuantile(units, level);
  if (atEdge) notes.push(`p_c = ${best.pc.toPrecision(4)} sits at the end of its search range (1e-4 to 3 p-spans from the data): a bound, not a value`);
  if (pcErr === null) notes.push("no finite p_c error (χ² curvature not positive definite)");
  const violated = boundPenalty(bounds, form, best.pc, best.sg, prof.coef[0], prof.coef[1], side).violated.length;
  if (bounds.length > 0) notes.push(`${bounds.length} censored N* used as bounds (${violated} violated by the fit; they add to χ², not to dof)`);
  const sgErr = paramErrs.sigma ?? null;
  return {
    form,
    pc: best.pc,
    pcErr,
    pcCI: !atEdge ? tInterval(best.pc, pcErr, units, level) : null,
    pcBound: atEdge ? (best.pc < Math.min(...ps) ? "lower" : "upper") : null,
    ciLevel: level,
    errorMethod,
    params,
    paramErrs,
    sigmaFixed: form === "bkt" ? sigma !== null : false,
    sigmaHalfInCI: form === "bkt" && sigma === null && sgErr !== null ? Math.abs(best.sg - 0.5) <= q * sgErr : null,
    chi2: best.chi2,
    dof,
    reducedChi2: reduced,
    aic: best.chi2 + 2 * k,
    notes,
    points: points.map((q) => ({ ...q })),
    bounds: bounds.length,
    boundsViolated: violated,
  };
}
