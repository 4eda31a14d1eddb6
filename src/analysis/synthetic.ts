/**
 * Synthetic data with known truth, for validating the analysis (tests use these; so can a
 * user who wants to see what the fitters recover on data of their own design).
 *
 * - syntheticRecords: EvalRecords from any true loss surface L(width, depth, p_train, p_eval, N)
 *   with multiplicative log-normal noise per seed (relative sd seedNoise) and per mask
 *   (relative sd maskNoise).
 * - syntheticCollapseData: (size, p, y, dy) points generated from a power-law or BKT scaling
 *   form with Gaussian noise of known dy.
 */
import type { EvalRecord } from "../sweep/records.js";
import type { CollapseDatum } from "./collapse.js";
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
}

export function syntheticRecords(grid: SyntheticGrid, trueLoss: (g: GridPoint, n: number) => number, seed: number): EvalRecord[] {
  const rng = new AnalysisRng(seed);
  const out: EvalRecord[] = [];
  for (const width of grid.widths)
    for (const depth of grid.depths)
      for (const pTrain of grid.pTrains)
        for (const n of grid.sizes)
          for (let s = 0; s < grid.seeds; s++) {
            // One training (job) per (width, depth, pTrain, n, seed); its seed noise is shared
            // by all p_eval of that job, as in a real sweep.
            const seedShift = rng.normal() * grid.seedNoise;
            for (const pEval of grid.pEvals) {
              const truth = trueLoss({ width, depth, pTrain, pEval }, n);
              const base = truth * Math.exp(seedShift - (grid.seedNoise * grid.seedNoise) / 2);
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
  return out;
}

export type { CollapseDatum };

export interface SyntheticCollapseSpec {
  form: "power" | "bkt";
  pc: number;
  /** power: ν. */
  nu?: number;
  /** power: β (y = N^(−β/ν) f(x)); bkt: prefactor exponent (y = N^(−β) f(x)). */
  beta: number;
  /** bkt: σ and N0. */
  sigma?: number;
  n0?: number;
  sizes: number[];
  ps: number[];
  /** Scaling function f(x). */
  f: (x: number) => number;
  /** Relative noise: dy = relNoise · |y| (+ absNoise). */
  relNoise: number;
  absNoise?: number;
}

/** Points y(p, N) from the chosen scaling form, with Gaussian noise of the quoted dy. */
export function syntheticCollapseData(spec: SyntheticCollapseSpec, seed: number): CollapseDatum[] {
  const rng = new AnalysisRng(seed);
  const out: CollapseDatum[] = [];
  for (const N of spec.sizes)
    for (const p of spec.ps) {
      let x: number;
      let pref: number;
      if (spec.form === "power") {
        const nu = spec.nu ?? 1;
        x = (p - spec.pc) * Math.pow(N, 1 / nu);
        pref = Math.pow(N, -spec.beta / nu);
      } else {
        const sigma = spec.sigma ?? 0.5;
        const n0 = spec.n0 ?? 1;
        x = (p - spec.pc) * Math.pow(Math.log(N / n0), 1 / sigma);
        pref = Math.pow(N, -spec.beta);
      }
      const yTrue = pref * spec.f(x);
      const dy = spec.relNoise * Math.abs(yTrue) + (spec.absNoise ?? 0);
      out.push({ size: N, p, y: yTrue + dy * rng.normal(), dy });
    }
  return out;
}
