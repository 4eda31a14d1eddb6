/**
 * The phase rule's evidence: the local exponent α_w = −d ln L / d ln N over a stated window of
 * the largest sizes, with its seed-bootstrap interval (docs/analysis.md, "The phase rule").
 *
 * Why: the phase is a statement about large N (does more data still help?), so it must not
 * rest on one power law over the whole N range (rejected in eumentia: χ²/dof ≫ 1, so α would
 * depend on the N window anyway) nor on "the upper half of the grid" counted by index (which
 * moves with the grid). The window is a fixed span in ln N, [N_max / f, N_max] (f = e^window,
 * default 4), widened to the 3 largest sizes when it holds fewer; α_w is the least-squares slope
 * of ln L̄ on ln N there (equal weights: the relative errors of one curve are pooled anyway), and
 * every bootstrap replicate (the same seed draws as everything else, curves.ts) gives one α_w.
 * The labels then follow the usual rules with α_w in place of the global α (classifyPhases):
 * eumentia when α_w's interval lies above 0 (L still falls at the largest sizes), dementia when it
 * lies below the flat tolerance while the baseline learned (L flat or rising there), amentia from
 * the baseline at chance, uncertain otherwise. An interior minimum below the window is then
 * dementia, however the curve falls before it.
 */
import type { CurveBootstrap } from "./seeds.js";
import type { PhaseInput } from "./phases.js";
import type { GridPoint, LossCurve } from "./schema.js";
import { replicateIntervalStrict } from "./intervals.js";

/** The default window: the largest factor 4 of N. */
export const DEFAULT_SLOPE_WINDOW = Math.log(4);
export const MIN_WINDOW_SIZES = 3;

/** α over the window of the largest sizes at one grid point (analysis.json `windowSlopes`). */
export interface WindowSlope extends GridPoint {
  alpha: number;
  alphaErr: number;
  alphaCI: [number, number];
  ciLevel: number;
  /** The sizes the slope is taken over: [nMin, nMax], `sizes` of them. */
  nMin: number;
  nMax: number;
  sizes: number;
}

/** The indices of the window's points: ln N ≥ ln N_max − window, at least the 3 largest. */
export function windowIndices(ns: readonly number[], window: number): number[] {
  const lnMax = Math.log(ns[ns.length - 1]);
  const inside = ns.map((n, i) => (Math.log(n) >= lnMax - window - 1e-12 ? i : -1)).filter((i) => i >= 0);
  if (inside.length >= MIN_WINDOW_SIZES || ns.length < MIN_WINDOW_SIZES) return inside.length >= MIN_WINDOW_SIZES ? inside : ns.map((_, i) => i);
  return ns.map((_, i) => i).slice(ns.length - MIN_WINDOW_SIZES);
}

/** −slope of ln y on ln N over the given points (ordinary least squares). */
export function logSlopeAlpha(ns: readonly number[], ys: readonly number[], idx: readonly number[]): number {
  const x = idx.map((i) => Math.log(ns[i]));
  const y = idx.map((i) => Math.log(ys[i]));
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0, sxx = 0;
  for (let k = 0; k < x.length; k++) {
    sxy += (x[k] - mx) * (y[k] - my);
    sxx += (x[k] - mx) ** 2;
  }
  return -sxy / sxx;
}

/** α_w of a curve with its bootstrap error and interval; null with fewer than 2 sizes. */
export function windowSlope(curve: LossCurve, boot: CurveBootstrap, window: number, ciLevel: number): { slope: WindowSlope; bootAlphas: number[] } | null {
  const ns = curve.points.map((p) => p.n);
  if (ns.length < 2) return null;
  const idx = windowIndices(ns, window);
  const alpha = logSlopeAlpha(ns, curve.points.map((p) => p.mean), idx);
  // Aligned with the replicates of every other curve (phaseBoundaries pairs them by index).
  const bootAlphas = boot.means.map((m) => logSlopeAlpha(ns, m, idx)).map((a) => (Number.isFinite(a) ? a : alpha));
  const { err: alphaErr, ci: alphaCI } = replicateIntervalStrict(alpha, bootAlphas, boot.expansion, boot.units, ciLevel);
  return {
    slope: { width: curve.width, depth: curve.depth, pTrain: curve.pTrain, pEval: curve.pEval, alpha, alphaErr, alphaCI, ciLevel, nMin: ns[idx[0]], nMax: ns[idx[idx.length - 1]], sizes: idx.length },
    bootAlphas,
  };
}

/**
 * The phase inputs with α_w in place of the global power law's α (its interval, replicates and
 * error factor; no tail fit), so that classifyPhases and phaseBoundaries apply the one rule.
 */
export function windowPhaseInputs(inputs: readonly PhaseInput[], boot: ReadonlyMap<LossCurve, CurveBootstrap>, window: number, ciLevel: number): { inputs: PhaseInput[]; slopes: WindowSlope[] } {
  const out: PhaseInput[] = [];
  const slopes: WindowSlope[] = [];
  for (const inp of inputs) {
    const b = boot.get(inp.curve);
    const w = b ? windowSlope(inp.curve, b, window, ciLevel) : null;
    if (!w) {
      out.push({ ...inp, fit: { ...inp.fit, powerLaw: { ...inp.fit.powerLaw, tail: null } } });
      continue;
    }
    slopes.push(w.slope);
    out.push({
      curve: inp.curve,
      fit: { ...inp.fit, powerLaw: { ...inp.fit.powerLaw, alpha: w.slope.alpha, alphaErr: w.slope.alphaErr, alphaCI: w.slope.alphaCI, tail: null } },
      bootAlphas: w.bootAlphas,
      errorFactor: b!.expansion,
    });
  }
  return { inputs: out, slopes };
}

/** Labels made from α_w say so: " (α over the window N = nMin…nMax)" after their reason. */
export function annotateWindow<T extends GridPoint & { reason: string }>(labels: readonly T[], slopes: readonly WindowSlope[]): T[] {
  return labels.map((l) => {
    const s = slopes.find((x) => x.width === l.width && x.depth === l.depth && x.pTrain === l.pTrain && x.pEval === l.pEval);
    return s ? { ...l, reason: `${l.reason} (α over the window N = ${s.nMin}…${s.nMax}, ${s.sizes} sizes)` } : l;
  });
}
