/**
 * Synthetic data with known truth, for validating the analysis (tests use these; so can a
 * user who wants to see what the fitters recover on data of their own design).
 *
 * - syntheticRecords: EvalRecords from any true loss surface L(width, depth, p_train, p_eval, N)
 *   with multiplicative log-normal noise per seed (relative sd seedNoise) and per mask
 *   (relative sd maskNoise).
 * - xiCollapseRows: seed-level (size, p, y) rows built from a correlation length ξ(p) (power
 *   law or BKT), not from the fitter's own scaling variables, with correlated seed noise.
 * - asymmetricCrossover: a non-monotonic L(N) with its minimum exactly at N*.
 */
import type { EvalRecord } from "../sweep/records.js";
import type { GridPoint } from "./schema.js";
import { AnalysisRng } from "./stats.js";

export interface SyntheticGrid {
  widths: number[];
  depths: number[];
  pTrains: number[];
  pEvals: number[];
  sizes: number[];
  seeds: number;
  masks: number;
  /** Relative (log-normal) noise of a seed's loss around the truth. */
  seedNoise: number;
  /** Relative (log-normal) noise of one mask's loss around its seed's loss. */
  maskNoise: number;
  /** Optional: seed noise at size N (overrides seedNoise; relative noise that varies with N). */
  seedNoiseAt?: (n: number) => number;
  /** Optional: fraction (0–1) of the seed-noise variance shared by every N of one seed (default 0). */
  seedShareAcrossN?: number;
}

export function syntheticRecords(grid: SyntheticGrid, trueLoss: (g: GridPoint, n: number) => number, seed: number): EvalRecord[] {
  const rng = new AnalysisRng(seed);
  const out: EvalRecord[] = [];
  const share = grid.seedShareAcrossN ?? 0;
  for (const width of grid.widths)
    for (const depth of grid.depths)
      for (const pTrain of grid.pTrains) {
        // the part of each seed's noise shared by all its sizes (same data draw, same init)
        const common = share > 0 ? Array.from({ length: grid.seeds }, () => rng.normal()) : new Array<number>(grid.seeds).fill(0);
        for (const n of grid.sizes)
          for (let s = 0; s < grid.seeds; s++) {
            // One training (job) per (width, depth, pTrain, n, seed); its seed noise is shared
            // by all p_eval of that job, as in a real sweep.
            const seedSd = grid.seedNoiseAt ? grid.seedNoiseAt(n) : grid.seedNoise;
            const seedShift = seedSd * (Math.sqrt(share) * common[s] + Math.sqrt(1 - share) * rng.normal());
            for (const pEval of grid.pEvals) {
              const truth = trueLoss({ width, depth, pTrain, pEval }, n);
              const base = truth * Math.exp(seedShift - (seedSd * seedSd) / 2);
              const masks = Array.from({ length: grid.masks }, () => base * Math.exp(rng.normal() * grid.maskNoise - (grid.maskNoise * grid.maskNoise) / 2));
              const loss = masks.reduce((a, b) => a + b, 0) / masks.length;
              const sd = masks.length > 1 ? Math.sqrt(masks.reduce((a, m) => a + (m - loss) ** 2, 0) / (masks.length - 1)) : 0;
              out.push({
                jobKey: `syn-${width}-${depth}-${pTrain}-${n}-${s}`,
                width,
                depth,
                pTrain,
                n,
                seed: s,
                pEval,
                loss,
                lossStderr: sd / Math.sqrt(masks.length),
                accuracy: Math.max(0, Math.min(1, 1 - loss / 2.5)),
                maskLosses: masks,
              });
            }
          }
      }
  return out;
}

/**
 * A non-monotonic loss curve with its minimum exactly at N* and different slopes on the two
 * sides (a symmetric cosh would favour the quadratic N* estimator):
 *   L(N) = A (e^{a v}/a + e^{−c v}/c) · a c/(a + c),  v = ln N − ln N*,  dL/dv = 0 at v = 0.
 */
export function asymmetricCrossover(n: number, lnNStar: number, A = 1, a = 0.6, c = 0.3): number {
  const v = Math.log(n) - lnNStar;
  return (A * (Math.exp(a * v) / a + Math.exp(-c * v) / c) * a * c) / (a + c);
}

/**
 * Collapse data built from a correlation length ξ(p), independently of the fitter's own
 * scaling variables, with seed-level noise:
 *   power: ln ξ = ln ξ0 − ν ln|p − p_c| (both sides),   y = N^(−β/ν) F_±(ln N − ln ξ)
 *   bkt:   ln ξ = ln ξ0 + b |p − p_c|^(−σ) on `side`, ξ = ∞ on the other (critical) side,
 *          y = N^(−β) F(ln N − ln ξ), so y N^β = F(−∞) on the critical side.
 * F_± (power: one function per side of p_c, equal at −∞) and F (bkt) are the caller's.
 * Seed s at (N, p): y_s = y · (1 + r(N) · (0.6 z_s + 0.6 z_{s,N} + 0.53 z_{s,N,p})) — noise
 * shared by every N and p of a seed, shared by every p at one (seed, N) (the same trained
 * network), plus a per-point part; r(N) is the relative noise at N (may vary with N).
 */
export interface XiCollapseSpec {
  form: "power" | "bkt";
  pc: number;
  /** power: ν; bkt: b and σ */
  nu?: number;
  b?: number;
  sigma?: number;
  lnXi0?: number;
  /** bkt: side of p_c where ξ is finite (default "high"). */
  side?: "low" | "high";
  /** Prefactor: y = N^(−pref) F (pref = β/ν for power, β for bkt). */
  pref: number;
  sizes: number[];
  ps: number[];
  seeds: number;
  /** Scaling function of u = ln(N/ξ) and of the side (+1: p > p_c, −1: p < p_c). */
  F: (u: number, side: 1 | -1) => number;
  relNoise: (n: number) => number;
}

/** True (noise-free) y of an XiCollapseSpec at (N, p). */
export function xiCollapseTruth(spec: XiCollapseSpec, n: number, p: number): number {
  const t = p - spec.pc;
  const s: 1 | -1 = t >= 0 ? 1 : -1;
  let lnXi: number;
  if (spec.form === "power") lnXi = (spec.lnXi0 ?? 0) - (spec.nu ?? 1) * Math.log(Math.abs(t));
  else {
    const finite = (spec.side ?? "high") === "high" ? t > 0 : t < 0;
    lnXi = finite ? (spec.lnXi0 ?? 0) + (spec.b ?? 1) * Math.pow(Math.abs(t), -(spec.sigma ?? 0.5)) : Infinity;
  }
  return Math.pow(n, -spec.pref) * spec.F(Math.log(n) - lnXi, s);
}

/** Seed-level rows (size, p, y, seed) of an XiCollapseSpec. */
export function xiCollapseRows(spec: XiCollapseSpec, seed: number): { size: number; p: number; y: number; seed: number }[] {
  const rng = new AnalysisRng(seed);
  const out: { size: number; p: number; y: number; seed: number }[] = [];
  for (let s = 0; s < spec.seeds; s++) {
    const zs = rng.normal();
    for (const n of spec.sizes) {
      const zn = rng.normal();
      for (const p of spec.ps) {
        const e = spec.relNoise(n) * (0.6 * zs + 0.6 * zn + 0.53 * rng.normal());
        out.push({ size: n, p, y: xiCollapseTruth(spec, n, p) * (1 + e), seed: s });
      }
    }
  }
  return out;
}

/** A grid of collapse data: sizes × p values. */
export interface FssGrid {
  sizes: number[];
  ps: number[];
}

/**
 * The transition study's density: 13 p values 0.015 apart around pc (offset by a fraction of
 * a step, so no p sits on p_c), 10 sizes 250 … 50,000 log-spaced.
 */
export function coarseFssGrid(pc: number): FssGrid {
  return { sizes: Array.from({ length: 10 }, (_, i) => Math.round(250 * Math.pow(200, i / 9))), ps: Array.from({ length: 13 }, (_, i) => +(pc - 0.0937 + 0.015 * i).toFixed(4)) };
}

/** A finer p grid: 21 p values 0.005 apart around pc, 6 sizes 250 … 50,000. */
export function fineFssGrid(pc: number): FssGrid {
  return { sizes: Array.from({ length: 6 }, (_, i) => Math.round(250 * Math.pow(200, i / 5))), ps: Array.from({ length: 21 }, (_, i) => +(pc - 0.0512 + 0.005 * i).toFixed(4)) };
}

/**
 * (size, p, y ± dy) points of a true surface y(N, p) on a grid with independent Gaussian
 * noise of relative size relNoise (dy = relNoise · truth, given to the fitter).
 */
export function noisyGridData(truth: (n: number, p: number) => number, grid: FssGrid, relNoise: number, seed: number): { size: number; p: number; y: number; dy: number }[] {
  const rng = new AnalysisRng(seed);
  const out: { size: number; p: number; y: number; dy: number }[] = [];
  for (const n of grid.sizes)
    for (const p of grid.ps) {
      const y = truth(n, p);
      const dy = relNoise * Math.abs(y);
      out.push({ size: n, p, y: y + dy * rng.normal(), dy });
    }
  return out;
}
