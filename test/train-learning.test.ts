import { test } from "node:test";
import assert from "node:assert/strict";
import { loadMnist, selectRows } from "../src/data/mnist.js";
import { getEngine } from "../src/engine/select.js";
import type { Engine } from "../src/engine/types.js";
import type { TrainJob } from "../src/train/job.js";
import { jobData, runJob, stepBudget, trainJob, validationLoss } from "../src/train/train.js";

const base: TrainJob = {
  width: 128, depth: 2, pTrain: 0, n: 2000, seed: 1, policy: "epochs", epochs: 15, steps: 0, patience: 5, valEvery: "half-epoch", maxSteps: 30000,
  validation: 10000, dataDraw: "per-seed", subsetSeed: 0, batch: 64, lr: 1e-3, optimizer: "adam", pEvals: [0, 0.9], evalMode: "sample", masks: 2, rescale: true,
};

test("width 128, depth 2 on N = 2,000 real MNIST images reaches ≥ 90% test accuracy; p_eval 0.9 hurts", () => {
  const r = runJob(base, loadMnist(), getEngine());
  const [clean, pruned] = r.evals;
  assert.ok(clean.accuracy >= 0.9, `accuracy ${clean.accuracy}`);
  assert.ok(pruned.loss > clean.loss + 5 * (pruned.lossStderr + clean.lossStderr) && pruned.loss > 2 * clean.loss, `loss ${clean.loss} at p_eval 0 vs ${pruned.loss} at 0.9`);
  assert.equal(r.steps, stepBudget(base));
  assert.deepEqual(r.training, { steps: r.steps, bestStep: r.steps, bestValLoss: null, validations: 0, stoppedBy: "budget" });
});

test("width 256, depth 2 on N = 10,000 reaches ≥ 95% test accuracy", () => {
  const r = runJob({ ...base, width: 256, n: 10000, epochs: 5, pEvals: [0] }, loadMnist(), getEngine());
  assert.ok(r.evals[0].accuracy >= 0.95, `accuracy ${r.evals[0].accuracy}`);
});

test("runJob is deterministic per seed and different across seeds", () => {
  const small = { ...base, width: 32, n: 300, epochs: 2, pTrain: 0.3, pEvals: [0.5] };
  const a = runJob(small, loadMnist(), getEngine());
  const b = runJob(small, loadMnist(), getEngine());
  const c = runJob({ ...small, seed: 2 }, loadMnist(), getEngine());
  assert.equal(a.finalTrainLoss, b.finalTrainLoss);
  assert.deepEqual(a.evals, b.evals);
  assert.notEqual(a.evals[0].loss, c.evals[0].loss);
});

test("the validation split is disjoint from every training subset; subsets are nested within a seed and differ between seeds", () => {
  const sizes = [1, 250, 1000, 16000, 50000];
  for (const draw of ["per-seed", "shared"] as const) {
    for (const seed of [0, 1, 7]) {
      const job = (n: number): TrainJob => ({ ...base, n, seed, dataDraw: draw });
      const { validation } = jobData(job(50000));
      assert.equal(validation.length, 10000);
      const held = new Set(validation);
      let prev: Int32Array | null = null;
      for (const n of sizes) {
        const d = jobData(job(n));
        assert.equal(d.train.length, n);
        assert.deepEqual([...d.validation], [...validation], "one validation split per seed, whatever N");
        for (const r of d.train) assert.ok(!held.has(r), `training row ${r} (N ${n}, seed ${seed}) is in the validation split`);
        if (prev) assert.deepEqual([...d.train.subarray(0, prev.length)], [...prev], "nested: the smaller subset is a prefix");
        prev = d.train;
      }
    }
  }
  const s0 = jobData({ ...base, n: 1000, seed: 0 }).train, s1 = jobData({ ...base, n: 1000, seed: 1 }).train;
  const overlap = [...s0].filter((r) => new Set(s1).has(r)).length;
  assert.ok(overlap < 100, `per-seed draws of 1000 of 60000 share ~17 images by chance, got ${overlap}`);
  assert.deepEqual([...jobData({ ...base, n: 1000, seed: 0, dataDraw: "shared" }).train], [...jobData({ ...base, n: 1000, seed: 1, dataDraw: "shared" }).train]);
});

for (const engineName of ["native", "reference"] as const) {
  test(`early stopping (${engineName}) returns the weights of the best validation step`, (t) => {
    const engine = available(engineName);
    if (!engine) return t.skip(`${engineName} engine unavailable`);
    const data = loadMnist();
    // Small and quick, but long enough that the validation loss turns up (over-confidence).
    const job: TrainJob = { ...base, width: engineName === "reference" ? 16 : 64, n: 300, policy: "early-stop", patience: 3, valEvery: 20, maxSteps: 3000, validation: 2000, pEvals: [0] };
    const es = trainJob(job, data, engine);
    const fixed = trainJob({ ...job, policy: "steps", steps: es.training.bestStep }, data, engine);
    try {
      const tr = es.training;
      assert.equal(tr.stoppedBy, "patience");
      assert.ok(tr.bestStep < tr.steps && tr.steps - tr.bestStep === job.patience * 20, JSON.stringify(tr));
      assert.equal(tr.validations, tr.steps / 20);
      // Re-evaluating the returned network on the validation split gives the recorded best loss,
      const validation = selectRows(data.train, jobData(job).validation);
      assert.ok(Math.abs(validationLoss(es.net, validation) - tr.bestValLoss!) <= 1e-9 * tr.bestValLoss!, `${validationLoss(es.net, validation)} vs ${tr.bestValLoss}`);
      // and its weights are those of the same job trained for exactly bestStep steps (not the last ones).
      assert.deepEqual(es.net.getParams(), fixed.net.getParams());
    } finally {
      es.net.dispose();
      fixed.net.dispose();
    }
  });
}

test("native and reference agree under early stopping (same stop step, losses within 1e-5)", (t) => {
  const native = available("native");
  if (!native) return t.skip("native engine unavailable");
  const data = loadMnist();
  const job: TrainJob = { ...base, width: 16, n: 300, pTrain: 0.2, policy: "early-stop", patience: 3, valEvery: 15, maxSteps: 3000, validation: 1000, pEvals: [0, 0.5] };
  const a = runJob(job, data, native);
  const b = runJob(job, data, available("reference")!);
  assert.equal(a.training.steps, b.training.steps);
  assert.equal(a.training.bestStep, b.training.bestStep);
  const rel = (x: number, y: number): number => Math.abs(x - y) / Math.abs(y);
  assert.ok(rel(a.training.bestValLoss!, b.training.bestValLoss!) < 1e-5, `${a.training.bestValLoss} vs ${b.training.bestValLoss}`);
  for (let i = 0; i < a.evals.length; i++) assert.ok(rel(a.evals[i].loss, b.evals[i].loss) < 1e-5, `p_eval ${job.pEvals[i]}: ${a.evals[i].loss} vs ${b.evals[i].loss}`);
});

test("impossible parameters are rejected with a clear message", () => {
  const data = loadMnist();
  const engine = getEngine();
  assert.throws(() => runJob({ ...base, pTrain: 1 }, data, engine), /p_train must be in \[0, 1\), got 1/);
  assert.throws(() => runJob({ ...base, width: 0 }, data, engine), /width must be an integer ≥ 1, got 0/);
  assert.throws(() => runJob({ ...base, n: 50001 }, data, engine), /\[1, 50000\] for mnist \(the mnist training images left after the validation split \(60000 − 10000\)\)/);
  assert.throws(() => runJob({ ...base, pEvals: [0, -0.1] }, data, engine), /p_eval must be in \[0, 1\)/);
  assert.throws(() => runJob({ ...base, policy: "early-stop", patience: 0 }, data, engine), /patience must be an integer ≥ 1/);
  assert.throws(() => runJob({ ...base, policy: "early-stop", valEvery: 0 }, data, engine), /valEvery must be an integer ≥ 1/);
  assert.throws(() => runJob({ ...base, policy: "sometimes" as TrainJob["policy"] }, data, engine), /unknown training policy 'sometimes'/);
  assert.throws(() => runJob({ ...base, policy: "early-stop", validation: 0 }, data, engine), /early stopping needs a validation split/);
});

function available(name: "native" | "reference"): Engine | null {
  try {
    return getEngine(name);
  } catch {
    return null;
  }
}
