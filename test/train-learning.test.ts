import { test } from "node:test";
import assert from "node:assert/strict";
import { loadMnist } from "../src/data/mnist.js";
import { getEngine } from "../src/engine/select.js";
import type { TrainJob } from "../src/train/job.js";
import { runJob, totalSteps } from "../src/train/train.js";

const base: TrainJob = {
  width: 128, depth: 2, pTrain: 0, n: 2000, seed: 1, epochs: 15, minSteps: 0, batch: 64, lr: 1e-3,
  optimizer: "adam", pEvals: [0, 0.9], evalMode: "sample", masks: 2, rescale: true, subsetSeed: 0,
};

test("width 128, depth 2 on N = 2,000 real MNIST images reaches ≥ 90% test accuracy; p_eval 0.9 hurts", () => {
  const r = runJob(base, loadMnist(), getEngine());
  const [clean, pruned] = r.evals;
  assert.ok(clean.accuracy >= 0.9, `accuracy ${clean.accuracy}`);
  assert.ok(pruned.loss > clean.loss + 5 * (pruned.lossStderr + clean.lossStderr) && pruned.loss > 2 * clean.loss, `loss ${clean.loss} at p_eval 0 vs ${pruned.loss} at 0.9`);
  assert.equal(r.steps, totalSteps(base));
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

test("impossible parameters are rejected with a clear message", () => {
  const data = loadMnist();
  const engine = getEngine();
  assert.throws(() => runJob({ ...base, pTrain: 1 }, data, engine), /p_train must be in \[0, 1\), got 1/);
  assert.throws(() => runJob({ ...base, width: 0 }, data, engine), /width must be an integer ≥ 1, got 0/);
  assert.throws(() => runJob({ ...base, n: 60001 }, data, engine), /\[1, 60000\]/);
  assert.throws(() => runJob({ ...base, pEvals: [0, -0.1] }, data, engine), /p_eval must be in \[0, 1\)/);
});
