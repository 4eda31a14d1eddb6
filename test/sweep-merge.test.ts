import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MentiaError } from "../src/errors.js";
import type { JobResult, TrainJob } from "../src/train/job.js";
import { parseConfig } from "../src/sweep/config.js";
import { mergeShards } from "../src/sweep/merge.js";
import { planJobs, type PlannedJob } from "../src/sweep/plan.js";
import { shardJobs, storePath, type Shard } from "../src/sweep/shard.js";
import { readExportRows, SweepStore } from "../src/sweep/store.js";

/** Merge refuses to mix: conflicting results of one job, shards of different splits, different ISAs. */
const CONFIG = parseConfig({ widths: [16], depths: [1], pTrain: [0, 0.5], pEval: [0, 0.5], sizes: [100, 200], seeds: [0, 1], policy: "epochs-min-steps", epochs: 1, steps: 10, masks: 2 });
const PLAN = planJobs(CONFIG);
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "mentia-merge-"));
  dirs.push(d);
  return d;
}

function fakeResult(job: TrainJob, engine = "native", shift = 0): JobResult {
  const base = job.n / 1000 + job.seed / 10 + job.pTrain + shift;
  return {
    job,
    engine,
    trainSeconds: 0.5,
    evalSeconds: 0.25,
    steps: 10,
    finalTrainLoss: base,
    training: { steps: 10, bestStep: 10, bestValLoss: null, validations: 0, stoppedBy: "budget" },
    evals: job.pEvals.map((pEval) => ({ evalMode: "sample" as const, pEval, loss: base + pEval, lossStderr: 0.01, accuracy: 0.5, accuracyStderr: 0.001, maskLosses: [base, base], maskAccuracies: [0.5, 0.5] })),
  };
}

/** A shard file with all its jobs done (plus `extra` jobs of other shards), by the given ISA. */
function doneShard(dir: string, shard: Shard, opts: { isa?: string; extra?: PlannedJob[]; shift?: number } = {}): void {
  const jobs = [...shardJobs(PLAN, shard), ...(opts.extra ?? [])];
  const s = SweepStore.open(storePath(dir, shard), { create: true, journal: "rollback" });
  s.initialise(CONFIG, jobs, { mentiaVersion: "test", shard });
  for (const p of jobs) s.recordResult(p.key, fakeResult(p.job, "native", opts.shift), { versions: { mentia: "test", node: process.version, nativeIsa: opts.isa ?? "avx2" }, wallSeconds: 1 });
  s.close();
}

test("merge: one job finished twice is fine when identical, refused naming both values when not", () => {
  const dir = tmp();
  const other = shardJobs(PLAN, { index: 1, count: 2 })[0];
  // Shard 0 also holds (and finished) a job of shard 1, with the same numbers: accepted once.
  doneShard(dir, { index: 0, count: 2 }, { extra: [other] });
  doneShard(dir, { index: 1, count: 2 });
  const m = mergeShards(dir);
  assert.equal(m.done, PLAN.length);
  assert.equal(m.newlyDone, PLAN.length);
  assert.equal(readExportRows(dir).length, PLAN.length * 2);

  // Shard 1 is redone elsewhere and its numbers differ from those merged before: refused.
  rmSync(storePath(dir, { index: 1, count: 2 }));
  doneShard(dir, { index: 1, count: 2 }, { shift: 1e-7 });
  const before = readExportRows(dir);
  assert.throws(
    () => mergeShards(dir),
    (e: unknown) =>
      e instanceof MentiaError &&
      /is finished twice with different results: loss at p_eval 0 \(sample\) is [\d.]+ in (results|shard-0)\.sqlite \(native avx2\) but [\d.]+ in shard-1\.sqlite/.test(e.message) &&
      e.message.includes("nothing merged"),
  );
  assert.deepEqual(readExportRows(dir), before, "nothing written");
});

test("merge: shards of different splits are refused", () => {
  const dir = tmp();
  doneShard(dir, { index: 0, count: 2 });
  doneShard(dir, { index: 1, count: 3 });
  assert.throws(() => mergeShards(dir), /shard-1\.sqlite is shard 1\/3 but shard-0\.sqlite is shard 0\/2: shards of different splits/);
  assert.equal(existsSync(join(dir, "results.sqlite")), false, "nothing written");
  // Against an earlier merge too.
  rmSync(storePath(dir, { index: 1, count: 3 }));
  mergeShards(dir);
  rmSync(storePath(dir, { index: 0, count: 2 }));
  doneShard(dir, { index: 0, count: 3 });
  assert.throws(() => mergeShards(dir), /merged from shards of a 2-way split, these are of a 3-way split/);
});

test("merge: results from different instruction sets are refused unless --allow-mixed-isa, which records them", () => {
  const dir = tmp();
  doneShard(dir, { index: 0, count: 2 }, { isa: "avx2" });
  doneShard(dir, { index: 1, count: 2 }, { isa: "avx512" });
  const half = PLAN.length / 2;
  assert.throws(
    () => mergeShards(dir),
    (e: unknown) => e instanceof MentiaError && e.message.includes(`native avx2: ${half} jobs in shard-0.sqlite; native avx512: ${half} jobs in shard-1.sqlite`) && e.message.includes("--allow-mixed-isa"),
  );
  assert.equal(existsSync(join(dir, "results.sqlite")), false, "nothing written");
  const m = mergeShards(dir, { allowMixedIsa: true });
  assert.deepEqual(m.variants, { "native avx2": half, "native avx512": half });
  const out = SweepStore.open(m.path, { readonly: true });
  assert.deepEqual(JSON.parse(out.getMeta("mixed_isa")!), { "native avx2": half, "native avx512": half });
  out.close();
  // One ISA throughout: merged without a word.
  const same = tmp();
  doneShard(same, { index: 0, count: 2 });
  doneShard(same, { index: 1, count: 2 });
  assert.deepEqual(mergeShards(same).variants, { "native avx2": PLAN.length });
});
