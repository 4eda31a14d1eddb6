/**
 * The one seed-bootstrap / pooled-error module: how seed-level results become points with
 * errors and bootstrap replicates, for the loss curves (power laws, phases, N*) and for the
 * collapses. The two pool along different axes on purpose, and say why where they do:
 *   - a loss curve L(N) at one (width, depth, p_train, p_eval) pools the relative seed spread
 *     over its sizes (pooledLogErrors: one relative noise per curve; the fits are in ln N);
 *     a collapse pools it over the p values of each size (aggregateSeeds: relative noise may
 *     vary with N, which a collapse across N must not average away);
 *   - a single seed: a curve falls back to the mask spread (its stderr and replicates come
 *     from the masks, and the analysis warns); a collapse needs ≥ 2 seeds at every (N, p)
 *     (MentiaError), since a mask spread would understate the scatter between points.
 * Replicates draw seed ids with replacement and use the same ids at every N and p (one seed's
 * networks give every p, and in a sweep the same seed at every N); deviations of replicate
 * statistics are multiplied by the expansion √(S/(S−1)), and intervals use Student's t with
 * S − 1 dof (intervals.ts).
 */
import { MentiaError } from "../errors.js";
import type { CollapseDatum, CollapseReplicates } from "./collapse.js";
import type { LossCurve } from "./schema.js";
import { AnalysisRng, sampleSd } from "./stats.js";

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

/** One observation of one seed (a CSV row with a seed column; a per-seed loss in analyze). */
export interface SeedRow {
  size: number;
  p: number;
  y: number;
  seed: number;
}

/**
 * Seed-level rows → collapse points and their seed-bootstrap replicates. This is the one
 * error policy for collapses of seeded data (CLI and analyze):
 *   y(N, p)  = mean over the seeds at (N, p)
 *   dy(N, p) = r_N · |y| / √S,  r_N² = pooled relative variance over the seeds at every p of size N
 *              (relative noise may vary with N; per-point variances from a few seeds are too noisy
 *              to weight by), floored at minRelativeError · |y|
 *   replicate b: one draw of seed ids with replacement, used at every (N, p) — the same
 *              networks give every p, and in a sweep the same seed at every N — so the
 *              correlations across N and p are kept; deviations × √(S/(S−1)).
 * Masks are not resampled inside seeds (their spread is already in the seed values).
 */
export function aggregateSeeds(rows: readonly SeedRow[], replicates: number, rng: AnalysisRng, minRelativeError = 1e-3): { data: CollapseDatum[]; replicates: CollapseReplicates } {
  const groups = new Map<string, { size: number; p: number; bySeed: Map<number, number> }>();
  for (const r of rows) {
    const k = `${r.size}|${r.p}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { size: r.size, p: r.p, bySeed: new Map() }));
    if (g.bySeed.has(r.seed)) throw new MentiaError(`collapse: two rows for size ${r.size}, p ${r.p}, seed ${r.seed}`);
    g.bySeed.set(r.seed, r.y);
  }
  const list = [...groups.values()].sort((a, b) => a.size - b.size || a.p - b.p);
  const S = Math.min(...list.map((g) => g.bySeed.size));
  if (!(S >= 2)) throw new MentiaError(`collapse: errors from seeds need at least 2 seeds at every (size, p); size ${list.find((g) => g.bySeed.size < 2)?.size}, p ${list.find((g) => g.bySeed.size < 2)?.p} has 1`);
  const means = list.map((g) => [...g.bySeed.values()].reduce((a, b) => a + b, 0) / g.bySeed.size);
  const rel = new Map<number, { num: number; den: number }>();
  list.forEach((g, i) => {
    const vals = [...g.bySeed.values()];
    const sd = sampleSd(vals);
    const m = Math.abs(means[i]) || 1e-300;
    const acc = rel.get(g.size) ?? { num: 0, den: 0 };
    acc.num += (vals.length - 1) * (sd / m) ** 2;
    acc.den += vals.length - 1;
    rel.set(g.size, acc);
  });
  const data: CollapseDatum[] = list.map((g, i) => {
    const acc = rel.get(g.size) as { num: number; den: number };
    const r = Math.sqrt(acc.num / acc.den);
    const dy = Math.max(r, minRelativeError) * Math.abs(means[i]) / Math.sqrt(g.bySeed.size);
    return { size: g.size, p: g.p, y: means[i], dy: dy > 0 ? dy : minRelativeError };
  });
  const seedIds = [...new Set(rows.map((r) => r.seed))].sort((a, b) => a - b);
  const y: number[][] = [];
  for (let b = 0; b < replicates; b++) {
    const drawn = Array.from({ length: seedIds.length }, () => seedIds[rng.int(seedIds.length)]);
    y.push(
      list.map((g) => {
        let vals = drawn.filter((s) => g.bySeed.has(s)).map((s) => g.bySeed.get(s) as number);
        if (vals.length === 0) {
          const own = [...g.bySeed.values()];
          vals = own.map(() => own[rng.int(own.length)]);
        }
        return vals.reduce((a, c) => a + c, 0) / vals.length;
      }),
    );
  }
  return { data, replicates: { y, expansion: Math.sqrt(S / (S - 1)), units: S } };
}
