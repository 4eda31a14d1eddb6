import { test } from "node:test";
import assert from "node:assert/strict";
import { loadMnist } from "../src/data/mnist.js";
import { getEngine } from "../src/engine/select.js";
import type { Dataset, Engine, Network, TrainEpochOptions } from "../src/engine/types.js";
import type { TrainJob, TrajectorySpec } from "../src/train/job.js";
import { runJob, TrainingDivergedError, validateJob, validationInterval } from "../src/train/train.js";
import { extendedEnd, trajectorySchedule } from "../src/train/trajectory.js";

const base: TrainJob = {
  width: 32, depth: 2, pTrain: 0.2, n: 600, seed: 3, policy: "early-stop", epochs: 4, steps: 0, patience: 3, valEvery: "half-epoch", maxSteps: 400,
  validation: 2000, dataDraw: "per-seed", subsetSeed: 0, batch: 32, lr: 2e-3, optimizer: "adam", pEvals: [0, 0.5], evalMode: "sample", masks: 2, rescale: true,
};
const spec = { points: 8, pEval: [0, 0.5], masks: 2 };

test("the schedule is log-spaced from the first validation to the horizon", () => {
  const s = trajectorySchedule({ ...spec, points: 5 }, 10, 10000);
  assert.deepEqual(s, [10, 60, 320, 1780, 10000]);
  assert.deepEqual(trajectorySchedule({ ...spec, points: 3, horizon: 100 }, 10, 10000), [10, 30, 100]);
  assert.deepEqual(trajectorySchedule({ ...spec, points: 6 }, 10, 40), [10, 20, 30, 40], "rounded to validation points, merged at the low end");
  assert.equal(extendedEnd({ ...spec, extendFactor: 2.5 }, 100), 250);
  assert.equal(extendedEnd({ ...spec, extendFactor: 2, extendSteps: 900 }, 100), 900);
  assert.throws(() => validateJob({ ...base, trajectory: { ...spec, points: 0 } }), /trajectory.points/);
  assert.throws(() => validateJob({ ...base, trajectory: { ...spec, extendFactor: 0.5 } }), /extendFactor/);
});

for (const policy of ["early-stop", "epochs"] as const) {
  test(`a trajectory (${policy}) changes nothing of the job's result, extended or not, and its best point is the job's evaluation`, () => {
    const mnist = loadMnist();
    const engine = getEngine();
    const job = { ...base, policy };
    const plain = runJob(job, mnist, engine);
    for (const trajectory of [spec, { ...spec, extendFactor: 2 }] as TrajectorySpec[]) {
      const r = runJob({ ...job, trajectory }, mnist, engine);
      assert.deepEqual(r.evals, plain.evals);
      assert.deepEqual(r.training, plain.training);
      // Summed over other chunks (cut at the checkpoints), the mean train loss may differ in the last digit.
      assert.ok(Math.abs(r.finalTrainLoss - plain.finalTrainLoss) <= 1e-12 * plain.finalTrainLoss);
      const t = r.trajectory!;
      assert.ok(t);
      assert.equal(t.stopStep, plain.training.steps);
      assert.equal(t.bestStep, plain.training.bestStep);
      assert.equal(t.endStep, trajectory.extendFactor ? 2 * t.stopStep : t.stopStep);
      const steps = t.points.map((p) => p.step);
      assert.deepEqual(steps, [...steps].sort((a, b) => a - b));
      assert.equal(new Set(steps).size, steps.length, "one point per step");
      assert.equal(steps[steps.length - 1], t.endStep);
      assert.ok(steps[0] <= validationInterval(job) || steps[0] === t.bestStep);
      const best = t.points.filter((p) => p.best);
      assert.equal(best.length, 1);
      assert.equal(best[0].step, t.bestStep);
      // Same weights, same draws: the best point's numbers are the job's own.
      for (const e of best[0].evals) {
        const own = r.evals.find((x) => x.pEval === e.pEval)!;
        assert.equal(e.loss, own.loss);
        assert.deepEqual(e.maskLosses, own.maskLosses);
      }
      if (policy === "early-stop") {
        assert.equal(best[0].valLoss, r.training.bestValLoss);
        for (const p of t.points) assert.equal(p.valLoss !== null, p.step <= t.stopStep, `validation loss where early stopping validated (step ${p.step})`);
      } else assert.ok(t.points.every((p) => p.valLoss === null));
      for (const p of t.points) assert.equal(p.samples, Math.floor(p.step / t.stepsPerEpoch) * job.n + (p.step % t.stepsPerEpoch) * job.batch);
      if (trajectory.extendFactor) assert.ok(t.points.some((p) => p.step > t.stopStep));
    }
  });
}

test("a divergence past the policy's stop ends the trajectory there and keeps the job's result; before the stop it fails the job", () => {
  const mnist = loadMnist();
  const real = getEngine();
  // The same engine, whose training reports a NaN loss from step 50 on.
  const engine = new Proxy(real, {
    get(target, key) {
      if (key !== "createNetwork") return Reflect.get(target, key);
      return (...args: Parameters<Engine["createNetwork"]>): Network => {
        const net = target.createNetwork(...args);
        return new Proxy(net, {
          get(t, k) {
            if (k === "trainEpoch") return (d: Dataset, o: TrainEpochOptions) => {
              const r = t.trainEpoch(d, o);
              return o.firstStep >= 50 ? { ...r, meanLoss: NaN } : r;
            };
            const v = Reflect.get(t, k) as unknown;
            return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
          },
        });
      };
    },
  });
  const job: TrainJob = { ...base, policy: "steps", steps: 40 };
  const plain = runJob(job, mnist, real);
  const r = runJob({ ...job, trajectory: { ...spec, extendFactor: 3 } }, mnist, engine);
  assert.deepEqual(r.evals, plain.evals);
  const t = r.trajectory!;
  assert.ok(t.divergedAt !== undefined && t.divergedAt > 50 && t.endStep === t.divergedAt, JSON.stringify(t));
  assert.ok(t.points.every((p) => p.step <= 50 && p.evals.every((e) => Number.isFinite(e.loss))));
  assert.equal(t.points.find((p) => p.best)?.step, 40);
  assert.throws(() => runJob({ ...job, steps: 80, trajectory: spec }, mnist, engine), TrainingDivergedError);
});
