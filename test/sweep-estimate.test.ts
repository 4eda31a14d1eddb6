import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../src/sweep/config.js";
import { estimateSweep, expectedSteps, predictJobSeconds, RANGE_MARGIN, type ProbeResult } from "../src/sweep/estimate.js";
import { evalPasses, jobValidations, planJobs, policySteps, trajectoryPasses, trajectoryPoints } from "../src/sweep/plan.js";

/**
 * The dry-run estimate's arithmetic, on made-up probe measurements (the measured accuracy is
 * a benchmark: bench/dry-run-estimate.ts): a job costs its expected steps × the time per step
 * + one evaluation + set-up; jobs are scheduled largest first; the range follows the repeats.
 */
const CONFIG = parseConfig({ widths: [16, 64], depths: [1], pTrain: [0], pEval: [0, 0.5], sizes: [100, 1000], seeds: [0, 1], policy: "epochs-min-steps", epochs: 2, steps: 10, batch: 10, masks: 1 });
const PLAN = planJobs(CONFIG);

function probeOf(width: number, step: number, evaluation: number): ProbeResult {
  const params = 784 * width + width + width * 10 + 10;
  return { width, depth: 1, batch: 10, params, stepSeconds: [step * 0.5, step, step * 2], evalSeconds: [evaluation, evaluation, evaluation], validationSeconds: [evaluation / 3e4, evaluation / 2e4, evaluation / 1e4], overheadSeconds: 0.01 };
}

const PROBES = [probeOf(16, 0.001, 0.2), probeOf(64, 0.004, 0.8)];

test("a job is predicted as expectedSteps × step time + its evaluation + set-up", () => {
  for (const p of PLAN) {
    const probe = PROBES.find((q) => q.width === p.job.width)!;
    assert.equal(expectedSteps(p.job), Math.max(2 * Math.ceil(p.job.n / 10), 10));
    assert.ok(Math.abs(predictJobSeconds(p, PROBES) - (expectedSteps(p.job) * probe.stepSeconds[1] + probe.evalSeconds[1] + 0.01)) < 1e-12);
  }
  // A network that was not probed is interpolated between its neighbours (log-log in params).
  const mid = planJobs(parseConfig({ ...CONFIG, widths: [32] }))[0];
  const t = predictJobSeconds(mid, PROBES);
  assert.ok(t > predictJobSeconds({ ...mid, job: { ...mid.job, width: 16 } }, PROBES) && t < predictJobSeconds({ ...mid, job: { ...mid.job, width: 64 } }, PROBES));
});

test("jobs are scheduled largest first on K workers, start-up added; the range spans the repeats", () => {
  const times = PLAN.map((p) => predictJobSeconds(p, PROBES));
  const serial = times.reduce((s, x) => s + x, 0);
  const one = estimateSweep(PLAN, PROBES, 1, 2);
  assert.ok(Math.abs(one.wallSeconds - (serial + 2)) < 1e-9);
  assert.ok(Math.abs(one.serialSeconds - serial) < 1e-9);
  const many = estimateSweep(PLAN, PROBES, 100, 2);
  assert.equal(many.workers, PLAN.length);
  assert.ok(Math.abs(many.wallSeconds - (Math.max(...times) + 2)) < 1e-9, "one job per worker: the longest job");
  const two = estimateSweep(PLAN, PROBES, 2, 0);
  assert.ok(two.wallSeconds >= serial / 2 - 1e-9 && two.wallSeconds <= serial / 2 + Math.max(...times));
  assert.ok(two.lowSeconds < two.wallSeconds && two.wallSeconds < two.highSeconds);
  const slow = estimateSweep(PLAN, PROBES.map((p) => ({ ...p, stepSeconds: [p.stepSeconds[2]] })), 2, 0);
  assert.ok(Math.abs(two.highSeconds - slow.wallSeconds * (1 + RANGE_MARGIN)) < 1e-9);
});

test("early stopping adds its expected validations × the split × the time per validation image", () => {
  const es = planJobs(parseConfig({ ...CONFIG, policy: "early-stop", patience: 3, valEvery: 20, maxSteps: 400, validation: 5000 }));
  for (const p of es) {
    const probe = PROBES.find((q) => q.width === p.job.width)!;
    const validations = jobValidations(p.job);
    assert.ok(validations > 0);
    const want = expectedSteps(p.job) * probe.stepSeconds[1] + validations * 5000 * probe.validationSeconds[1] + probe.evalSeconds[1] + 0.01;
    assert.ok(Math.abs(predictJobSeconds(p, PROBES) - want) < 1e-12, `${predictJobSeconds(p, PROBES)} vs ${want}`);
  }
});

test("a trajectory adds its training past the stop and its checkpoint evaluations, and no validations past the stop", () => {
  const es = { ...CONFIG, policy: "early-stop" as const, patience: 3, valEvery: 20, maxSteps: 12000, validation: 5000 };
  const trajectory = { points: 6, pEval: [0, 0.5], masks: 1, horizon: 10000, extendSteps: 10000 };
  const plain = planJobs(parseConfig(es));
  const traced = planJobs(parseConfig({ ...es, trajectory }));
  assert.equal(traced.length, plain.length);
  for (const p of traced) {
    const q = plain.find((r) => r.job.width === p.job.width && r.job.n === p.job.n && r.job.seed === p.job.seed)!;
    const probe = PROBES.find((r) => r.width === p.job.width)!;
    // the policy stops where it would without a trajectory; training goes on to extendSteps without validating
    assert.equal(policySteps(p.job), expectedSteps(q.job));
    assert.equal(expectedSteps(p.job), Math.max(expectedSteps(q.job), 10000));
    assert.ok(expectedSteps(p.job) > expectedSteps(q.job), "these jobs stop before step 10000");
    assert.equal(jobValidations(p.job), jobValidations(q.job));
    // checkpoints on the log grid up to the expected end, plus the best and the last step; each 2 p_eval × 1 draw
    const points = trajectoryPoints(p.job);
    assert.ok(points >= 3 && points <= 6 + 2, `${points} checkpoints`);
    assert.equal(trajectoryPasses(p.job), points * 2);
    const perPass = probe.evalSeconds[1] / evalPasses(p.job);
    const want = predictJobSeconds(q, PROBES) + (expectedSteps(p.job) - expectedSteps(q.job)) * probe.stepSeconds[1] + points * 2 * perPass;
    assert.ok(Math.abs(predictJobSeconds(p, PROBES) - want) < 1e-12, `${predictJobSeconds(p, PROBES)} vs ${want}`);
  }
});
