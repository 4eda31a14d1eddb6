import { test } from "node:test";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { loadMnist, nestedSubset, selectRows } from "../src/data/mnist.js";
import { initParams } from "../src/engine/init.js";
import { forcedLayer0Path, inputDensity, layer0PathFor, withLayer0Path } from "../src/engine/layer0.js";
import { loadAddon, nativeEngineFor, nativeIsas, nativeLoadError, type NativeIsaName } from "../src/engine/native/index.js";
import { DEFAULT_OPTIMIZER, type Dataset, type EvalMode, type OptimizerConfig } from "../src/engine/types.js";
import type { TrainJob } from "../src/train/job.js";
import { jobData, runJob, validationLoss } from "../src/train/train.js";
import { MentiaError } from "../src/errors.js";

// Layer 0 from the nonzero pixels (sparse) must give the dense GEMM's numbers bit for bit:
// the same sums without their zero terms, in the same order and blocking (net_impl.h).
// Real MNIST jobs, under every instruction-set variant this CPU runs.
const skip = loadAddon() ? false : `native addon not available: ${nativeLoadError()}`;

function countDiffs(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && a[i] !== b[i]) d++;
  return d;
}

// Early stopping (validations by row index), dropout, all five eval modes; widths off the
// 16-grid; batch 700 cuts the weight-gradient reduction in two blocks (kc 512).
const base: TrainJob = {
  width: 40, depth: 2, pTrain: 0.3, n: 400, seed: 3, policy: "early-stop", epochs: 0, steps: 0, patience: 2, valEvery: 5, maxSteps: 12,
  validation: 600, dataDraw: "per-seed", subsetSeed: 0, batch: 50, lr: 1e-3, optimizer: "adam", pEvals: [0, 0.4], evalMode: ["sample", "mask", "neuron-magnitude", "weight-random", "weight-magnitude"] as EvalMode[],
  masks: 2, rescale: true,
};
const JOBS: Array<Partial<TrainJob>> = [
  {},
  { width: 100, depth: 1, optimizer: "sgd", lr: 0.05, pTrain: 0, batch: 64 },
  { width: 130, depth: 3, batch: 700, n: 1400, maxSteps: 4, valEvery: 2 },
];

for (const isa of ["generic", "avx2", "avx512"] as NativeIsaName[]) {
  const why = skip || (nativeIsas().includes(isa) ? false : `the ${isa} variant does not run on this CPU`);
  test(`sparse and dense layer 0 train, validate and evaluate real MNIST jobs to identical numbers (${isa})`, { skip: why }, () => {
    const data = loadMnist();
    const engine = nativeEngineFor(isa);
    for (const j of JOBS) {
      const job = { ...base, ...j };
      const dense = withLayer0Path("dense", () => runJob(job, data, engine));
      const sparse = withLayer0Path("sparse", () => runJob(job, data, engine));
      const what = `${isa}, width ${job.width}, depth ${job.depth}, batch ${job.batch}, ${job.optimizer}`;
      assert.ok(dense.training.validations > 0, what);
      assert.deepEqual(sparse.training, dense.training, `${what}: training record (validation losses)`);
      assert.equal(sparse.finalTrainLoss, dense.finalTrainLoss, `${what}: training loss`);
      assert.deepEqual(sparse.evals, dense.evals, `${what}: evaluations`);
    }
  });
}

test("sparse and dense layer 0: the same parameters after training, the same gradients (all variants)", { skip }, () => {
  const data = loadMnist();
  const rows = nestedSubset(256, 5);
  for (const isa of nativeIsas()) {
    for (const opt of [DEFAULT_OPTIMIZER, { ...DEFAULT_OPTIMIZER, optimizer: "sgd", lr: 0.05 } as OptimizerConfig]) {
      const spec = { width: 72, depth: 2 };
      const run = (path: string) =>
        withLayer0Path(path, () => {
          const net = nativeEngineFor(isa).createNetwork(spec, initParams(spec, 9), opt, 4);
          net.trainEpoch(data.train, { order: rows, batch: 32, pTrain: 0.2, firstStep: 0 });
          const g = net.lossAndGradient(data.train, rows.subarray(0, 90), 0.2, 17);
          const params = net.getParams();
          net.dispose();
          return { params, g };
        });
      const d = run("dense"), s = run("sparse");
      assert.equal(countDiffs(s.params, d.params), 0, `${isa} ${opt.optimizer}: parameters that differ`);
      assert.equal(s.g.loss, d.g.loss, `${isa}: loss`);
      assert.equal(countDiffs(s.g.grad, d.g.grad), 0, `${isa}: gradient entries that differ`);
    }
  }
});

test("training in several calls, on data that change between calls and across a path switch, equals the dense path (kept training rows)", { skip }, () => {
  // The sparse path keeps the nonzero pixels of the rows it trains on while the same images
  // come back (net_impl.h: the training rows' store): other images must replace them, also
  // after a dense call in between, and the store grows as new rows come. Consecutive calls
  // overlap by 60 rows, so rows kept from one array come back with the other.
  const data = loadMnist();
  const a: Dataset = selectRows(data.train, nestedSubset(600, 7));
  const b: Dataset = selectRows(data.train, nestedSubset(600, 8));
  const spec = { width: 40, depth: 2 };
  for (const isa of nativeIsas()) {
    const run = (paths: string[]) => {
      const net = nativeEngineFor(isa).createNetwork(spec, initParams(spec, 3), DEFAULT_OPTIMIZER, 5);
      const order = nestedSubset(600, 2, 600);
      let step = 0;
      [a, a, b, b, a].forEach((d, i) =>
        withLayer0Path(paths[i], () => {
          step += net.trainEpoch(d, { order: order.subarray(60 * i), batch: 40, pTrain: 0.2, firstStep: step, maxSteps: 3 }).steps;
        }),
      );
      const params = net.getParams();
      net.dispose();
      return params;
    };
    const dense = run(Array(5).fill("dense"));
    assert.equal(countDiffs(run(Array(5).fill("sparse")), dense), 0, `${isa}: sparse throughout`);
    assert.equal(countDiffs(run(["sparse", "sparse", "dense", "sparse", "sparse"]), dense), 0, `${isa}: dense call in between`);
  }
});

test("evaluating rows in place equals evaluating a copy of them, on both layer-0 paths", { skip }, () => {
  const data = loadMnist();
  const job = { ...base, n: 300, policy: "steps" as const, steps: 10 };
  const val = jobData(job).validation;
  const copy: Dataset = selectRows(data.train, val);
  const engine = nativeEngineFor(nativeIsas()[0]);
  const spec = { width: 48, depth: 2 };
  for (const path of ["dense", "sparse"]) {
    withLayer0Path(path, () => {
      const net = engine.createNetwork(spec, initParams(spec, 2), DEFAULT_OPTIMIZER, 1);
      net.trainEpoch(data.train, { order: nestedSubset(300, 1), batch: 30, pTrain: 0, firstStep: 0 });
      assert.equal(validationLoss(net, data.train, val), validationLoss(net, copy), path);
      const opts = { mode: "sample" as const, masks: 3, rescale: true, batch: 250 };
      assert.deepEqual(net.evaluateAll(data.train, [0, 0.5], { ...opts, rows: val }), net.evaluateAll(copy, [0, 0.5], opts), path);
      assert.throws(() => net.evaluate(data.train, { ...opts, pEval: 0, rows: Int32Array.of(0, 60000) }), /row index 60000 is out of range/);
      net.dispose();
    });
  }
});

test("MENTIA_LAYER0 forces a path; unset, the path follows the input density; a bad value is a MentiaError", () => {
  const data = loadMnist();
  const d = inputDensity(data.train);
  assert.ok(d > 0.15 && d < 0.25, `MNIST's nonzero fraction ${d}`);
  withLayer0Path(undefined, () => assert.equal(layer0PathFor(data.train), "sparse"));
  const full: Dataset = { x: new Float32Array(784 * 3).fill(0.5), y: new Uint8Array(3), n: 3 };
  withLayer0Path(undefined, () => assert.equal(layer0PathFor(full), "dense"));
  withLayer0Path("sparse", () => assert.equal(layer0PathFor(full), "sparse"));
  withLayer0Path("dense", () => assert.equal(layer0PathFor(data.train), "dense"));
  withLayer0Path("fast", () => assert.throws(() => forcedLayer0Path(), (e: unknown) => e instanceof MentiaError && /MENTIA_LAYER0 must be/.test(e.message)));
});

test("the CLI refuses a bad MENTIA_LAYER0 with one line and exit status 2", () => {
  const cli = fileURLToPath(new URL("../../bin/mentia.js", import.meta.url));
  const r = spawnSync(process.execPath, [cli, "train", "--width", "8", "--depth", "1", "--n", "50"], { encoding: "utf8", env: { ...process.env, MENTIA_LAYER0: "fast" } });
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim(), "mentia: MENTIA_LAYER0 must be 'dense', 'sparse' or 'auto', got 'fast'");
});
