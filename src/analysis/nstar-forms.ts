/**
 * N*(p) against a form that never diverges: ln N* = c0 + c1 (p − p̄) + c2 (p − p̄)² (p̄ the mean
 * p of the fitted points), fitted to the same points and bounds as the divergent forms (BKT and
 * the power law, lengthscale.ts), and compared with them the same way (AIC = χ² + 2k, the
 * bounds in χ²). "diverging" only when a divergent form beats the quadratic by nStarMinDeltaAic (10);
 * "not diverging" when the quadratic beats every divergent form by as much; else "undecided".
 * docs/analysis.md, "N*(p): diverging or not".
 */
import type { LengthScalePoint } from "./lengthscale.js";
import type { Architecture, LengthScaleFit } from "./schema.js";
import { SingularMatrixError, weightedLinearFit } from "./stats.js";

/** The quadratic fit (k = 3, like the power law and BKT with σ fixed). */
export interface QuadraticNStarFit {
  /** ln N* = c0 + c1 (p − pMean) + c2 (p − pMean)². */
  params: { c0: number; c1: number; c2: number; pMean: number };
  paramErrs: { c0: number; c1: number; c2: number };
  chi2: number;
  dof: number;
  aic: number;
  bounds: number;
  boundsViolated: number;
}

/** The comparison on one line (width, depth, p_train): analysis.json `nStarComparisons`. */
export interface NStarComparison extends Architecture {
  pTrain: number;
  quadratic: QuadraticNStarFit | null;
  /** AIC of every form fitted on these points ("bkt σ=½", "bkt σ fitted", "power", "quadratic"). */
  aic: Record<string, number>;
  verdict: "diverging" | "not diverging" | "undecided";
  reason: string;
}

const K = 3;

/** Weighted least squares with the violated bounds as pseudo-observations, iterated to a fixed point (as lengthscale.ts). */
export function fitNStarQuadratic(all: readonly LengthScalePoint[]): QuadraticNStarFit | null {
  const points = all.filter((q) => !q.censored);
  const bounds = all.filter((q) => q.censored);
  if (points.length - K < 1) return null;
  const pMean = points.reduce((a, q) => a + q.p, 0) / points.length;
  const row = (p: number): number[] => [1, p - pMean, (p - pMean) ** 2];
  const value = (c: number[], p: number): number => c[0] + c[1] * (p - pMean) + c[2] * (p - pMean) ** 2;
  let active: LengthScalePoint[] = [];
  let fit: { coef: number[]; cov: number[][] } | null = null;
  let chi2 = Infinity;
  let violated: LengthScalePoint[] = [];
  for (let iter = 0; iter < 20; iter++) {
    const used = [...points, ...active];
    try {
      fit = weightedLinearFit(used.map((q) => row(q.p)), used.map((q) => q.lnNStar), used.map((q) => q.lnNStarErr));
    } catch (e) {
      if (e instanceof SingularMatrixError) return null;
      throw e;
    }
    chi2 = points.reduce((a, q) => a + ((q.lnNStar - value(fit!.coef, q.p)) / q.lnNStarErr) ** 2, 0);
    violated = bounds.filter((b) => (b.censored === "above" ? b.lnNStar > value(fit!.coef, b.p) : b.lnNStar < value(fit!.coef, b.p)));
    chi2 += violated.reduce((a, b) => a + ((b.lnNStar - value(fit!.coef, b.p)) / b.lnNStarErr) ** 2, 0);
    if (violated.length === active.length && violated.every((b) => active.includes(b))) break;
    active = violated;
  }
  if (!fit || !Number.isFinite(chi2)) return null;
  const dof = points.length - K;
  const scale = Math.max(1, chi2 / dof);
  const err = (i: number): number => Math.sqrt(fit!.cov[i][i] * scale);
  return {
    params: { c0: fit.coef[0], c1: fit.coef[1], c2: fit.coef[2], pMean },
    paramErrs: { c0: err(0), c1: err(1), c2: err(2) },
    chi2,
    dof,
    aic: chi2 + 2 * K,
    bounds: bounds.length,
    boundsViolated: violated.length,
  };
}

function formName(f: Pick<LengthScaleFit, "form" | "sigmaFixed" | "params">): string {
  return f.form === "power" ? "power" : f.sigmaFixed ? `bkt σ=${f.params.sigma}` : "bkt σ fitted";
}

/**
 * The verdict on one line from its divergent fits (as analysed) and the quadratic on the same
 * points. A divergent fit whose p_c is a bound (at its search edge) has not located a
 * divergence and does not count for "diverging". Where the points include censored N* (bounds),
 * `measured` gives the same fits on the uncensored N* alone, and "diverging" must hold there too:
 * a bound says N* left the sampled range, not how, and a divergent form can meet it by putting
 * p_c on the bound while the measured N* stay flat, where the quadratic pays for the one bound it
 * cannot meet (robustness-trajectory, 3,000 steps, 64×2 at p_train 0.8: ln N* 8.74–8.90 over
 * p_eval 0–0.7, then N* > 16,000; power p_c = 0.8000016 ± 8·10⁻⁷ beat the quadratic by 725).
 */
export function compareNStarForms(line: Architecture & { pTrain: number }, divergent: readonly LengthScaleFit[], quadratic: QuadraticNStarFit | null, minDeltaAic: number, measured?: () => { divergent: readonly LengthScaleFit[]; quadratic: QuadraticNStarFit | null }): NStarComparison {
  const aic: Record<string, number> = {};
  for (const f of divergent) if (f.aic !== undefined) aic[formName(f)] = f.aic;
  if (quadratic) aic.quadratic = quadratic.aic;
  const located = divergent.filter((f) => f.aic !== undefined && !f.pcBound);
  const bestDiv = located.length > 0 ? located.reduce((a, b) => ((a.aic as number) <= (b.aic as number) ? a : b)) : null;
  const anyDiv = divergent.filter((f) => f.aic !== undefined);
  const minDivAic = anyDiv.length > 0 ? Math.min(...anyDiv.map((f) => f.aic as number)) : Infinity;
  const base = { width: line.width, depth: line.depth, pTrain: line.pTrain, quadratic, aic };
  const fmt = (v: number): string => v.toFixed(1);
  if (!quadratic) return { ...base, verdict: "undecided", reason: "the quadratic could not be fitted (too few N*)" };
  if (bestDiv && (bestDiv.aic as number) + minDeltaAic <= quadratic.aic) {
    const beats = `${formName(bestDiv)} (AIC ${fmt(bestDiv.aic as number)}) beats the non-divergent quadratic (AIC ${fmt(quadratic.aic)}) by ≥ ${minDeltaAic}`;
    if (!measured) return { ...base, verdict: "diverging", reason: beats };
    const m = measured();
    const alone = compareNStarForms(line, m.divergent, m.quadratic, minDeltaAic);
    if (alone.verdict === "diverging") return { ...base, verdict: "diverging", reason: `${beats}, and on the uncensored N* alone too` };
    return { ...base, verdict: "undecided", reason: `${beats} only with the censored N* (bounds); on the uncensored N* alone: ${alone.reason}` };
  }
  if (quadratic.aic + minDeltaAic <= minDivAic) return { ...base, verdict: "not diverging", reason: `the quadratic (AIC ${fmt(quadratic.aic)}) beats every divergent form (best AIC ${fmt(minDivAic)}) by ≥ ${minDeltaAic}` };
  const why = !bestDiv ? (anyDiv.length === 0 ? "no divergent form was fitted" : "every divergent fit has p_c at its search edge") : `ΔAIC ${fmt(quadratic.aic - (bestDiv.aic as number))} between ${formName(bestDiv)} and the quadratic is below ${minDeltaAic}`;
  return { ...base, verdict: "undecided", reason: `${why}: the data do not show that N* diverges` };
}
