import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { loadMnist, nestedSubset } from "../src/data/mnist.js";
import { initParams } from "../src/engine/init.js";
import { loadNativeEngine, nativeIsa, nativeLoadError } from "../src/engine/native/index.js";
import { referenceEngine } from "../src/engine/reference.js";
import { Rng } from "../src/engine/rng.js";
import { DEFAULT_OPTIMIZER, INPUT_SIZE, type Dataset, type Engine, type EvalOptions, type NetworkSpec, type OptimizerConfig } from "../src/engine/types.js";
import { randomData } from "./random-data.js";

// Native vs reference agreement. Without the addon these tests skip (with the reason), they
// do not fail: mentia then runs on the reference engine.
const native = loadNativeEngine();
const skip = native ? false : `native addon not available: ${nativeLoadError()}`;
const nat = (): Engine => native as Engine;


function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += a[i] ** 2;
  }
  return Math.sqrt(num / den);
}

function pair(spec: NetworkSpec, opt: OptimizerConfig = DEFAULT_OPTIMIZER, seed = 11, scale = 1) {
  const params = initParams(spec, 3);
  for (let i = 0; i < params.length; i++) params[i] *= scale;
  return { ref: referenceEngine.createNetwork(spec, params, opt, seed), nat: nat().createNetwork(spec, params, opt, seed) };
}

test("native engine loads and reports its instruction set", { skip }, () => {
  assert.ok(["avx512", "avx2+fma", "generic"].includes(nativeIsa() ?? ""), `isa ${nativeIsa()}`);
});

test("native gradients equal the reference's (float tolerance), with and without dropout", { skip }, () => {
  const data = randomData(120, 1);
  // odd widths and batches exercise every edge path of the kernels (rows % 6, columns % 16)
  const cases: Array<[number, number, number, number]> = [
    [6, 2, 5, 0],
    [6, 2, 5, 0.4],
    [37, 3, 53, 0.3],
    [64, 1, 64, 0.5],
    [20, 0, 7, 0],
    [100, 2, 33, 0.2],
  ];
  for (const [width, depth, B, p] of cases) {
    // larger weights than init, so the gradient is not dominated by a uniform softmax
    const { ref, nat: nn } = pair({ width, depth }, DEFAULT_OPTIMIZER, 11, 3);
    const rows = new Int32Array(B);
    for (let i = 0; i < B; i++) rows[i] = (i * 37 + 5) % data.n;
    for (const step of [0, 7]) {
      const a = ref.lossAndGradient(data, rows, p, step);
      const b = nn.lossAndGradient(data, rows, p, step);
      const what = `width ${width} depth ${depth} batch ${B} p ${p} step ${step}`;
      assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * Math.abs(a.loss), `${what}: loss ${a.loss} vs ${b.loss}`);
      assert.ok(relErr(a.grad, b.grad) < 1e-5, `${what}: relative gradient error ${relErr(a.grad, b.grad)}`);
    }
    // a different step must give different masks (when there is dropout)
    if (p > 0 && depth > 0) {
      const s0 = nn.lossAndGradient(data, rows, p, 0).grad, s1 = nn.lossAndGradient(data, rows, p, 1).grad;
      assert.ok(relErr(s0, s1) > 1e-2, `masks of steps 0 and 1 look identical`);
    }
    ref.dispose();
    nn.dispose();
  }
});

test("native training follows the reference step by step (Adam and SGD, partial last batch)", { skip }, () => {
  const data = randomData(150, 2);
  const order = new Int32Array(150);
  for (let i = 0; i < 150; i++) order[i] = (i * 61) % 150;
  for (const opt of [DEFAULT_OPTIMIZER, { ...DEFAULT_OPTIMIZER, optimizer: "sgd" as const, lr: 0.05 }]) {
    const { ref, nat: nn } = pair({ width: 37, depth: 2 }, opt);
    for (let epoch = 0; epoch < 3; epoch++) {
      const o = { order, batch: 40, pTrain: 0.25, firstStep: epoch * 4 };
      const a = ref.trainEpoch(data, o);
      const b = nn.trainEpoch(data, o);
      assert.equal(b.steps, 4);
      assert.equal(b.samples, 150);
      assert.ok(Math.abs(a.meanLoss - b.meanLoss) < 1e-5 * a.meanLoss, `${opt.optimizer} epoch ${epoch}: ${a.meanLoss} vs ${b.meanLoss}`);
    }
    const err = relErr(ref.getParams(), nn.getParams());
    assert.ok(err < 1e-5, `${opt.optimizer}: parameters drift apart, relative error ${err}`);
    // maxSteps stops early
    const c = nn.trainEpoch(data, { order, batch: 40, pTrain: 0.25, firstStep: 12, maxSteps: 2 });
    assert.deepEqual([c.steps, c.samples], [2, 80]);
  }
});

test("native evaluation equals the reference's in sample and mask mode, with and without rescaling", { skip }, () => {
  const data = randomData(230, 3);
  const { ref, nat: nn } = pair({ width: 45, depth: 2 }, DEFAULT_OPTIMIZER, 5, 2);
  const opts: EvalOptions[] = [
    { pEval: 0.3, mode: "sample", masks: 3, rescale: true, batch: 100 },
    { pEval: 0.3, mode: "mask", masks: 3, rescale: true },
    { pEval: 0.6, mode: "sample", masks: 1, rescale: false, batch: 64 },
    { pEval: 0.5, mode: "mask", masks: 2, rescale: false, batch: 7 },
    { pEval: 0, mode: "sample", masks: 4, rescale: true },
  ];
  for (const o of opts) {
    const a = ref.evaluate(data, o);
    const b = nn.evaluate(data, o);
    const what = JSON.stringify(o);
    assert.equal(b.maskLosses.length, o.masks, what);
    for (let k = 0; k < o.masks; k++) {
      assert.ok(Math.abs(a.maskLosses[k] - b.maskLosses[k]) < 1e-5 * a.maskLosses[k], `${what}: draw ${k} loss ${a.maskLosses[k]} vs ${b.maskLosses[k]}`);
      assert.ok(Math.abs(a.maskAccuracies[k] - b.maskAccuracies[k]) <= 1 / data.n + 1e-12, `${what}: draw ${k} accuracy ${a.maskAccuracies[k]} vs ${b.maskAccuracies[k]}`);
    }
    assert.ok(Math.abs(a.lossStderr - b.lossStderr) < 1e-3 * a.lossStderr + 1e-9, `${what}: stderr ${a.lossStderr} vs ${b.lossStderr}`);
    // the internal batch must not change the result
    const c = nn.evaluate(data, { ...o, batch: 17 });
    assert.deepEqual(c.maskLosses.map((v) => v.toPrecision(6)), b.maskLosses.map((v) => v.toPrecision(6)), `${what}: batch changes the result`);
    // with several draws, layer 0 is computed once and shared: draw 0 must be bit-identical to a single-draw evaluation
    const one = nn.evaluate(data, { ...o, masks: 1 });
    assert.equal(one.maskLosses[0], b.maskLosses[0], `${what}: shared layer 0 changes draw 0`);
    assert.equal(one.maskAccuracies[0], b.maskAccuracies[0], `${what}: shared layer 0 changes draw 0`);
  }
});

test("short training on real MNIST: native final test loss within 1% of the reference's", { skip }, () => {
  const mnist = loadMnist();
  const spec = { width: 32, depth: 2 };
  const { ref, nat: nn } = pair(spec, { ...DEFAULT_OPTIMIZER, lr: 3e-3 }, 4);
  const rows = nestedSubset(200, 0);
  const rng = new Rng(4, 1);
  let step = 0;
  for (let epoch = 0; epoch < 2; epoch++) {
    const order = Int32Array.from(rows);
    rng.shuffle(order);
    const o = { order, batch: 10, pTrain: 0.2, firstStep: step };
    ref.trainEpoch(mnist.train, o);
    step += nn.trainEpoch(mnist.train, o).steps;
  }
  const test2k: Dataset = { x: mnist.test.x.subarray(0, 2000 * INPUT_SIZE), y: mnist.test.y.subarray(0, 2000), n: 2000 };
  for (const o of [{ pEval: 0, mode: "sample" as const, masks: 1, rescale: true }, { pEval: 0.3, mode: "sample" as const, masks: 2, rescale: true }]) {
    const a = ref.evaluate(test2k, o);
    const b = nn.evaluate(test2k, o);
    assert.ok(Math.abs(a.loss - b.loss) < 0.01 * a.loss, `p_eval ${o.pEval}: test loss ${a.loss} (reference) vs ${b.loss} (native)`);
    assert.ok(Math.abs(a.accuracy - b.accuracy) < 0.01, `p_eval ${o.pEval}: accuracy ${a.accuracy} vs ${b.accuracy}`);
    assert.ok(b.accuracy > 0.2, `the network learned something (accuracy ${b.accuracy}, chance 0.1)`);
  }
});

test("native engine: same seed gives identical numbers twice; another seed does not", { skip }, () => {
  const data = randomData(200, 4);
  const order = new Int32Array(200);
  for (let i = 0; i < 200; i++) order[i] = i;
  const run = (seed: number) => {
    const net = nat().createNetwork({ width: 50, depth: 2 }, initParams({ width: 50, depth: 2 }, seed), DEFAULT_OPTIMIZER, seed);
    const losses = [0, 1].map((e) => net.trainEpoch(data, { order, batch: 64, pTrain: 0.3, firstStep: e * 4 }).meanLoss);
    const ev = net.evaluate(data, { pEval: 0.4, mode: "sample", masks: 2, rescale: true });
    const params = net.getParams();
    net.dispose();
    return { losses, ev, params };
  };
  const a = run(7), b = run(7), c = run(8);
  assert.deepEqual(a.losses, b.losses);
  assert.deepEqual(a.ev, b.ev);
  assert.deepEqual(a.params, b.params);
  assert.notDeepEqual(a.losses, c.losses);
});

test("native engine: setParams/getParams round-trip; bad input is rejected; dispose is final", { skip }, () => {
  const spec = { width: 19, depth: 1 };
  const p = initParams(spec, 1);
  const net = nat().createNetwork(spec, p, DEFAULT_OPTIMIZER, 1);
  assert.deepEqual(net.getParams(), p);
  const q = p.map((v) => v * 2);
  net.setParams(q);
  assert.deepEqual(net.getParams(), q);
  const data = randomData(10, 5);
  assert.throws(() => net.lossAndGradient(data, Int32Array.from([3, 10]), 0, 0), /out of range/);
  assert.throws(() => net.trainEpoch(data, { order: Int32Array.from([0, 1]), batch: 2, pTrain: 1, firstStep: 0 }), /pTrain/);
  const bad = { ...data, y: Uint8Array.from(data.y, (v, i) => (i === 4 ? 12 : v)) };
  assert.throws(() => net.evaluate(bad, { pEval: 0, mode: "sample", masks: 1, rescale: true }), /label 12/);
  assert.throws(() => nat().createNetwork(spec, p.subarray(1), DEFAULT_OPTIMIZER, 1), /parameters/);
  net.dispose();
  assert.throws(() => net.getParams(), /disposed/);
});

test("the portable (non-SIMD) build agrees with the reference too", { skip: skip || nativeIsa() === "generic" ? "only meaningful when the SIMD variant is the default" : false }, () => {
  // The default variant is chosen once per process: run a small check in a child with MENTIA_ISA=generic.
  const script = `
    import { initParams } from ${JSON.stringify(new URL("../src/engine/init.js", import.meta.url).href)};
    import { loadNativeEngine, nativeIsa } from ${JSON.stringify(new URL("../src/engine/native/index.js", import.meta.url).href)};
    import { DEFAULT_OPTIMIZER } from ${JSON.stringify(new URL("../src/engine/types.js", import.meta.url).href)};
    const n = 64, x = new Float32Array(n * 784).map((_, i) => ((i * 7919) % 1000) / 1000), y = Uint8Array.from({ length: n }, (_, i) => i % 10);
    const net = loadNativeEngine().createNetwork({ width: 21, depth: 2 }, initParams({ width: 21, depth: 2 }, 1), DEFAULT_OPTIMIZER, 1);
    const rows = Int32Array.from({ length: 29 }, (_, i) => (i * 5) % n);
    const g = net.lossAndGradient({ x, y, n }, rows, 0.3, 2);
    process.stdout.write(JSON.stringify({ isa: nativeIsa(), loss: g.loss, grad: Array.from(g.grad) }));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", env: { ...process.env, MENTIA_ISA: "generic" }, cwd: fileURLToPath(new URL(".", import.meta.url)) });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { isa: string; loss: number; grad: number[] };
  assert.equal(out.isa, "generic");
  const n = 64, x = new Float32Array(n * 784).map((_, i) => ((i * 7919) % 1000) / 1000), y = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const ref = referenceEngine.createNetwork({ width: 21, depth: 2 }, initParams({ width: 21, depth: 2 }, 1), DEFAULT_OPTIMIZER, 1);
  const rows = Int32Array.from({ length: 29 }, (_, i) => (i * 5) % n);
  const g = ref.lossAndGradient({ x, y, n }, rows, 0.3, 2);
  assert.ok(Math.abs(g.loss - out.loss) < 1e-5 * g.loss, `loss ${g.loss} vs ${out.loss}`);
  assert.ok(relErr(g.grad, Float32Array.from(out.grad)) < 1e-5, `relative gradient error ${relErr(g.grad, Float32Array.from(out.grad))}`);
});

test("evaluateAll gives exactly the per-p_eval evaluations (one pass), in both modes, and agrees with the reference", { skip }, () => {
  const data = randomData(333, 8);
  const spec = { width: 37, depth: 2 };
  const { ref, nat: nn } = pair(spec, DEFAULT_OPTIMIZER, 5, 2);
  const pEvals = [0, 0.1, 0.5, 0.9, 0.3];
  for (const o of [
    { mode: "sample" as const, masks: 3, rescale: true, batch: 100 },
    { mode: "mask" as const, masks: 2, rescale: false },
    { mode: "sample" as const, masks: 1, rescale: true, batch: 64 },
  ]) {
    const all = nn.evaluateAll(data, pEvals, o);
    assert.equal(all.length, pEvals.length);
    pEvals.forEach((pEval, i) => {
      const one = nn.evaluate(data, { ...o, pEval });
      assert.deepEqual(all[i], one, `${o.mode}, ${o.masks} masks: p_eval ${pEval}`);
    });
    const r = ref.evaluateAll(data, pEvals, o);
    pEvals.forEach((pEval, i) => assert.ok(Math.abs(r[i].loss - all[i].loss) < 1e-5 * r[i].loss, `reference at p_eval ${pEval}: ${r[i].loss} vs ${all[i].loss}`));
  }
  assert.throws(() => nn.evaluateAll(data, [], { mode: "sample", masks: 1, rescale: true }), /at least one p_eval/);
  assert.throws(() => nn.evaluateAll(data, [0.2, 1], { mode: "sample", masks: 1, rescale: true }), /pEval/);
});
