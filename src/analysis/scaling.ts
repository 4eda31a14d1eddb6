/**
 * Scaling of the loss with the training-set size N ("neural scaling law").
 *
 * Power law (log-log weighted least squares):
 *   ln L(N) = ln A − α ln N,   weights 1/σ_i²,  σ_i = error of ln L_i, pooled over the
 *   curve's sizes (curves.ts pooledLogErrors: per-point variances from a few seeds are too
 *   noisy to weight by).
 *   α > 0: the loss decays algebraically with N.
 * α's uncertainty comes from the bootstrap of the curve (seeds; masks only with a single
 * seed, see curves.ts): the replicates' deviations from α̂ are multiplied by the small-sample
 * factor √(S/(S−1)). (Not by √(χ²/dof) as well: the replicates already carry the data's
 * scatter about the line. The analytic fallback, used when the replicates do not vary, is
 * scaled by max(1, √(χ²/dof)).)
 * Because that error is itself estimated from S resampling units (seeds), the interval uses
 * Student's t with S − 1 degrees of freedom:
 *   alphaErr = sd_b(α_b) · factor,   alphaCI = α̂ ± t_{S−1,(1+c)/2} · alphaErr
 * (Checked in test/analysis-scaling.test.ts: coverage of the 95% CI over repeated synthetic
 * draws. Percentile intervals of the replicates undercover with few seeds, hence this form.)
 *
 * Local slope between consecutive sizes:
 *   s_i = (ln L_{i+1} − ln L_i) / (ln N_{i+1} − ln N_i),
 *   σ(s_i) = √(σ_i² + σ_{i+1}²) / (ln N_{i+1} − ln N_i)     (σ_i pooled, as above)
 *
 * Offset fit (variable projection: linear in A, L∞ for fixed α; α by 1-D minimisation):
 *   L(N) = A N^(−α) + L∞,  weights 1/(σ_i L_i)² (pooled σ_i), errors from (JᵀWJ)⁻¹ scaled
 *   by max(1, χ²/dof).
 */
import { MentiaError } from "../errors.js";
import { describeGridPoint } from "./curves.js";
import { pooledLogErrors } from "./seeds.js";
import type { LocalSlope, LossCurve, OffsetFit, PowerLawFit, ScalingFit } from "./schema.js";
import { SingularMatrixError, invert, minimize1d, weightedLine, weightedLinearFit } from "./stats.js";
import { ciQuantile, replicateIntervalOrFallback } from "./intervals.js";

export interface ScalingOptions {
  ciLevel: number;
}

/** A scaling fit plus the per-replicate numbers later stages reuse (not written to JSON). */
export interface ScalingWork {
  fit: ScalingFit;
  /** α of each bootstrap replicate (raw, before the expansion factor). */
  bootAlphas: number[];
  /** The factor applied to bootstrap deviations (small-sample √(S/(S−1))). */
  errorFactor: number;
}

function requireSizes(curve: LossCurve, min: number, what: string): void {
  if (curve.points.length < min) throw new MentiaError(`${what} for ${describeGridPoint(curve)} needs at least ${min} training-set sizes, got ${curve.points.length}`);
}

/** α̂ = −slope of the weighted line ln L vs ln N. */
export function powerLawAlpha(lnN: readonly number[], lnL: readonly number[], w: readonly number[]): number {
  return -weightedLine(lnN, lnL, w)[1];
}

export { ciQuantile };

/**
 * Fits L ~ A N^(−α) to a curve and its bootstrap replicates (`bootMeans[b][i]`, with the
 * expansion factor and resampling-unit count from bootstrapCurve). Also fits the upper half of the N range (the tail) when the curve has at
 * least 4 sizes.
 */
export function fitPowerLaw(curve: LossCurve, bootMeans: readonly number[][], expansion: number, units: number, opts: ScalingOptions): { fit: PowerLawFit; bootAlphas: number[]; errorFactor: number } {
  requireSizes(curve, 2, "a power-law fit");
  const lnN = curve.points.map((p) => Math.log(p.n));
  const lnL = curve.points.map((p) => Math.log(p.mean));
  const sig = pooledLogErrors(curve);
  const w = sig.map((s) => 1 / (s * s));
  const lin = weightedLinearFit(
    lnN.map((x) => [1, x]),
    lnL,
    sig,
  );
  const alpha = -lin.coef[1];
  const reduced = lin.dof > 0 ? lin.chi2 / lin.dof : null;
  const scale = reduced !== null && reduced > 1 ? Math.sqrt(reduced) : 1;
  // The bootstrap replicates already carry the scatter of the data about the line, so the
  // χ² scale factor is not applied to them (that would count the scatter twice); it is
  // applied only to the analytic fallback, whose σ are the quoted errors.
  const factor = expansion;
  const bootAlphas = bootMeans.map((row) => powerLawAlpha(lnN, row.map(Math.log), w));
  const analyticErr = Math.sqrt(lin.cov[1][1]) * scale;
  const { err, ci } = replicateIntervalOrFallback(alpha, bootAlphas, factor, units, opts.ciLevel, analyticErr);

  let tail: PowerLawFit["tail"] = null;
  const n = curve.points.length;
  if (n >= 4) {
    const start = n - Math.max(3, Math.ceil(n / 2));
    const tN = lnN.slice(start);
    const tw = w.slice(start);
    const tSig = sig.slice(start);
    const tLin = weightedLinearFit(
      tN.map((x) => [1, x]),
      lnL.slice(start),
      tSig,
    );
    const tAlpha = -tLin.coef[1];
    const tRed = tLin.dof > 0 ? tLin.chi2 / tLin.dof : null;
    const tScale = tRed !== null && tRed > 1 ? Math.sqrt(tRed) : 1;
    const tReps = bootMeans.map((row) => powerLawAlpha(tN, row.slice(start).map(Math.log), tw));
    const t = replicateIntervalOrFallback(tAlpha, tReps, expansion, units, opts.ciLevel, Math.sqrt(tLin.cov[1][1]) * tScale);
    tail = { alpha: tAlpha, alphaErr: t.err, alphaCI: t.ci, nMin: curve.points[start].n, nMax: curve.points[n - 1].n };
  }

  return {
    fit: {
      alpha,
      alphaErr: err,
      alphaCI: ci,
      ciLevel: opts.ciLevel,
      amplitude: Math.exp(lin.coef[0]),
      chi2: lin.chi2,
      dof: lin.dof,
      reducedChi2: reduced,
      bootstrapReplicates: bootMeans.length,
      tail,
    },
    bootAlphas,
    errorFactor: factor,
  };
}

/** d ln L / d ln N between consecutive sizes, with propagated errors. */
export function localSlopes(curve: LossCurve): LocalSlope[] {
  requireSizes(curve, 2, "local slopes");
  const sig = pooledLogErrors(curve);
  const out: LocalSlope[] = [];
  for (let i = 0; i + 1 < curve.points.length; i++) {
    const a = curve.points[i];
    const b = curve.points[i + 1];
    const du = Math.log(b.n) - Math.log(a.n);
    out.push({
      nLow: a.n,
      nHigh: b.n,
      nMid: Math.sqrt(a.n * b.n),
      slope: (Math.log(b.mean) - Math.log(a.mean)) / du,
      slopeErr: Math.hypot(sig[i], sig[i + 1]) / du,
    });
  }
  return out;
}

/**
 * Offset fit L = A N^(−α) + L∞ by variable projection: for fixed α the model is linear in
 * (A, L∞), solved by weighted least squares (with L∞ ≥ 0: a negative solution is replaced
 * by the best fit at L∞ = 0); χ²(α) is then minimised over α ∈ [−3, 5] (grid + golden
 * section). This finds the global optimum where a plain Levenberg–Marquardt start can stall
 * (the problem is nearly degenerate between α and L∞). Errors from (JᵀWJ)⁻¹ at the optimum,
 * scaled by max(1, χ²/dof); when L∞ sits at its bound 0 its error is still reported.
 * Returns { fit: null, note } with fewer than 4 sizes or a singular JᵀWJ.
 */
export function fitOffsetPowerLaw(curve: LossCurve, _start?: { amplitude: number; alpha: number }): { fit: OffsetFit | null; note: string | null } {
  const n = curve.points.length;
  if (n < 4) return { fit: null, note: `offset fit needs ≥ 4 sizes (has ${n})` };
  const N0 = curve.points[0].n;
  // r = N / N0 keeps the amplitude at the scale of the loss at the smallest N.
  const r = curve.points.map((p) => p.n / N0);
  const y = curve.points.map((p) => p.mean);
  const s = pooledLogErrors(curve).map((e, i) => e * y[i]);
  const solve = (al: number): { a: number; c: number; chi2: number } => {
    const g = r.map((v) => Math.pow(v, -al));
    let a: number;
    let c: number;
    try {
      const f = weightedLinearFit(
        g.map((v) => [v, 1]),
        y,
        s,
      );
      [a, c] = f.coef;
    } catch (e) {
      if (!(e instanceof SingularMatrixError)) throw e;
      [a, c] = [NaN, NaN];
    }
    if (!(c >= 0)) {
      let num = 0;
      let den = 0;
      for (let i = 0; i < n; i++) {
        num += (g[i] * y[i]) / (s[i] * s[i]);
        den += (g[i] * g[i]) / (s[i] * s[i]);
      }
      a = num / den;
      c = 0;
    }
    let chi2 = 0;
    for (let i = 0; i < n; i++) chi2 += ((y[i] - a * g[i] - c) / s[i]) ** 2;
    return { a, c, chi2 };
  };
  const m = minimize1d((al) => solve(al).chi2, -3, 5, 161, 1e-10);
  const al = m.x;
  const { a, c, chi2 } = solve(al);
  if (![a, c, chi2].every(Number.isFinite)) return { fit: null, note: "offset fit failed (non-finite solution)" };
  // Covariance (JᵀWJ)⁻¹ for parameters (a, α, L∞).
  const J = r.map((v) => {
    const pw = Math.pow(v, -al);
    return [pw, -a * Math.log(v) * pw, 1];
  });
  const M = [0, 1, 2].map((i) => [0, 1, 2].map((j) => J.reduce((acc, row, k) => acc + (row[i] * row[j]) / (s[k] * s[k]), 0)));
  let cov: number[][];
  try {
    cov = invert(M);
  } catch (e) {
    if (e instanceof SingularMatrixError) return { fit: null, note: "offset fit is degenerate (parameters not determined by the data)" };
    throw e;
  }
  const dof = n - 3;
  const reduced = dof > 0 ? chi2 / dof : null;
  const scale = reduced !== null && reduced > 1 ? reduced : 1;
  const errs = [0, 1, 2].map((i) => Math.sqrt(cov[i][i] * scale));
  if (!errs.every((e) => Number.isFinite(e))) return { fit: null, note: "offset fit has undefined errors (flat direction)" };
  // Back to N: A = a N0^α.
  const amp = a * Math.pow(N0, al);
  const ampErr = Math.abs(amp) * Math.hypot(errs[0] / Math.abs(a), Math.log(N0) * errs[1]);
  return {
    fit: { amplitude: amp, amplitudeErr: ampErr, alpha: al, alphaErr: errs[1], lInf: c, lInfErr: errs[2], chi2, dof, reducedChi2: reduced },
    note: null,
  };
}

/** All scaling numbers of one curve: power law with bootstrap CI, local slopes, offset fit. */
export function scalingFit(curve: LossCurve, boot: { means: readonly number[][]; expansion: number; units: number }, opts: ScalingOptions): ScalingWork {
  const pl = fitPowerLaw(curve, boot.means, boot.expansion, boot.units, opts);
  const off = fitOffsetPowerLaw(curve);
  return {
    fit: {
      width: curve.width,
      depth: curve.depth,
      pTrain: curve.pTrain,
      pEval: curve.pEval,
      powerLaw: pl.fit,
      offset: off.fit,
      offsetNote: off.note,
      localSlopes: localSlopes(curve),
    },
    bootAlphas: pl.bootAlphas,
    errorFactor: pl.errorFactor,
  };
}
