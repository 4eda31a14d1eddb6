/**
 * Loss curves L(N) from evaluation records, and their bootstrap replicates.
 *
 * For one grid point (width, depth, p_train, p_eval) and one training-set size N:
 *   per-seed loss   ℓ_s = mean over that seed's masks (the record's `loss`)
 *   L(N)            = (1/S) Σ_s ℓ_s
 *   stderr(N)       = sd_s(ℓ_s) / √S           (S ≥ 2)
 *                   = record.lossStderr         (S = 1: only mask noise is known)
 *   floored at minRelativeError · L(N) so no point gets infinite weight.
 *
 * Bootstrap replicate of a whole curve: draw S seed ids with replacement from the curve's
 * seeds (the same ids at every N, since one seed shares its data permutation across N) and
 * average their losses. Masks are resampled only when there is a single seed (then the
 * interval reflects mask noise only, and the analysis warns); with several seeds the seed
 * values already contain the mask noise and resampling both would count it twice.
 */
import { MentiaError } from "../errors.js";
import type { EvalRecord } from "../sweep/records.js";
import type { GridPoint, LossCurve, LossPoint } from "./schema.js";
import { AnalysisRng, mean, sampleSd } from "./stats.js";

export function gridKey(g: GridPoint): string {
  return `${g.width}|${g.depth}|${g.pTrain}|${g.pEval}`;
}

export function describeGridPoint(g: GridPoint): string {
  return `width ${g.width}, depth ${g.depth}, p_train ${g.pTrain}, p_eval ${g.pEval}`;
}

/** Checks one record's numbers; a bad one is a MentiaError naming the record. */
export function validateRecord(r: EvalRecord, index: number): void {
  const where = `record ${index} (job ${r.jobKey}, ${describeGridPoint(r)}, N ${r.n}, seed ${r.seed})`;
  const finite: [string, number][] = [
    ["width", r.width],
    ["depth", r.depth],
    ["pTrain", r.pTrain],
    ["pEval", r.pEval],
    ["n", r.n],
    ["seed", r.seed],
    ["loss", r.loss],
    ["lossStderr", r.lossStderr],
  ];
  for (const [name, v] of finite) if (typeof v !== "number" || !Number.isFinite(v)) throw new MentiaError(`${where}: ${name} is ${String(v)}, expected a finite number`);
  if (!(r.n >= 1)) throw new MentiaError(`${where}: training-set size must be ≥ 1`);
  if (!(r.loss > 0)) throw new MentiaError(`${where}: loss must be > 0 to take its logarithm, got ${r.loss}`);
  if (r.lossStderr < 0) throw new MentiaError(`${where}: lossStderr must be ≥ 0`);
  if (!(r.pTrain >= 0 && r.pTrain < 1) || !(r.pEval >= 0 && r.pEval < 1)) throw new MentiaError(`${where}: rates must lie in [0, 1)`);
  if (!Array.isArray(r.maskLosses)) throw new MentiaError(`${where}: maskLosses must be an array`);
  for (const m of r.maskLosses) if (typeof m !== "number" || !Number.isFinite(m)) throw new MentiaError(`${where}: maskLosses holds a non-finite value (${String(m)})`);
}

/**
 * Groups records into loss curves, one per (width, depth, p_train, p_eval), sorted by
 * (width, depth, p_train, p_eval). Throws MentiaError on empty input, non-finite numbers or
 * two records for the same (grid point, N, seed).
 */
export function lossCurves(records: readonly EvalRecord[], opts: { minRelativeError?: number } = {}): LossCurve[] {
  const floor = opts.minRelativeError ?? 1e-3;
  if (records.length === 0) throw new MentiaError("no evaluation records to analyse (has the sweep finished any job?)");
  const groups = new Map<string, { g: GridPoint; byN: Map<number, Map<number, EvalRecord>> }>();
  records.forEach((r, i) => {
    validateRecord(r, i);
    const g: GridPoint = { width: r.width, depth: r.depth, pTrain: r.pTrain, pEval: r.pEval };
    const k = gridKey(g);
    let grp = groups.get(k);
    if (!grp) groups.set(k, (grp = { g, byN: new Map() }));
    let bySeed = grp.byN.get(r.n);
    if (!bySeed) grp.byN.set(r.n, (bySeed = new Map()));
    const prev = bySeed.get(r.seed);
    if (prev) throw new MentiaError(`two records for ${describeGridPoint(g)}, N ${r.n}, seed ${r.seed} (jobs ${prev.jobKey} and ${r.jobKey}): analyse one set of training settings at a time`);
    bySeed.set(r.seed, r);
  });
  const curves: LossCurve[] = [];
  for (const { g, byN } of groups.values()) {
    const points: LossPoint[] = [...byN.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([n, bySeed]) => {
        const recs = [...bySeed.values()].sort((a, b) => a.seed - b.seed);
        const perSeed = recs.map((r) => r.loss);
        const m = mean(perSeed);
        let se = recs.length >= 2 ? sampleSd(perSeed) / Math.sqrt(recs.length) : recs[0].lossStderr;
        se = Math.max(se, floor * m);
        return {
          n,
          mean: m,
          stderr: se,
          accuracy: mean(recs.map((r) => r.accuracy)),
          seeds: recs.map((r) => r.seed),
          perSeed,
          perSeedMasks: recs.map((r) => (r.maskLosses.length > 0 ? [...r.maskLosses] : [r.loss])),
        };
      });
    curves.push({ ...g, points });
  }
  curves.sort((a, b) => a.width - b.width || a.depth - b.depth || a.pTrain - b.pTrain || a.pEval - b.pEval);
  return curves;
}

/**
 * Errors of ln L used to weight every fit of a curve: the relative spread pooled over all
 * its sizes,
 *   r_i = (stderr_i / L_i) · √S_i        (per-seed relative sd at size i, S_i seeds)
 *   r²  = Σ_i (S_i − 1) r_i² / Σ_i (S_i − 1)   (plain mean of r_i² when every S_i = 1)
 *   σ(ln L_i) = r / √S_i
 * With a handful of seeds a per-point variance is itself very uncertain (a χ² with S − 1
 * dof), and weighting by it lets the point whose seeds happen to agree dominate the fit —
 * biasing α and making its bootstrap error far too small. Pooled weights keep the estimate
 * unbiased and its error honest; each point's own stderr stays in the curve for display.
 */
export function pooledLogErrors(curve: LossCurve): number[] {
  let num = 0;
  let den = 0;
  for (const p of curve.points) {
    const S = p.seeds.length;
    const r = (p.stderr / p.mean) * Math.sqrt(S);
    const w = S >= 2 ? S - 1 : 1;
    num += w * r * r;
    den += w;
  }
  const r = Math.sqrt(num / den);
  return curve.points.map((p) => r / Math.sqrt(p.seeds.length));
}

/** The curve's resampling units, as bootstrapCurve counts them (see there). */
export interface CurveBootstrap {
  /** means[b][i]: replicate b's mean loss at points[i]. */
  means: number[][];
  /** √(S/(S−1)) small-sample factor for deviations of bootstrap statistics. */
  expansion: number;
  /** S: the fewest seeds at any N (or the fewest masks when every N has a single seed). */
  units: number;
}

/** Seed ids for B replicates: each replicate draws as many ids as there are, with replacement. */
export function drawSeedSets(seedIds: readonly number[], replicates: number, rng: AnalysisRng): number[][] {
  return Array.from({ length: replicates }, () => Array.from({ length: seedIds.length }, () => seedIds[rng.int(seedIds.length)]));
}

/**
 * Bootstrap replicates of a curve's mean losses. Replicate b uses the seed ids seedSets[b]
 * at every N (pass the same seedSets to every p_eval curve of one (width, depth, p_train):
 * they are evaluations of the same trained networks, so their seeds are resampled together);
 * with a single seed, its masks are redrawn with replacement instead.
 *
 * The small-sample factor √(S/(S−1)) is returned for the caller to apply to deviations of
 * bootstrap statistics, since the plain bootstrap's variance of a mean of S values is
 * (S−1)/S times the unbiased one; intervals then use Student's t with S − 1 dof.
 */
export function bootstrapCurveWith(curve: LossCurve, seedSets: readonly (readonly number[])[], rng: AnalysisRng): CurveBootstrap {
  const minSeeds = Math.min(...curve.points.map((p) => p.seeds.length));
  const minMasks = Math.min(...curve.points.flatMap((p) => p.perSeedMasks.map((m) => m.length)));
  const units = minSeeds >= 2 ? minSeeds : minMasks;
  const expansion = units >= 2 ? Math.sqrt(units / (units - 1)) : 1;
  const indexOf = curve.points.map((p) => new Map(p.seeds.map((s, i) => [s, i])));
  const means: number[][] = [];
  for (const drawn of seedSets) {
    const row = curve.points.map((p, i) => {
      let idx = drawn.map((s) => indexOf[i].get(s)).filter((v): v is number => v !== undefined);
      if (idx.length === 0) idx = Array.from({ length: p.seeds.length }, () => rng.int(p.seeds.length));
      let s = 0;
      for (const j of idx) {
        const masks = p.perSeedMasks[j];
        // One error policy: with ≥ 2 seeds the seed values already carry the mask noise, so
        // only seeds are resampled (resampling masks inside them would count it twice); with
        // a single seed only its masks can be resampled.
        if (masks.length === 1 || minSeeds >= 2) s += p.perSeed[j];
        else {
          let ms = 0;
          for (let k = 0; k < masks.length; k++) ms += masks[rng.int(masks.length)];
          s += ms / masks.length;
        }
      }
      return s / idx.length;
    });
    means.push(row);
  }
  return { means, expansion, units };
}

/** bootstrapCurve for a single curve on its own (draws its seed sets from rng). */
export function bootstrapCurve(curve: LossCurve, replicates: number, rng: AnalysisRng): CurveBootstrap {
  const seedIds = [...new Set(curve.points.flatMap((p) => p.seeds))].sort((a, b) => a - b);
  return bootstrapCurveWith(curve, drawSeedSets(seedIds, replicates, rng), rng);
}
