import { test } from "node:test";
import assert from "node:assert/strict";
import { initParams } from "../src/engine/init.js";
import { dropout_scale, referenceEngine, relu_dropout_forward } from "../src/engine/reference.js";
import { Rng, STREAM_TRAIN_DROPOUT, streamKey, uniform } from "../src/engine/rng.js";
import { DEFAULT_OPTIMIZER, INPUT_SIZE, type Dataset } from "../src/engine/types.js";
import { randomData } from "./random-data.js";


function gradientCheck(pTrain: number): void {
  const spec = { width: 6, depth: 2 };
  const params = initParams(spec, 3);
  // Larger weights than init so the check is not dominated by a near-uniform softmax.
  for (let i = 0; i < params.length; i++) params[i] *= 3;
  const net = referenceEngine.createNetwork(spec, params, DEFAULT_OPTIMIZER, 11);
  const data = randomData(5, 1, false);
  const rows = Int32Array.from([0, 1, 2, 3, 4]);
  const { grad } = net.lossAndGradient(data, rows, pTrain, 7);
  // Central differences in float64 are impossible through float32 params, so use a
  // step large enough for float32 and compare over many coordinates at once.
  const eps = 1e-3;
  const rng = new Rng(5, 0);
  let num = 0, den = 0, checked = 0;
  for (let trial = 0; trial < 300; trial++) {
    const k = rng.nextInt(params.length);
    const p = Float32Array.from(params);
    p[k] = params[k] + eps;
    net.setParams(p);
    const up = net.lossAndGradient(data, rows, pTrain, 7).loss;
    p[k] = params[k] - eps;
    net.setParams(p);
    const down = net.lossAndGradient(data, rows, pTrain, 7).loss;
    const fd = (up - down) / (Math.fround(params[k] + eps) - Math.fround(params[k] - eps));
    num += (fd - grad[k]) ** 2;
    den += grad[k] ** 2;
    checked++;
  }
  const rel = Math.sqrt(num / den);
  assert.ok(checked === 300 && den > 0);
  assert.ok(rel < 1e-3, `relative gradient error ${rel}`);
}

test("backward pass matches finite differences (no dropout)", () => gradientCheck(0));
test("backward pass matches finite differences with dropout masks held fixed", () => gradientCheck(0.4));

test("dropout removes a fraction p of units, within statistical bounds", () => {
  for (const p of [0.1, 0.5, 0.9]) {
    const key = streamKey(1, STREAM_TRAIN_DROPOUT, 3, 0);
    const n = 200000;
    let removed = 0;
    for (let i = 0; i < n; i++) if (uniform(key, i) < p) removed++;
    const sd = Math.sqrt((p * (1 - p)) / n);
    assert.ok(Math.abs(removed / n - p) < 5 * sd, `p=${p}: removed ${removed / n}`);
  }
});

test("inverted dropout keeps the mean activation; p = 0 is the identity", () => {
  const n = 100000;
  const pre = new Float32Array(n), act = new Float32Array(n), scale = new Float32Array(n);
  const rng = new Rng(3, 3);
  let plain = 0;
  for (let i = 0; i < n; i++) {
    pre[i] = rng.nextFloat() * 2 - 0.5;
    plain += Math.max(pre[i], 0);
  }
  for (const p of [0.2, 0.7]) {
    dropout_scale(scale, streamKey(9, STREAM_TRAIN_DROPOUT, 0, 0), p, true, n, 0);
    relu_dropout_forward(act, pre, scale, n);
    const kept = act.reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(kept / plain - 1) < 0.03, `p=${p}: mean ratio ${kept / plain}`);
  }
  // One hidden layer of identity-like units: compare the mean output logit over many samples.
  const spec = { width: 64, depth: 1 };
  const params = initParams(spec, 2);
  const data = randomData(200, 4, false);
  const rows = Int32Array.from({ length: 200 }, (_, i) => i);
  const net = referenceEngine.createNetwork(spec, params, DEFAULT_OPTIMIZER, 5);
  const base = net.lossAndGradient(data, rows, 0, 0);
  const again = net.lossAndGradient(data, rows, 0, 123);
  assert.equal(base.loss, again.loss, "p = 0 does not depend on the mask stream");
  const evalNone = net.evaluate(data, { pEval: 0, mode: "sample", masks: 1, rescale: true });
  assert.ok(Math.abs(evalNone.loss - base.loss) < 1e-6, "p_eval = 0 equals the undropped forward pass");
  // Mean of hidden activations is kept by the 1/(1-p) scaling: the mean logit over draws
  // (logits are linear in the hidden layer) approaches the undropped one.
  const mean = (pEval: number, rescale: boolean): number => net.evaluate(data, { pEval, mode: "sample", masks: 1, rescale }).loss;
  const l0 = mean(0, true);
  const lDrop = mean(0.5, true);
  const lNoRescale = mean(0.5, false);
  assert.ok(Number.isFinite(lDrop) && Number.isFinite(lNoRescale));
  assert.notEqual(lDrop, l0);
  assert.notEqual(lDrop, lNoRescale);
});

test("mask-mode evaluation removes the same neurons for every test sample", () => {
  const spec = { width: 32, depth: 2 };
  const net = referenceEngine.createNetwork(spec, initParams(spec, 1), DEFAULT_OPTIMIZER, 1);
  const one = randomData(1, 3, false);
  const twice: Dataset = { x: new Float32Array([...one.x, ...one.x]), y: new Uint8Array([one.y[0], one.y[0]]), n: 2 };
  const r = net.evaluate(twice, { pEval: 0.5, mode: "mask", masks: 3, rescale: true });
  // Both rows are the same image under the same mask: per-mask loss equals the single-row loss.
  const single = net.evaluate(one, { pEval: 0.5, mode: "mask", masks: 3, rescale: true });
  for (let k = 0; k < 3; k++) assert.ok(Math.abs(r.maskLosses[k] - single.maskLosses[k]) < 1e-9);
  assert.equal(new Set(r.maskLosses).size, 3, "different masks give different losses");
  // Sample mode draws a fresh mask per row, so the two identical rows differ.
  const s = net.evaluate(twice, { pEval: 0.5, mode: "sample", masks: 1, rescale: true });
  assert.ok(s.lossStderr > 0);
});

test("same seed gives identical training; a different seed differs", () => {
  const spec = { width: 16, depth: 2 };
  const data = randomData(64, 8, false);
  const order = Int32Array.from({ length: 64 }, (_, i) => i);
  const run = (seed: number): number => {
    const net = referenceEngine.createNetwork(spec, initParams(spec, seed), DEFAULT_OPTIMIZER, seed);
    return net.trainEpoch(data, { order, batch: 16, pTrain: 0.3, firstStep: 0 }).meanLoss;
  };
  assert.equal(run(1), run(1));
  assert.notEqual(run(1), run(2));
});

test("SGD with momentum and Adam both reduce the training loss", () => {
  const spec = { width: 16, depth: 1 };
  const data = randomData(32, 6, false);
  const order = Int32Array.from({ length: 32 }, (_, i) => i);
  for (const optimizer of ["adam", "sgd"] as const) {
    const net = referenceEngine.createNetwork(spec, initParams(spec, 1), { ...DEFAULT_OPTIMIZER, optimizer, lr: optimizer === "sgd" ? 0.05 : 1e-2 }, 1);
    const first = net.trainEpoch(data, { order, batch: 8, pTrain: 0, firstStep: 0 }).meanLoss;
    let last = first;
    for (let e = 1; e < 30; e++) last = net.trainEpoch(data, { order, batch: 8, pTrain: 0, firstStep: e * 4 }).meanLoss;
    assert.ok(last < first * 0.5, `${optimizer}: ${first} -> ${last}`);
  }
});
