/**
 * Statistics and numerical tools for mentia's analysis: a seeded PRNG (so every bootstrap and
 * global search is reproducible), summary statistics, weighted linear least squares, small
 * dense linear algebra, Nelder–Mead, differential evolution and numerical Hessians.
 *
 * Plain functions over plain arrays; nothing here knows about networks or sweeps.
 */

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state), seeded through
 * splitmix32. Analysis-only: the engine has its own, separately specified generator.
 */
/**
 * The analysis' named random streams: every consumer of randomness draws from its own stream,
 * seeded from the analysis seed and the stream's name (instead of ad-hoc seed offsets), so
 * adding a draw in one place never shifts another's numbers.
 */
export type AnalysisStream = "curve-bootstrap" | "collapse-seeds" | "collapse-search" | "collapse-sigma-half" | "collapse-predictive" | "collapse-gp" | "collapse-gp-joint";

export function analysisStreamSeed(seed: number, stream: AnalysisStream): number {
  // FNV-1a of the name, mixed with the seed
  let h = 0x811c9dc5;
  for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193) >>> 0;
  return (Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ h) >>> 0;
}

export class AnalysisRng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(seed: number) {
    let z = seed >>> 0;
    const next = (): number => {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x21f0aaad);
      t = Math.imul(t ^ (t >>> 15), 0x735a2d97);
      return (t ^ (t >>> 15)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Marsaglia polar method). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const m = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = v * m;
        return u * m;
      }
    }
  }
}

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (n − 1 denominator); 0 for fewer than two values. */
export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / (xs.length - 1));
}

/** Linear-interpolated quantile (type 7, as R and NumPy default) of unsorted values. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) throw new Error("quantile of an empty array");
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

/** Standard-normal quantile (Acklam's rational approximation, |rel. err| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p must lie in (0,1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Result of a weighted linear least-squares fit y ≈ X·c. */
export interface LinearFit {
  coef: number[];
  /** Covariance of coef assuming the given σ are correct: (XᵀWX)⁻¹. */
  cov: number[][];
  chi2: number;
  dof: number;
}

/**
 * Weighted linear least squares: minimise Σ_i ((y_i − Σ_j X_ij c_j) / σ_i)².
 * Normal equations solved by Cholesky-free Gauss–Jordan on the small (k×k) system.
 */
export function weightedLinearFit(X: readonly (readonly number[])[], y: readonly number[], sigma: readonly number[]): LinearFit {
  const n = y.length;
  const k = X[0]?.length ?? 0;
  if (n < k || k === 0) throw new Error(`weightedLinearFit: ${n} points for ${k} coefficients`);
  const A = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const bv = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    const w = 1 / (sigma[i] * sigma[i]);
    for (let a = 0; a < k; a++) {
      bv[a] += w * X[i][a] * y[i];
      for (let b = 0; b < k; b++) A[a][b] += w * X[i][a] * X[i][b];
    }
  }
  const cov = invert(A);
  const coef = cov.map((row) => row.reduce((s, v, j) => s + v * bv[j], 0));
  let chi2 = 0;
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let a = 0; a < k; a++) f += X[i][a] * coef[a];
    chi2 += ((y[i] - f) / sigma[i]) ** 2;
  }
  return { coef, cov, chi2, dof: n - k };
}

/**
 * Slope of the weighted straight line y = a + b x; the fast path used inside bootstraps.
 * Returns [a, b].
 */
export function weightedLine(x: readonly number[], y: readonly number[], w: readonly number[]): [number, number] {
  let S = 0;
  let Sx = 0;
  let Sy = 0;
  let Sxx = 0;
  let Sxy = 0;
  for (let i = 0; i < x.length; i++) {
    S += w[i];
    Sx += w[i] * x[i];
    Sy += w[i] * y[i];
    Sxx += w[i] * x[i] * x[i];
    Sxy += w[i] * x[i] * y[i];
  }
  const det = S * Sxx - Sx * Sx;
  const b = (S * Sxy - Sx * Sy) / det;
  const a = (Sy - b * Sx) / S;
  return [a, b];
}

/** Inverse of a small square matrix by Gauss–Jordan with partial pivoting; throws if singular. */
export function invert(M: readonly (readonly number[])[]): number[][] {
  const n = M.length;
  const A = M.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(A[r][col]) > Math.abs(A[piv][col])) piv = r;
    const scale = Math.max(...M.map((row) => Math.abs(row[col])), 1e-300);
    if (Math.abs(A[piv][col]) <= 1e-14 * scale) throw new SingularMatrixError();
    [A[col], A[piv]] = [A[piv], A[col]];
    const p = A[col][col];
    for (let j = 0; j < 2 * n; j++) A[col][j] /= p;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = A[r][col];
      if (f === 0) continue;
      for (let j = 0; j < 2 * n; j++) A[r][j] -= f * A[col][j];
    }
  }
  return A.map((row) => row.slice(n));
}

export class SingularMatrixError extends Error {
  constructor() {
    super("singular matrix");
  }
}

/**
 * Numerical Hessian of f at x by central differences with steps h_i.
 *   H_ii = (f(x+h_i) − 2f(x) + f(x−h_i)) / h_i²
 *   H_ij = (f(x+h_i+h_j) − f(x+h_i−h_j) − f(x−h_i+h_j) + f(x−h_i−h_j)) / (4 h_i h_j)
 */
export function numericalHessian(f: (x: number[]) => number, x: readonly number[], h: readonly number[]): number[][] {
  const n = x.length;
  const f0 = f([...x]);
  const at = (d: [number, number][]): number => {
    const y = [...x];
    for (const [i, s] of d) y[i] += s;
    return f(y);
  };
  const H = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    H[i][i] = (at([[i, h[i]]]) - 2 * f0 + at([[i, -h[i]]])) / (h[i] * h[i]);
    for (let j = 0; j < i; j++) {
      const v = (at([[i, h[i]], [j, h[j]]]) - at([[i, h[i]], [j, -h[j]]]) - at([[i, -h[i]], [j, h[j]]]) + at([[i, -h[i]], [j, -h[j]]])) / (4 * h[i] * h[j]);
      H[i][j] = v;
      H[j][i] = v;
    }
  }
  return H;
}

/**
 * Cholesky factor L (M = L Lᵀ) of a symmetric matrix, or null when M is not positive
 * definite (a pivot ≤ 1e-12 · its diagonal, or non-finite). Every covariance the analysis
 * reports passes this check: an indefinite matrix (a saddle, or round-off) has no meaning as
 * a covariance even when its diagonal happens to be positive.
 */
export function cholesky(M: readonly (readonly number[])[]): number[][] | null {
  const n = M.length;
  const L = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let j = 0; j < n; j++) {
    let d = M[j][j];
    for (let k = 0; k < j; k++) d -= L[j][k] * L[j][k];
    if (!Number.isFinite(d) || !(d > 1e-12 * Math.abs(M[j][j]))) return null;
    L[j][j] = Math.sqrt(d);
    for (let i = j + 1; i < n; i++) {
      let s = (M[i][j] + M[j][i]) / 2;
      for (let k = 0; k < j; k++) s -= L[i][k] * L[j][k];
      L[i][j] = s / L[j][j];
    }
  }
  return L;
}

/** True when M is symmetric (to 1e-8 relative) and positive definite (Cholesky succeeds). */
export function isPositiveDefinite(M: readonly (readonly number[])[]): boolean {
  for (let i = 0; i < M.length; i++) for (let j = 0; j < i; j++) if (Math.abs(M[i][j] - M[j][i]) > 1e-8 * (Math.abs(M[i][j]) + Math.abs(M[j][i]) + 1e-300)) return false;
  return cholesky(M) !== null;
}

/**
 * Parameter covariance from the curvature of a χ² surface at its minimum: cov = 2 H⁻¹,
 * H the Hessian of χ² (total, not reduced). Returns null unless H is positive definite
 * (Cholesky check: a flat or saddle direction means the parameters are not determined; a
 * positive diagonal alone does not exclude a saddle).
 */
export function covarianceFromChi2Hessian(H: readonly (readonly number[])[]): number[][] | null {
  if (!H.every((row) => row.every(Number.isFinite)) || !isPositiveDefinite(H)) return null;
  let inv: number[][];
  try {
    inv = invert(H);
  } catch (e) {
    if (e instanceof SingularMatrixError) return null;
    throw e;
  }
  const cov = inv.map((row) => row.map((v) => 2 * v));
  return isPositiveDefinite(cov) ? cov : null;
}

export interface MinimizeResult {
  x: number[];
  fx: number;
  evaluations: number;
}

/**
 * Nelder–Mead simplex minimisation (standard coefficients: reflection 1, expansion 2,
 * contraction 1/2, shrink 1/2). Stops when the simplex's f-spread and size both fall below
 * tolerances, or when the f-spread alone falls below fAbsTol (an absolute tolerance: for a
 * −2 ln L, differences far below 1 mean nothing), or after maxEvaluations.
 */
export function nelderMead(
  f: (x: number[]) => number,
  x0: readonly number[],
  opts: { step?: readonly number[]; maxEvaluations?: number; fTol?: number; xTol?: number; fAbsTol?: number } = {},
): MinimizeResult {
  const n = x0.length;
  const maxEval = opts.maxEvaluations ?? 400 * n;
  const fTol = opts.fTol ?? 1e-10;
  const xTol = opts.xTol ?? 1e-9;
  const fAbsTol = opts.fAbsTol ?? 0;
  let evals = 0;
  const F = (x: number[]): number => {
    evals++;
    const v = f(x);
    return Number.isFinite(v) ? v : Infinity;
  };
  const simplex: { x: number[]; f: number }[] = [{ x: [...x0], f: F([...x0]) }];
  for (let i = 0; i < n; i++) {
    const x = [...x0];
    const s = opts.step?.[i] ?? (x[i] !== 0 ? 0.05 * Math.abs(x[i]) : 0.00025);
    x[i] += s;
    simplex.push({ x, f: F(x) });
  }
  const combine = (a: number[], b: number[], t: number): number[] => a.map((v, i) => v + t * (b[i] - v));
  while (evals < maxEval) {
    simplex.sort((a, b) => a.f - b.f);
    const best = simplex[0];
    const worst = simplex[n];
    let size = 0;
    for (let i = 1; i <= n; i++) for (let j = 0; j < n; j++) size = Math.max(size, Math.abs(simplex[i].x[j] - best.x[j]));
    if (fAbsTol > 0 && worst.f - best.f <= fAbsTol) break;
    if (Math.abs(worst.f - best.f) <= fTol * (Math.abs(best.f) + 1e-12) && size <= xTol * (1 + Math.max(...best.x.map(Math.abs)))) break;
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j] += simplex[i].x[j] / n;
    const xr = combine(centroid, worst.x, -1);
    const fr = F(xr);
    if (fr < best.f) {
      const xe = combine(centroid, worst.x, -2);
      const fe = F(xe);
      simplex[n] = fe < fr ? { x: xe, f: fe } : { x: xr, f: fr };
    } else if (fr < simplex[n - 1].f) {
      simplex[n] = { x: xr, f: fr };
    } else {
      const outside = fr < worst.f;
      const xc = outside ? combine(centroid, xr, 0.5) : combine(centroid, worst.x, 0.5);
      const fc = F(xc);
      if (fc < (outside ? fr : worst.f)) simplex[n] = { x: xc, f: fc };
      else for (let i = 1; i <= n; i++) {
        const x = combine(best.x, simplex[i].x, 0.5);
        simplex[i] = { x, f: F(x) };
      }
    }
  }
  simplex.sort((a, b) => a.f - b.f);
  return { x: simplex[0].x, fx: simplex[0].f, evaluations: evals };
}

/**
 * Differential evolution (DE/rand/1/bin) inside box bounds, seeded. Trial vectors leaving
 * the box are reflected back in; `initial` points (clamped to the box) replace the first
 * random members. Returns the best member after `generations`.
 */
export function differentialEvolution(
  f: (x: number[]) => number,
  bounds: readonly [number, number][],
  rng: AnalysisRng,
  opts: { population?: number; generations?: number; F?: number; CR?: number; initial?: readonly (readonly number[])[] } = {},
): MinimizeResult {
  const d = bounds.length;
  const np = opts.population ?? Math.max(15, 10 * d);
  const gens = opts.generations ?? 120;
  const Fw = opts.F ?? 0.7;
  const CR = opts.CR ?? 0.9;
  let evals = 0;
  const F = (x: number[]): number => {
    evals++;
    const v = f(x);
    return Number.isFinite(v) ? v : Infinity;
  };
  const pop = Array.from({ length: np }, () => bounds.map(([lo, hi]) => lo + rng.uniform() * (hi - lo)));
  (opts.initial ?? []).slice(0, np).forEach((x, i) => {
    pop[i] = x.map((v, j) => Math.min(bounds[j][1], Math.max(bounds[j][0], v)));
  });
  const fit = pop.map(F);
  for (let g = 0; g < gens; g++) {
    for (let i = 0; i < np; i++) {
      let a: number, b: number, c: number;
      do a = rng.int(np); while (a === i);
      do b = rng.int(np); while (b === i || b === a);
      do c = rng.int(np); while (c === i || c === a || c === b);
      const jr = rng.int(d);
      const trial = pop[i].map((v, j) => {
        if (j !== jr && rng.uniform() >= CR) return v;
        let t = pop[a][j] + Fw * (pop[b][j] - pop[c][j]);
        const [lo, hi] = bounds[j];
        if (t < lo) t = lo + rng.uniform() * (v - lo);
        if (t > hi) t = hi - rng.uniform() * (hi - v);
        return t;
      });
      const ft = F(trial);
      if (ft <= fit[i]) {
        pop[i] = trial;
        fit[i] = ft;
      }
    }
  }
  let bi = 0;
  for (let i = 1; i < np; i++) if (fit[i] < fit[bi]) bi = i;
  return { x: pop[bi], fx: fit[bi], evaluations: evals };
}

/** Minimise a 1-D function on [lo, hi]: grid scan then golden-section refinement. */
export function minimize1d(f: (x: number) => number, lo: number, hi: number, gridPoints = 200, xTol = 1e-12): { x: number; fx: number } {
  let bx = lo;
  let bf = Infinity;
  const step = (hi - lo) / (gridPoints - 1);
  for (let i = 0; i < gridPoints; i++) {
    const x = lo + i * step;
    const v = f(x);
    if (v < bf) {
      bf = v;
      bx = x;
    }
  }
  let a = Math.max(lo, bx - step);
  let b = Math.min(hi, bx + step);
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let it = 0; it < 80 && b - a > xTol * (1 + Math.abs(a)); it++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  const x = fc < fd ? c : d;
  const fx = Math.min(fc, fd);
  return fx <= bf ? { x, fx } : { x: bx, fx: bf };
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; |rel. err| < 1e-13). */
export function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61503916999185, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised incomplete beta I_x(a, b) (continued fraction, Numerical Recipes §6.4). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  const cf = (xx: number, aa: number, bb: number): number => {
    const tiny = 1e-300;
    let c = 1;
    let d = 1 - ((aa + bb) * xx) / (aa + 1);
    if (Math.abs(d) < tiny) d = tiny;
    d = 1 / d;
    let h = d;
    for (let m = 1; m <= 300; m++) {
      const m2 = 2 * m;
      let num = (m * (bb - m) * xx) / ((aa + m2 - 1) * (aa + m2));
      d = 1 + num * d;
      if (Math.abs(d) < tiny) d = tiny;
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      h *= d * c;
      num = (-(aa + m) * (aa + bb + m) * xx) / ((aa + m2) * (aa + m2 + 1));
      d = 1 + num * d;
      if (Math.abs(d) < tiny) d = tiny;
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      const del = d * c;
      h *= del;
      if (Math.abs(del - 1) < 1e-14) break;
    }
    return h;
  };
  return x < (a + 1) / (a + b + 2) ? (front * cf(x, a, b)) / a : 1 - (front * cf(1 - x, b, a)) / b;
}

/** CDF of Student's t with ν degrees of freedom. */
export function studentTCdf(t: number, dof: number): number {
  const x = dof / (dof + t * t);
  const tail = 0.5 * incompleteBeta(x, dof / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Quantile of Student's t (bisection on the CDF); the normal quantile for dof = ∞. */
export function studentTQuantile(p: number, dof: number): number {
  if (!Number.isFinite(dof)) return normalQuantile(p);
  if (!(p > 0 && p < 1) || !(dof > 0)) throw new Error(`studentTQuantile: bad arguments p=${p}, dof=${dof}`);
  if (p < 0.5) return -studentTQuantile(1 - p, dof);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, dof) < p) hi *= 2;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, dof) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
