import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { loadMnist, selectRows } from "../src/data/mnist.js";
import { initParams } from "../src/engine/init.js";
import { loadNativeEngine, nativeLoadError } from "../src/engine/native/index.js";
import { layerOffsets, neuronScores, Pruner, removedCount } from "../src/engine/prune.js";
import { referenceEngine } from "../src/engine/reference.js";
import { Rng } from "../src/engine/rng.js";
import { DEFAULT_OPTIMIZER, EVAL_MODES, INPUT_SIZE, type Dataset, type Engine, type EvalMode, type NetworkSpec } from "../src/engine/types.js";
import { MentiaError } from "../src/errors.js";
import { parseConfig } from "../src/sweep/config.js";
import { planJobs } from "../src/sweep/plan.js";
import { SweepStore } from "../src/sweep/store.js";
import type { JobResult } from "../src/train/job.js";
import { trainJob } from "../src/train/train.js";
import { randomData } from "./random-data.js";

const native = loadNativeEngine();
const engines: Engine[] = native ? [referenceEngine, native] : [referenceEngine];
const nativeSkip = native ? false : `native addon not available: ${nativeLoadError()}`;


const PRUNING: EvalMode[] = ["neuron-magnitude", "weight-random", "weight-magnitude"];

test("p_eval 0 gives exactly the unpruned network's loss in every mode, on both engines", () => {
  const data = randomData(150, 1);
  const spec = { width: 20, depth: 2 };
  for (const engine of engines) {
    const net = engine.createNetwork(spec, initParams(spec, 4), DEFAULT_OPTIMIZER, 7);
    const plain = net.evaluate(data, { pEval: 0, mode: "sample", masks: 1, rescale: true });
    for (const mode of EVAL_MODES) {
      const r = net.evaluateAll(data, [0, 0.5], { mode, masks: 3, rescale: true, magnitudeRescale: true, magnitudeGlobal: mode === "weight-magnitude" });
      assert.equal(r[0].loss, plain.loss, `${engine.name} ${mode}`);
      assert.equal(r[0].accuracy, plain.accuracy, `${engine.name} ${mode}`);
      assert.notEqual(r[1].loss, plain.loss, `${engine.name} ${mode}: p_eval 0.5 removes something`);
    }
    // The pruning modes put the parameters back.
    assert.deepEqual(net.getParams(), initParams(spec, 4), engine.name);
    net.dispose();
  }
});

/** Brute force: the `r` smallest of `score` (ties by index), as a set of indices. */
function smallest(score: number[], r: number): Set<number> {
  return new Set(score.map((s, i) => [s, i]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, r).map(([, i]) => i));
}

test("neuron-magnitude removes exactly round(p·width) neurons per hidden layer, those of smallest ‖in‖·‖out‖ (brute force)", () => {
  const spec: NetworkSpec = { width: 6, depth: 3 };
  const params = initParams(spec, 2);
  const L = layerOffsets(spec);
  // Scores by their definition, written out.
  const score = (l: number, j: number): number => {
    let a = 0, b = 0;
    for (let c = 0; c < L[l].inp; c++) a += params[L[l].w + j * L[l].inp + c] ** 2;
    for (let o = 0; o < L[l + 1].out; o++) b += params[L[l + 1].w + o * L[l + 1].inp + j] ** 2;
    return Math.sqrt(a * b);
  };
  const scores = neuronScores(spec, params);
  for (let l = 0; l < spec.depth; l++) for (let j = 0; j < spec.width; j++) assert.ok(Math.abs(scores[l][j] - score(l, j)) < 1e-9 * score(l, j));
  const pruner = new Pruner(spec, params, "neuron-magnitude", 1, { rescale: true });
  for (const p of [0.1, 0.25, 0.5, 0.75, 0.95]) {
    const r = removedCount(p, spec.width);
    assert.equal(r, Math.round(p * spec.width));
    const q = pruner.params(p, 0);
    for (let l = 0; l < spec.depth; l++) {
      const want = smallest(Array.from({ length: spec.width }, (_, j) => score(l, j)), r);
      for (let j = 0; j < spec.width; j++) {
        const row = q.subarray(L[l].w + j * L[l].inp, L[l].w + (j + 1) * L[l].inp);
        const removed = row.every((v) => v === 0) && q[L[l].b + j] === 0;
        const intact = row.every((v, c) => v === params[L[l].w + j * L[l].inp + c]) && q[L[l].b + j] === params[L[l].b + j];
        assert.ok(want.has(j) ? removed : intact, `p ${p} layer ${l} neuron ${j}: ${want.has(j) ? "should be removed" : "should be intact"}`);
      }
    }
    // Output layer untouched without magnitudeRescale.
    const out = L[spec.depth];
    assert.deepEqual(q.subarray(out.w), params.subarray(out.w));
  }
});

test("neuron-magnitude evaluates the narrower network of the survivors: the loss of the full network with the removed neurons zeroed, on both engines", () => {
  const data = randomData(120, 4);
  const spec = { width: 12, depth: 2 };
  const params = initParams(spec, 8);
  for (const engine of engines) {
    const net = engine.createNetwork(spec, params, DEFAULT_OPTIMIZER, 2);
    for (const magnitudeRescale of [false, true]) {
      const pruner = new Pruner(spec, params, "neuron-magnitude", 2, { rescale: true, magnitudeRescale });
      const ps = [0.25, 0.5, 0.9];
      const got = net.evaluateAll(data, ps, { mode: "neuron-magnitude", masks: 2, rescale: true, magnitudeRescale });
      ps.forEach((p, i) => {
        const zeroed = engine.createNetwork(spec, pruner.params(p, 0), DEFAULT_OPTIMIZER, 2);
        const want = zeroed.evaluate(data, { pEval: 0, mode: "mask", masks: 1, rescale: false });
        assert.ok(Math.abs(got[i].loss - want.loss) < 1e-6 * want.loss, `${engine.name} p ${p} rescale ${magnitudeRescale}: ${got[i].loss} vs ${want.loss}`);
        assert.equal(got[i].accuracy, want.accuracy);
        zeroed.dispose();
      });
    }
    net.dispose();
  }
});

test("weight-magnitude removes exactly round(p·count) weights of smallest |w| per layer, or over all layers with magnitudeGlobal (brute force)", () => {
  const spec: NetworkSpec = { width: 5, depth: 2 };
  const params = initParams(spec, 3);
  const L = layerOffsets(spec);
  for (const global of [false, true]) {
    const pruner = new Pruner(spec, params, "weight-magnitude", 1, { rescale: true, magnitudeGlobal: global });
    for (const p of [0.1, 0.3, 0.5, 0.9]) {
      const q = pruner.params(p, 0);
      // Weight positions (flat indices) of every layer, and the wanted removed set.
      const groups = global ? [L.flatMap(({ w, inp, out }) => Array.from({ length: inp * out }, (_, i) => w + i))] : L.map(({ w, inp, out }) => Array.from({ length: inp * out }, (_, i) => w + i));
      for (const g of groups) {
        const want = smallest(g.map((i) => Math.abs(params[i])), Math.round(p * g.length));
        let removed = 0;
        g.forEach((i, k) => {
          if (q[i] === 0) removed++;
          assert.equal(q[i], want.has(k) ? 0 : params[i], `global ${global} p ${p} weight ${i}`);
        });
        assert.equal(removed, Math.round(p * g.length));
      }
      for (const { b, out } of L) assert.deepEqual(q.subarray(b, b + out), params.subarray(b, b + out), "biases are kept");
    }
  }
  // magnitudeRescale scales the survivors by 1/(1-p).
  const q = new Pruner(spec, params, "weight-magnitude", 1, { rescale: false, magnitudeRescale: true }).params(0.5, 0);
  let checked = 0;
  for (let i = L[0].w; i < L[0].b; i++) if (q[i] !== 0) (assert.equal(q[i], Math.fround(params[i] * 2)), checked++);
  assert.equal(checked, L[0].inp * L[0].out - Math.round(0.5 * L[0].inp * L[0].out));
});

test("weight-random removes a fraction p_eval of the weights (within 4σ of the binomial, per draw and over 40 draws), reproducibly per seed", () => {
  const spec: NetworkSpec = { width: 16, depth: 2 };
  const params = initParams(spec, 5);
  const L = layerOffsets(spec);
  const weights = L.reduce((s, x) => s + x.inp * x.out, 0);
  for (const p of [0.05, 0.3, 0.8]) {
    const pruner = new Pruner(spec, params, "weight-random", 9, { rescale: true });
    const sd = Math.sqrt(weights * p * (1 - p));
    let total = 0;
    const K = 40;
    for (let k = 0; k < K; k++) {
      const q = pruner.params(p, k);
      let removed = 0;
      for (const { w, b, inp, out } of L) {
        for (let i = w; i < w + inp * out; i++) {
          if (q[i] === 0) removed++;
          else assert.equal(q[i], Math.fround(params[i] * (1 / (1 - p))), "survivors rescaled by 1/(1-p)");
        }
        assert.deepEqual(q.subarray(b, b + out), params.subarray(b, b + out), "biases are kept");
      }
      assert.ok(Math.abs(removed - weights * p) < 4 * sd, `p ${p} draw ${k}: removed ${removed} of ${weights}`);
      total += removed;
    }
    assert.ok(Math.abs(total / K - weights * p) < (4 * sd) / Math.sqrt(K), `p ${p}: mean removed ${total / K}, expected ${weights * p}`);
    // Same seed and draw: the same weights; another draw or another seed: others.
    const again = new Pruner(spec, params, "weight-random", 9, { rescale: true });
    assert.deepEqual(again.params(p, 3), pruner.params(p, 3));
    assert.notDeepEqual(pruner.params(p, 4), pruner.params(p, 3));
    assert.notDeepEqual(new Pruner(spec, params, "weight-random", 10, { rescale: true }).params(p, 3), pruner.params(p, 3));
  }
  // Without rescaling the survivors are kept as they are.
  const q = new Pruner(spec, params, "weight-random", 9, { rescale: false }).params(0.5, 0);
  for (let i = 0; i < L[0].inp * L[0].out; i++) assert.ok(q[i] === 0 || q[i] === params[i]);
});

test("the pruning modes: native and reference engines agree (float tolerance), errors over draws for weight-random", { skip: nativeSkip }, () => {
  const data = randomData(200, 2);
  const spec = { width: 30, depth: 2 };
  const params = initParams(spec, 6);
  const ref = referenceEngine.createNetwork(spec, params, DEFAULT_OPTIMIZER, 3);
  const nat = (native as Engine).createNetwork(spec, params, DEFAULT_OPTIMIZER, 3);
  for (const mode of PRUNING) {
    for (const opts of [{ rescale: true }, { rescale: false, magnitudeRescale: true, magnitudeGlobal: true }]) {
      const o = { mode, masks: 3, batch: 64, ...opts };
      const a = ref.evaluateAll(data, [0.2, 0.6], o);
      const b = nat.evaluateAll(data, [0.2, 0.6], o);
      for (let i = 0; i < 2; i++) {
        const what = `${mode} ${JSON.stringify(opts)} p ${[0.2, 0.6][i]}`;
        assert.equal(a[i].maskLosses.length, mode === "weight-random" ? 3 : 1, what);
        assert.equal(b[i].maskLosses.length, a[i].maskLosses.length, what);
        a[i].maskLosses.forEach((v, k) => assert.ok(Math.abs(v - b[i].maskLosses[k]) < 1e-5 * v, `${what}: draw ${k} ${v} vs ${b[i].maskLosses[k]}`));
        assert.ok(Math.abs(a[i].lossStderr - b[i].lossStderr) < 1e-3 * a[i].lossStderr + 1e-9, what);
      }
    }
  }
  ref.dispose();
  nat.dispose();
});

test("on a trained network, magnitude pruning at p_eval 0.5 loses less than random pruning, for neurons and for weights", () => {
  const mnist = loadMnist();
  const test = selectRows(mnist.test, Int32Array.from({ length: 2000 }, (_, i) => i));
  const engine = native ?? referenceEngine;
  const job = { width: 64, depth: 2, pTrain: 0, n: 2000, seed: 1, policy: "steps" as const, epochs: 1, steps: native ? 400 : 150, patience: 1, valEvery: 10, maxSteps: 1, validation: 0, dataDraw: "per-seed" as const, subsetSeed: 0, batch: 64, lr: 1e-3, optimizer: "adam" as const, pEvals: [0.5], evalMode: "mask" as const, masks: 4, rescale: true };
  const { net } = trainJob(job, mnist, engine);
  const loss = (mode: EvalMode): number => net.evaluate(test, { pEval: 0.5, mode, masks: 4, rescale: true }).loss;
  const base = net.evaluate(test, { pEval: 0, mode: "sample", masks: 1, rescale: true }).loss;
  const [nm, mask, wm, wr] = [loss("neuron-magnitude"), loss("mask"), loss("weight-magnitude"), loss("weight-random")];
  assert.ok(base < 0.6, `the network learned (test loss ${base})`);
  assert.ok(nm < mask, `neurons: magnitude ${nm} vs random ${mask}`);
  assert.ok(wm < wr, `weights: magnitude ${wm} vs random ${wr}`);
  net.dispose();
});

test("config: evalMode takes one mode or a list (trained once, every mode evaluated); duplicates and unknown modes are refused", () => {
  const grid = { widths: [8], depths: [1], pTrain: [0], pEval: [0, 0.5], sizes: [100] };
  const one = parseConfig({ ...grid, evalMode: "weight-magnitude", magnitudeGlobal: true });
  assert.equal(one.evalMode, "weight-magnitude");
  assert.equal(planJobs(one)[0].job.magnitudeGlobal, true);
  const all = parseConfig({ ...grid, evalMode: [...EVAL_MODES] });
  assert.deepEqual(all.evalMode, EVAL_MODES);
  assert.equal(planJobs(all).length, 1, "one training for all modes");
  // A config without the new fields plans the same job keys as before them.
  assert.equal("magnitudeRescale" in planJobs(parseConfig(grid))[0].job, false);
  assert.throws(() => parseConfig({ ...grid, evalMode: ["mask", "mask"] }), (e: unknown) => e instanceof MentiaError && /evalMode: lists a mode twice/.test(e.message));
  assert.throws(() => parseConfig({ ...grid, evalMode: "prune" }), (e: unknown) => e instanceof MentiaError && /evalMode: must be one of 'sample'/.test(e.message));
  assert.throws(() => parseConfig({ ...grid, evalMode: [] }), (e: unknown) => e instanceof MentiaError && /evalMode/.test(e.message));
});

test("store: a schema-2 file is read as the current schema read-only (each row gets its job's mode, no trajectory) and migrated in place when opened for writing", () => {
  const dir = mkdtempSync(join(tmpdir(), "mentia-schema2-"));
  const path = join(dir, "results.sqlite");
  const config = parseConfig({ widths: [8], depths: [1], pTrain: [0, 0.5], pEval: [0, 0.4], sizes: [100], seeds: [0, 1], policy: "steps", steps: 5, evalMode: "mask" });
  const plan = planJobs(config);
  const s = SweepStore.open(path, { create: true });
  s.initialise(config, plan, { mentiaVersion: "test" });
  for (const p of plan) {
    const result: JobResult = {
      job: p.job, engine: "fake", trainSeconds: 0, evalSeconds: 0, steps: 5, finalTrainLoss: 1,
      training: { steps: 5, bestStep: 5, bestValLoss: null, validations: 0, stoppedBy: "budget" },
      evals: p.job.pEvals.map((pEval) => ({ evalMode: "mask" as const, pEval, loss: 1 + pEval + p.job.seed, lossStderr: 0.1, accuracy: 0.5, accuracyStderr: 0.01, maskLosses: [1, 2], maskAccuracies: [0.5, 0.5] })),
    };
    s.recordResult(p.key, result, { versions: { mentia: "test", node: process.version }, wallSeconds: 0 });
  }
  const expected = s.exportRows();
  s.close();
  // Turn it into what mentia wrote with schema 2: evals without eval_mode, keyed by (job, p_eval).
  const db = new Database(path);
  db.exec(`ALTER TABLE evals RENAME TO e3;
    CREATE TABLE evals (job_key TEXT NOT NULL REFERENCES jobs (key), p_eval REAL NOT NULL, loss REAL NOT NULL, loss_stderr REAL NOT NULL, accuracy REAL NOT NULL, accuracy_stderr REAL NOT NULL, mask_losses TEXT NOT NULL, mask_accuracies TEXT NOT NULL, PRIMARY KEY (job_key, p_eval));
    INSERT INTO evals SELECT job_key, p_eval, loss, loss_stderr, accuracy, accuracy_stderr, mask_losses, mask_accuracies FROM e3;
    DROP TABLE e3; ALTER TABLE jobs DROP COLUMN trajectory; UPDATE meta SET value = '2' WHERE key = 'schema_version';`);
  db.close();
  const schemaOf = (): string => {
    const d = new Database(path, { readonly: true });
    try {
      return (d.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value;
    } finally {
      d.close();
    }
  };
  // While a live run holds it (the parent process here), it is not migrated, only read.
  const lockDb = new Database(path);
  lockDb.prepare("INSERT INTO meta (key, value) VALUES ('lock', ?)").run(JSON.stringify({ host: hostname(), pid: process.ppid, since: "earlier" }));
  lockDb.close();
  const held = SweepStore.open(path);
  assert.deepEqual(held.exportRows(), expected);
  assert.throws(() => held.acquireLock(), /in use by another mentia run/);
  held.close();
  assert.equal(schemaOf(), "2", "not migrated under a live run");
  const unlock = new Database(path);
  unlock.prepare("DELETE FROM meta WHERE key = 'lock'").run();
  unlock.close();
  const ro = SweepStore.open(path, { readonly: true });
  assert.deepEqual(ro.exportRows(), expected);
  assert.deepEqual(new Set(ro.evalRecords().map((r) => r.evalMode)), new Set(["mask"]));
  ro.close();
  assert.equal(schemaOf(), "2", "reading does not change the file");
  const rw = SweepStore.open(path);
  assert.deepEqual(rw.exportRows(), expected);
  assert.equal(rw.counts().done, plan.length);
  rw.close();
  assert.equal(schemaOf(), "4");
  const again = SweepStore.open(path, { readonly: true });
  assert.deepEqual(again.exportRows(), expected);
  again.close();
});
