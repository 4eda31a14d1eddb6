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
 * Pooled errors and bootstrap replicates of the curves: seeds.ts (the one seed-bootstrap module).
 */
import { MentiaError } from "../errors.js";
import type { EvalRecord } from "../sweep/records.js";
import type { GridPoint, LossCurve, LossPoint } from "./schema.js";
import { mean, sampleSd } from "./stats.js";

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
