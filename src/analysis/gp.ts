/**
 * Gaussian-process master curve for finite-size-scaling collapses (K. Harada, "Bayesian
 * inference in the scaling analysis of critical phenomena", Phys. Rev. E 84, 056704 (2011)).
 *
 * Scaled points (X_i, Y_i ± dY_i) of a collapse are modelled as one smooth function F plus
 * their own noise: Y = F(X) + ε, F ~ GP(m, a² exp(−(u − u')² / (2ℓ²))), ε_i ~ N(0, dY_i²),
 * with the input warped, u = asinh((X − c)/w). The warp lets one length scale serve both the
 * bend of F near the transition (w small) and the long flat tails that a coarse p grid
 * stretches over hundreds of units of X at large N (a stationary kernel in X cannot: between
 * two far-apart tail points it reverts to its mean with a large variance). The mean m is the
 * generalised-least-squares constant. Hyper-parameters (a, ℓ, w) are fitted, jointly with the
 * scaling parameters, by maximising the marginal likelihood
 *     −2 ln L = (Y − m)ᵀ K⁻¹ (Y − m) + ln det K + n ln 2π,   K = a² k(u, u') + diag(dY²).
 * The interpolation's own uncertainty is the GP's predictive variance, so a point between
 * two far-apart points of the other sizes is not held to a straight line between them.
 */

/** Hyper-parameters on the log scale, relative to the data (see `gpScales`). */
export interface GpHyper {
  /** ln(a / sd(Y)) */
  lnAmp: number;
  /** ln ℓ, ℓ in warped units u */
  lnEll: number;
  /** ln(w / max|X − c|) */
  lnWarp: number;
}

/** Bounds of the hyper-parameters (internal coordinates of the fit). */
export const GP_HYPER_BOUNDS: Record<keyof GpHyper, [number, number]> = {
  lnAmp: [-6, 4],
  lnEll: [Math.log(0.02), Math.log(30)],
  lnWarp: [-12, 3],
};

export const GP_HYPER_START: GpHyper = { lnAmp: 0, lnEll: Math.log(0.7), lnWarp: -4 };

/** Work arrays reused across evaluations of one problem size. */
export class GpWork {
  readonly K: Float64Array;
  readonly u: Float64Array;
  readonly alpha: Float64Array;
  readonly ones: Float64Array;
  constructor(readonly n: number) {
    this.K = new Float64Array(n * n);
    this.u = new Float64Array(n);
    this.alpha = new Float64Array(n);
    this.ones = new Float64Array(n);
  }
}

/**
 * In-place lower Cholesky of the n×n row-major matrix A; false if not positive definite.
 * Two columns (j, j + 1) at a time, four rows at a time: each load of a row element serves
 * both columns and each load of the two pivot rows four rows (≈ 2.5× a plain loop: this is
 * where a collapse fit spends most of its time).
 */
function choleskyInPlace(A: Float64Array, n: number): boolean {
  let j = 0;
  for (; j + 1 < n; j += 2) {
    const rj = j * n;
    const rk = rj + n;
    // the 2×2 diagonal block
    let d = A[rj + j];
    for (let k = 0; k < j; k++) d -= A[rj + k] * A[rj + k];
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    A[rj + j] = ljj;
    const inv = 1 / ljj;
    let s = 0;
    for (let k = 0; k < j; k++) s += A[rk + k] * A[rj + k];
    const l10 = (A[rk + j] - s) * inv;
    A[rk + j] = l10;
    let d1 = A[rk + j + 1];
    for (let k = 0; k <= j; k++) d1 -= A[rk + k] * A[rk + k];
    if (!(d1 > 0)) return false;
    const l11 = Math.sqrt(d1);
    A[rk + j + 1] = l11;
    const inv1 = 1 / l11;
    // rows below: L[i][j] and L[i][j+1] from one pass over row i
    let i = j + 2;
    for (; i + 3 < n; i += 4) {
      const r0 = i * n;
      const r1 = r0 + n;
      const r2 = r1 + n;
      const r3 = r2 + n;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      for (let k = 0; k < j; k++) {
        const a = A[rj + k];
        const b = A[rk + k];
        const x0 = A[r0 + k];
        const x1 = A[r1 + k];
        const x2 = A[r2 + k];
        const x3 = A[r3 + k];
        s0 += x0 * a;
        s1 += x1 * a;
        s2 += x2 * a;
        s3 += x3 * a;
        t0 += x0 * b;
        t1 += x1 * b;
        t2 += x2 * b;
        t3 += x3 * b;
      }
      const y0 = (A[r0 + j] - s0) * inv;
      const y1 = (A[r1 + j] - s1) * inv;
      const y2 = (A[r2 + j] - s2) * inv;
      const y3 = (A[r3 + j] - s3) * inv;
      A[r0 + j] = y0;
      A[r1 + j] = y1;
      A[r2 + j] = y2;
      A[r3 + j] = y3;
      A[r0 + j + 1] = (A[r0 + j + 1] - (t0 + y0 * l10)) * inv1;
      A[r1 + j + 1] = (A[r1 + j + 1] - (t1 + y1 * l10)) * inv1;
      A[r2 + j + 1] = (A[r2 + j + 1] - (t2 + y2 * l10)) * inv1;
      A[r3 + j + 1] = (A[r3 + j + 1] - (t3 + y3 * l10)) * inv1;
    }
    for (; i < n; i++) {
      const ri = i * n;
      let s0 = 0;
      let t0 = 0;
      for (let k = 0; k < j; k++) {
        const x = A[ri + k];
        s0 += x * A[rj + k];
        t0 += x * A[rk + k];
      }
      const y = (A[ri + j] - s0) * inv;
      A[ri + j] = y;
      A[ri + j + 1] = (A[ri + j + 1] - (t0 + y * l10)) * inv1;
    }
  }
  if (j < n) {
    // n odd: the last diagonal element
    const rj = j * n;
    let d = A[rj + j];
    for (let k = 0; k < j; k++) d -= A[rj + k] * A[rj + k];
    if (!(d > 0)) return false;
    A[rj + j] = Math.sqrt(d);
  }
  return true;
}

/** Solves L z = b in place (forward substitution), L the lower factor in A. */
function forward(A: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    const ri = i * n;
    for (let k = 0; k < i; k++) s -= A[ri + k] * b[k];
    b[i] = s / A[ri + i];
  }
}

/** forward() on two right-hand sides at once (one pass over L, two independent sums). */
function forward2(A: Float64Array, n: number, b: Float64Array, c: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    let t = c[i];
    const ri = i * n;
    for (let k = 0; k < i; k++) {
      const a = A[ri + k];
      s -= a * b[k];
      t -= a * c[k];
    }
    const d = A[ri + i];
    b[i] = s / d;
    c[i] = t / d;
  }
}

/** Solves Lᵀ z = b in place (back substitution). */
function backward(A: Float64Array, n: number, b: Float64Array): void {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= A[k * n + i] * b[k];
    b[i] = s / A[i * n + i];
  }
}

/** Data-relative scales: centre c of the warp, X scale, Y scale. */
export interface GpScales {
  center: number;
  xScale: number;
  ySd: number;
}

export function gpScales(X: ArrayLike<number>, Y: ArrayLike<number>, center: number, idx?: ArrayLike<number>): GpScales {
  const ids = idx ?? Array.from({ length: X.length }, (_, i) => i);
  let xs = 0;
  let my = 0;
  for (let k = 0; k < ids.length; k++) {
    xs = Math.max(xs, Math.abs(X[ids[k]] - center));
    my += Y[ids[k]];
  }
  my /= Math.max(1, ids.length);
  let vy = 0;
  for (let k = 0; k < ids.length; k++) vy += (Y[ids[k]] - my) ** 2;
  const ySd = Math.sqrt(vy / Math.max(1, ids.length - 1));
  return { center, xScale: xs > 0 ? xs : 1, ySd: ySd > 0 ? ySd : 1 };
}

/** The warped input u = asinh((x − c)/w) of the kernel. */
export function gpWarp(x: number, s: GpScales, h: GpHyper): number {
  return Math.asinh((x - s.center) / (s.xScale * Math.exp(h.lnWarp)));
}

/** Fills K (n×n) for the points idx and factors it; returns false when not positive definite. */
function buildK(w: GpWork, X: ArrayLike<number>, dY: ArrayLike<number>, idx: ArrayLike<number>, s: GpScales, h: GpHyper): boolean {
  const n = idx.length;
  const a2 = (s.ySd * Math.exp(h.lnAmp)) ** 2;
  const inv2l2 = 1 / (2 * Math.exp(2 * h.lnEll));
  for (let i = 0; i < n; i++) w.u[i] = gpWarp(X[idx[i]], s, h);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j < i; j++) {
      const d = w.u[i] - w.u[j];
      const e = d * d * inv2l2;
      // e^(−40) ≈ 4·10⁻¹⁸: below the jitter, and exp is a sixth of an evaluation's time
      w.K[ri + j] = e > 40 ? 0 : a2 * Math.exp(-e);
    }
    // a tiny jitter keeps K positive definite when two points coincide in u
    w.K[ri + i] = a2 * (1 + 1e-10) + dY[idx[i]] * dY[idx[i]];
  }
  return choleskyInPlace(w.K, n);
}

export interface GpFit {
  /** −2 ln L of the points (Y units), the GLS mean profiled out. */
  m2ll: number;
  mean: number;
}

/**
 * −2 ln of the GP marginal likelihood of the points idx (all when omitted), with the constant
 * mean at its GLS value. Infinity when K is not positive definite.
 */
export function gpMinus2LogLik(w: GpWork, X: ArrayLike<number>, Y: ArrayLike<number>, dY: ArrayLike<number>, s: GpScales, h: GpHyper, idx?: ArrayLike<number>): GpFit {
  const ids = idx ?? Array.from({ length: X.length }, (_, i) => i);
  const n = ids.length;
  if (!buildK(w, X, dY, ids, s, h)) return { m2ll: Infinity, mean: 0 };
  for (let i = 0; i < n; i++) {
    w.alpha[i] = Y[ids[i]];
    w.ones[i] = 1;
  }
  forward2(w.K, n, w.alpha, w.ones);
  let a1 = 0;
  let o1 = 0;
  for (let i = 0; i < n; i++) {
    a1 += w.alpha[i] * w.ones[i];
    o1 += w.ones[i] * w.ones[i];
  }
  const m = a1 / o1;
  let quad = 0;
  let logDet = 0;
  for (let i = 0; i < n; i++) {
    const r = w.alpha[i] - m * w.ones[i];
    quad += r * r;
    logDet += 2 * Math.log(w.K[i * n + i]);
  }
  return { m2ll: quad + logDet + n * Math.log(2 * Math.PI), mean: m };
}

/**
 * GP prediction at the test points from the training points (indices into X, Y, dY): the
 * posterior mean and variance of F (the GLS mean's own uncertainty included).
 */
export function gpPredict(X: ArrayLike<number>, Y: ArrayLike<number>, dY: ArrayLike<number>, train: ArrayLike<number>, test: ArrayLike<number>, s: GpScales, h: GpHyper): { mean: number[]; variance: number[] } | null {
  const n = train.length;
  const w = new GpWork(n);
  if (!buildK(w, X, dY, train, s, h)) return null;
  const alpha = new Float64Array(n);
  const ones = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    alpha[i] = Y[train[i]];
    ones[i] = 1;
  }
  forward2(w.K, n, alpha, ones);
  let a1 = 0;
  let o1 = 0;
  for (let i = 0; i < n; i++) {
    a1 += alpha[i] * ones[i];
    o1 += ones[i] * ones[i];
  }
  const m = a1 / o1;
  // alpha ← K⁻¹ (Y − m), onesK ← K⁻¹ 1 (for the mean's uncertainty)
  for (let i = 0; i < n; i++) alpha[i] -= m * ones[i];
  backward(w.K, n, alpha);
  const kinv1 = Float64Array.from(ones);
  backward(w.K, n, kinv1);
  const a2 = (s.ySd * Math.exp(h.lnAmp)) ** 2;
  const inv2l2 = 1 / (2 * Math.exp(2 * h.lnEll));
  const mean: number[] = [];
  const variance: number[] = [];
  const ks = new Float64Array(n);
  for (let t = 0; t < test.length; t++) {
    const ut = gpWarp(X[test[t]], s, h);
    let mu = m;
    for (let i = 0; i < n; i++) {
      const d = ut - w.u[i];
      ks[i] = a2 * Math.exp(-d * d * inv2l2);
      mu += ks[i] * alpha[i];
    }
    // v = a² − k*ᵀK⁻¹k* + (1 − 1ᵀK⁻¹k*)² / (1ᵀK⁻¹1)
    let r1 = 0;
    for (let i = 0; i < n; i++) r1 += kinv1[i] * ks[i];
    forward(w.K, n, ks);
    let q = 0;
    for (let i = 0; i < n; i++) q += ks[i] * ks[i];
    const v = a2 - q + ((1 - r1) * (1 - r1)) / o1;
    mean.push(mu);
    variance.push(Math.max(v, 0));
  }
  return { mean, variance };
}

/**
 * Effective number of parameters of the master curve at the points idx: tr S with S the
 * smoother that maps Y to the posterior mean of F, S = A (A + D)⁻¹, A = a² k(u, u'), D =
 * diag(dY²); tr S = n − Σ_i dY_i² (K⁻¹)_ii. A smooth curve through the points of many sizes
 * uses a few; a curve that threads every point on its own uses about one per point.
 */
export function gpEffectiveDof(X: ArrayLike<number>, dY: ArrayLike<number>, idx: ArrayLike<number>, s: GpScales, h: GpHyper): number | null {
  const n = idx.length;
  const w = new GpWork(n);
  if (!buildK(w, X, dY, idx, s, h)) return null;
  // diag(K⁻¹)_i = ‖L⁻¹ e_i‖²: column i of L⁻¹ by forward substitution from row i on
  const col = new Float64Array(n);
  let tr = n;
  for (let i = 0; i < n; i++) {
    col.fill(0);
    col[i] = 1 / w.K[i * n + i];
    let ss = col[i] * col[i];
    for (let r = i + 1; r < n; r++) {
      let v = 0;
      const rr = r * n;
      for (let k = i; k < r; k++) v -= w.K[rr + k] * col[k];
      col[r] = v / w.K[rr + r];
      ss += col[r] * col[r];
    }
    tr -= dY[idx[i]] * dY[idx[i]] * ss;
  }
  return tr;
}
