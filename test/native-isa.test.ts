import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { initParams } from "../src/engine/init.js";
import { isaNumericsClass, nativeEngineFor, nativeIsaUnavailable, nativeLoadError, loadAddon, type NativeIsaName } from "../src/engine/native/index.js";
import { Rng } from "../src/engine/rng.js";
import { DEFAULT_OPTIMIZER, INPUT_SIZE, type Dataset, type EvalOptions, type OptimizerConfig } from "../src/engine/types.js";
import { randomData } from "./random-data.js";

// The native engine's instruction-set variants (generic, avx2 = AVX2+FMA, avx512). avx2 and
// avx512 must give the same numbers bit for bit (same reduction order, FMA in both), so that
// a sweep sharded over mixed nodes never mixes two sets of numbers. Variants this CPU cannot
// run skip with the reason.
const addonMissing = loadAddon() ? false : `native addon not available: ${nativeLoadError()}`;
const unavailable = (isa: NativeIsaName): string | false => addonMissing || nativeIsaUnavailable(isa) || false;


interface Run {
  trainLosses: number[];
  evalLosses: number[];
  params: Float32Array;
}

/** Two epochs of training and evaluations in both modes: every kernel and epilogue runs. */
function job(isa: NativeIsaName, width: number, depth: number, batch: number, opt: OptimizerConfig): Run {
  const train = randomData(300, 1), testSet = randomData(211, 2);
  const spec = { width, depth };
  const net = nativeEngineFor(isa).createNetwork(spec, initParams(spec, 3), opt, 7);
  const order = Int32Array.from({ length: train.n }, (_, i) => (i * 7) % train.n);
  const trainLosses = [0, 1].map((e) => net.trainEpoch(train, { order, batch, pTrain: 0.3, firstStep: e * 100 }).meanLoss);
  const evals: EvalOptions[] = [
    { pEval: 0.4, mode: "sample", masks: 3, rescale: true, batch: 100 },
    { pEval: 0.6, mode: "mask", masks: 2, rescale: false },
  ];
  const evalLosses = evals.flatMap((o) => net.evaluate(testSet, o).maskLosses);
  const params = net.getParams();
  net.dispose();
  return { trainLosses, evalLosses, params };
}

// Widths and batches that exercise every edge of the tiles (rows % 6, 16-column panels of 32).
const CASES: Array<[number, number, number, OptimizerConfig]> = [
  [40, 2, 50, DEFAULT_OPTIMIZER],
  [70, 1, 37, DEFAULT_OPTIMIZER],
  [100, 3, 64, { ...DEFAULT_OPTIMIZER, optimizer: "sgd", lr: 0.05 }],
  [300, 1, 20, DEFAULT_OPTIMIZER],
];

function countDiffs(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
}

test("avx2 and avx512 train and evaluate the same job to bit-identical numbers", { skip: unavailable("avx2") || unavailable("avx512") }, () => {
  for (const [w, d, b, opt] of CASES) {
    const what = `width ${w}, depth ${d}, batch ${b}, ${opt.optimizer}`;
    const x = job("avx2", w, d, b, opt), y = job("avx512", w, d, b, opt);
    assert.deepEqual(y.trainLosses, x.trainLosses, `${what}: training losses`);
    assert.deepEqual(y.evalLosses, x.evalLosses, `${what}: evaluation losses`);
    assert.equal(countDiffs(x.params, y.params), 0, `${what}: parameters that differ`);
  }
  assert.equal(isaNumericsClass("avx512"), isaNumericsClass("avx2+fma"));
});

test("the portable variant (no FMA) differs from avx2 only in rounding", { skip: unavailable("avx2") || unavailable("generic") }, () => {
  // The documented exception: without FMA the products are rounded before they are added.
  const [w, d, b, opt] = CASES[0];
  const x = job("avx2", w, d, b, opt), g = job("generic", w, d, b, opt);
  for (let k = 0; k < x.trainLosses.length; k++) assert.ok(Math.abs(x.trainLosses[k] - g.trainLosses[k]) < 1e-5 * x.trainLosses[k], `training loss ${k}`);
  for (let k = 0; k < x.evalLosses.length; k++) assert.ok(Math.abs(x.evalLosses[k] - g.evalLosses[k]) < 1e-4 * x.evalLosses[k], `evaluation loss ${k}`);
  assert.ok(countDiffs(x.params, g.params) > 0, "generic really is another variant (no FMA)");
  assert.notEqual(isaNumericsClass("generic"), isaNumericsClass("avx2+fma"));
});

const cli = fileURLToPath(new URL("../../bin/mentia.js", import.meta.url));
const version = (isa: string) => spawnSync(process.execPath, [cli, "--version"], { encoding: "utf8", env: { ...process.env, MENTIA_ISA: isa, MENTIA_ENGINE: "" } });
const NAMES: Record<NativeIsaName, string> = { generic: "generic", avx2: "avx2+fma", avx512: "avx512" };

for (const isa of ["generic", "avx2", "avx512"] as const) {
  test(`MENTIA_ISA=${isa} forces that variant and --version names it`, { skip: unavailable(isa) }, () => {
    const r = version(isa);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`engine: native, ${NAMES[isa].replace("+", "\\+")}\\)`));
  });
}

test("MENTIA_ISA naming a variant this CPU lacks, or no variant, is a one-line error (exit 2)", { skip: addonMissing }, () => {
  const bad = version("avx1024");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr.trim(), /^mentia: .*MENTIA_ISA=avx1024: 'avx1024' is not an instruction set of this build \(.*generic\)$/);
  const lacking = (["avx512", "avx2"] as const).find((isa) => nativeIsaUnavailable(isa) !== "");
  if (lacking === undefined) return; // this CPU runs every variant: nothing more to check here
  const r = version(lacking);
  assert.equal(r.status, 2);
  assert.match(r.stderr.trim(), new RegExp(`^mentia: .*MENTIA_ISA=${lacking}: .*(lacks|not an instruction set)`));
});
