import { test } from "node:test";
import assert from "node:assert/strict";
import { MentiaError } from "../src/errors.js";
import { interpolationCheck, parseSlice, sliceName, sliceRecords } from "../src/analysis/slice.js";
import type { TrajectoryRecord } from "../src/sweep/records.js";

/** A job whose L is a + b·ln(step) at the checkpoints `steps` (so linear interpolation in ln steps is exact). */
function job(n: number, steps: number[], a: number, b: number, best: number): TrajectoryRecord[] {
  const spe = Math.ceil(n / 50);
  return steps.map((step) => ({
    jobKey: `j${n}`, width: 8, depth: 1, pTrain: 0, n, seed: 0, evalMode: "sample", step, epoch: step / spe, samples: step * 50, best: step === best,
    stopStep: best, endStep: steps[steps.length - 1], valLoss: 1, pEval: 0.5, loss: a + b * Math.log(step), lossStderr: 0.01, accuracy: 0.9, maskLosses: [a + b * Math.log(step) - 0.1, a + b * Math.log(step) + 0.1],
  }));
}

test("parseSlice: the four kinds; bad input is one readable MentiaError", () => {
  assert.deepEqual(parseSlice("early-stop"), { kind: "early-stop", value: null });
  assert.deepEqual(parseSlice("steps=3000"), { kind: "steps", value: 3000 });
  assert.deepEqual(parseSlice("epochs=2.5"), { kind: "epochs", value: 2.5 });
  assert.deepEqual(parseSlice("samples=64000"), { kind: "samples", value: 64000 });
  assert.equal(sliceName(parseSlice("epochs=2.5")), "epochs-2.5");
  for (const bad of ["steps", "steps=0", "steps=1.5", "epoch=3", "early", "epochs=-1", "steps=1e400"]) assert.throws(() => parseSlice(bad), (e: unknown) => e instanceof MentiaError && /--slice must be/.test(e.message), bad);
});

test("sliceRecords: exact where L is linear in ln steps, per mask draw; best point for early-stop; no extrapolation", () => {
  const traj = [...job(100, [10, 20, 40, 80, 160], 2, -0.3, 40), ...job(400, [10, 30, 90, 270], 1.5, -0.2, 90)];
  const at = (s: string) => sliceRecords(traj, parseSlice(s));
  const s50 = at("steps=50");
  assert.equal(s50.records.length, 2);
  for (const r of s50.records) {
    const [a, b] = r.n === 100 ? [2, -0.3] : [1.5, -0.2];
    assert.ok(Math.abs(r.loss - (a + b * Math.log(50))) < 1e-12);
    assert.ok(Math.abs(r.maskLosses[1] - (a + b * Math.log(50) + 0.1)) < 1e-12);
  }
  assert.deepEqual(at("early-stop").records.map((r) => r.loss), [2 - 0.3 * Math.log(40), 1.5 - 0.2 * Math.log(90)]);
  // 200 steps: beyond the N = 100 job's last checkpoint (160): left out and named.
  const far = at("steps=200");
  assert.deepEqual(far.records.map((r) => r.n), [400]);
  assert.equal(far.outside.length, 1);
  assert.match(far.outside[0], /N 100 seed 0: recorded steps 10…160/);
  // Epochs: N = 400 has 8 steps per epoch, so 5 epochs = 40 steps.
  const e5 = at("epochs=5").records.find((r) => r.n === 400)!;
  assert.ok(Math.abs(e5.loss - (1.5 - 0.2 * Math.log(40))) < 1e-12);
  // Samples: 50 per step here.
  assert.ok(Math.abs(at("samples=2500").records.find((r) => r.n === 100)!.loss - (2 - 0.3 * Math.log(50))) < 1e-12);
  // At a checkpoint exactly: its value.
  assert.equal(at("steps=10").records[0].loss, 2 - 0.3 * Math.log(10));
});

test("interpolationCheck: zero where L is linear in ln steps, the curvature's error otherwise", () => {
  assert.ok(interpolationCheck(job(100, [10, 20, 40, 80], 2, -0.3, 40))!.medianRelError < 1e-12);
  // L = (ln s)²: the midpoint in ln steps between ln s ± h is off by h².
  const curved = job(100, [Math.exp(2), Math.exp(3), Math.exp(4)].map(Math.round), 0, 0, 0).map((r) => ({ ...r, loss: Math.log(r.step) ** 2 }));
  const c = interpolationCheck(curved)!;
  assert.equal(c.checks, 1);
  assert.ok(Math.abs(c.medianRelError - 1 / 9) < 0.01, String(c.medianRelError));
});
