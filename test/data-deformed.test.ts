import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_DEFORMATION, Deformer, deformBankTs, displacementBank, gatherPixels, deformSamplesTs, gaussianWeights, nativeDeform, quantiseDeformation, type DeformationParams } from "../src/data/deform.js";
import { DeformedStream } from "../src/data/deformed.js";
import { loadMnist, permutationSeed, splitData } from "../src/data/mnist.js";
import { getEngine } from "../src/engine/select.js";
import type { TrainJob } from "../src/train/job.js";
import { initParams } from "../src/engine/init.js";
import { Rng } from "../src/engine/rng.js";
import { DEFAULT_OPTIMIZER } from "../src/engine/types.js";
import { jobStream, trainOnStream } from "../src/train/stream.js";
import { jobData, runJob, trainJob } from "../src/train/train.js";

const P = 784;
const data = loadMnist();
const baseBytes = (count: number): Uint8Array => Uint8Array.from({ length: count * P }, (_, i) => Math.round(data.train.x[i] * 255));
const md5 = (b: Uint8Array): string => createHash("md5").update(b).digest("hex");
const NONE: DeformationParams = { sigma: 4, alpha: 0, rotation: 0, scale: 0, shear: 0, translation: 0 };

test("the Gaussian weights are normalised, symmetric and have scipy's radius round(4σ)", () => {
  for (const sigma of [0.5, 2, 4, 6.3]) {
    const w = gaussianWeights(sigma);
    assert.equal(w.length, 2 * Math.min(Math.floor(4 * sigma + 0.5), 27) + 1);
    assert.equal(w.reduce((a, b) => a + b, 0), 65536);
    const R = (w.length - 1) / 2;
    for (let k = 1; k <= R; k++) {
      assert.ok(Math.abs(w[R - k] - w[R + k]) <= 1, `σ ${sigma}: w[±${k}] ${w[R - k]} vs ${w[R + k]}`);
      assert.ok(w[R + k] <= w[R + k - 1]);
    }
    // the quantised weights follow exp(-k²/2σ²) relative to the centre
    const k = Math.min(R, Math.round(sigma));
    assert.ok(Math.abs(w[R + k] / w[R] - Math.exp(-(k * k) / (2 * sigma * sigma))) < 2e-3);
  }
});

test("the native generator and its TypeScript twin produce the same bytes (integer arithmetic: the same on every ISA)", (t) => {
  const native = nativeDeform();
  if (!native) return t.skip("native addon not built");
  const base = baseBytes(300);
  for (const [seed, params] of [[0, DEFAULT_DEFORMATION], [123456789, { sigma: 2.5, alpha: 80, rotation: 45, scale: 0.5, shear: 1, translation: 8 }], [4294967295, NONE]] as Array<[number, DeformationParams]>) {
    const w = gaussianWeights(params.sigma);
    const bankN = new Int32Array(16 * P), bankT = new Int32Array(16 * P);
    native.deformBank(seed, w, 0, bankN);
    deformBankTs(seed, w, 0, bankT);
    assert.deepEqual(bankN, bankT, `bank, seed ${seed}`);
    const ids = Int32Array.from([50000, 50001, 77777, 1234567, 99999999, 0, 299]);
    const q = quantiseDeformation(params);
    const outN = new Uint8Array(ids.length * P), outT = new Uint8Array(ids.length * P);
    native.deformSamples(seed, ids, base, displacementBank(bankN, q), q, outN);
    deformSamplesTs(seed, ids, base, displacementBank(bankT, q), q, outT);
    assert.deepEqual(outN, outT, `samples, seed ${seed}`);
  }
});

test("the stream is pinned: these bytes are the same on every machine and every run (golden md5)", () => {
  // Recorded on x86-64 (an AVX-512 machine) with the native generator; the TypeScript twin (plain JS numbers, exact by
  // the language spec) gives the same bytes on any machine, so a change here is a change of the stream, not of the ISA.
  const d = new Deformer(7, DEFAULT_DEFORMATION, { bankSize: 64 });
  const out = new Uint8Array(4 * P);
  d.deform(Int32Array.from([50000, 50001, 123456, 9999999]), baseBytes(1000), out);
  assert.equal(md5(new Uint8Array(d.bank.buffer)), "63068fc796893f565d97f70f846c0b3e");
  assert.equal(md5(out), "a905576a6772de89bf4ad7b5ab69c848");
  const ts = new Deformer(7, DEFAULT_DEFORMATION, { bankSize: 64, native: false });
  const outTs = new Uint8Array(4 * P);
  ts.deform(Int32Array.from([50000, 50001, 123456, 9999999]), baseBytes(1000), outTs);
  assert.equal(md5(outTs), md5(out));
});

test("a sample depends only on (seed, id): not on its batch, its order, or the parameters' other samples; seeds differ", () => {
  const base = baseBytes(1000);
  const d = new Deformer(3, DEFAULT_DEFORMATION, { bankSize: 256 });
  const a = new Uint8Array(3 * P), b = new Uint8Array(2 * P);
  d.deform(Int32Array.from([60000, 70001, 80002]), base, a);
  d.deform(Int32Array.from([80002, 60000]), base, b);
  assert.deepEqual(a.subarray(2 * P), b.subarray(0, P));
  assert.deepEqual(a.subarray(0, P), b.subarray(P));
  const again = new Deformer(3, DEFAULT_DEFORMATION, { bankSize: 256 });
  const c = new Uint8Array(3 * P);
  again.deform(Int32Array.from([60000, 70001, 80002]), base, c);
  assert.deepEqual(c, a);
  const other = new Deformer(4, DEFAULT_DEFORMATION, { bankSize: 256 });
  other.deform(Int32Array.from([60000, 70001, 80002]), base, c);
  assert.notDeepEqual(c, a);
  // ids that share a base image (i ≡ j mod base) are different deformations of it
  const e = new Uint8Array(2 * P);
  d.deform(Int32Array.from([1000, 2000]), base, e);
  assert.notDeepEqual(e.subarray(0, P), e.subarray(P));
});

test("with no deformation (α 0, no affine) a sample is its base image exactly", () => {
  const base = baseBytes(500);
  const d = new Deformer(9, NONE, { bankSize: 8 });
  const out = new Uint8Array(3 * P);
  d.deform(Int32Array.from([500, 1234, 2999]), base, out);
  assert.deepEqual(out.subarray(0, P), base.subarray(0, P));
  assert.deepEqual(out.subarray(P, 2 * P), base.subarray(234 * P, 235 * P));
  assert.deepEqual(out.subarray(2 * P), base.subarray(499 * P, 500 * P));
});

test("deformation statistics: field amplitude as Simard's smoothing predicts, displacement grows with α, ink is roughly conserved", () => {
  // Interior std of uniform[-1,1] noise smoothed by a normalised separable Gaussian: sqrt(1/3)·Σw² (1-D Σw², squared over 2-D, square-rooted).
  const d = new Deformer(11, DEFAULT_DEFORMATION, { bankSize: 512 });
  const w = Array.from(gaussianWeights(4), (v) => v / 65536);
  const predicted = Math.sqrt(1 / 3) * w.reduce((a, b) => a + b * b, 0);
  let s2 = 0, count = 0;
  for (let b = 0; b < 512; b++)
    for (const [r, c] of [[13, 13], [14, 14], [13, 14]]) {
      const v = d.bank[b * P + r * 28 + c] / 2 ** 23;
      s2 += v * v;
      count++;
    }
  const sd = Math.sqrt(s2 / count);
  assert.ok(Math.abs(sd / predicted - 1) < 0.12, `field sd ${sd} vs predicted ${predicted}`);

  // Mean absolute pixel change against the base image grows with α; total ink stays within 10 %.
  const base = baseBytes(2000);
  const ids = Int32Array.from({ length: 400 }, (_, i) => 2000 + i * 5);
  const change = (alpha: number): { diff: number; ink: number } => {
    const out = new Uint8Array(ids.length * P);
    new Deformer(11, { ...NONE, alpha }, { bankSize: 512 }).deform(ids, base, out);
    let diff = 0, ink = 0, inkBase = 0;
    for (let j = 0; j < ids.length; j++) {
      const src = (ids[j] % 2000) * P;
      for (let k = 0; k < P; k++) {
        diff += Math.abs(out[j * P + k] - base[src + k]);
        ink += out[j * P + k];
        inkBase += base[src + k];
      }
    }
    return { diff: diff / (ids.length * P), ink: ink / inkBase };
  };
  const weak = change(8), mid = change(34), strong = change(100);
  assert.ok(weak.diff < mid.diff && mid.diff < strong.diff, `${weak.diff} ${mid.diff} ${strong.diff}`);
  assert.ok(weak.diff > 1, `α 8 changes pixels by ${weak.diff} on average`);
  for (const c of [weak, mid]) assert.ok(Math.abs(c.ink - 1) < 0.1, `ink ratio ${c.ink}`);
});

const job: TrainJob = {
  width: 32, depth: 1, pTrain: 0.2, n: 3000, seed: 5, policy: "epochs", epochs: 2, steps: 0, patience: 5, valEvery: "half-epoch", maxSteps: 30000,
  validation: 10000, dataDraw: "per-seed", subsetSeed: 0, batch: 64, lr: 1e-3, optimizer: "adam", pEvals: [0, 0.5], evalMode: "sample", masks: 2, rescale: true,
};

test("N ≤ 50,000 on mnist-deformed gives exactly the numbers of mnist", () => {
  const engine = getEngine();
  const a = runJob(job, data, engine);
  const b = runJob({ ...job, dataset: "mnist-deformed", deformation: DEFAULT_DEFORMATION }, data, engine);
  assert.deepEqual(b.evals, a.evals);
  assert.equal(b.finalTrainLoss, a.finalTrainLoss);
  assert.equal(b.training.generated, undefined);
});

test("training through the stream (chunked, sample ids) is the plain training when the ids are base images", () => {
  const engine = getEngine();
  const deformed: TrainJob = { ...job, dataset: "mnist-deformed", deformation: DEFAULT_DEFORMATION };
  const stream = jobStream(deformed, data, jobData(deformed).train, { force: true })!;
  const plain = trainJob(job, data, engine);
  const expected = plain.net.getParams();
  plain.net.dispose();
  // train.ts's loop for policy "epochs", with sample ids through the stream instead of rows of data.train
  const spec = { width: job.width, depth: job.depth };
  const net = engine.createNetwork(spec, initParams(spec, job.seed), { ...DEFAULT_OPTIMIZER, optimizer: job.optimizer, lr: job.lr }, job.seed);
  const rng = new Rng(job.seed, 1);
  let step = 0;
  for (let e = 0; e < job.epochs; e++) {
    const order = Int32Array.from({ length: job.n }, (_, i) => i);
    rng.shuffle(order);
    step += trainOnStream(net, stream, order, { batch: job.batch, pTrain: job.pTrain, firstStep: step, chunkSteps: 5 }).steps;
  }
  assert.deepEqual(net.getParams(), expected);
  net.dispose();
});

test("past the base, samples i ≥ B are deformations of base sample i mod B, cached; labels follow the base", () => {
  const rows = splitData(permutationSeed("per-seed", 0, 5), 50000, 10000).train;
  const stream = new DeformedStream(data.train, rows, 120000, 5, DEFAULT_DEFORMATION);
  const out = { x: new Float32Array(3 * P), y: new Uint8Array(3) };
  stream.fill(Int32Array.from([7, 50007, 100007]), out);
  assert.deepEqual(out.x.subarray(0, P), data.train.x.subarray(rows[7] * P, (rows[7] + 1) * P));
  assert.deepEqual([...out.y], [data.train.y[rows[7]], data.train.y[rows[7]], data.train.y[rows[7]]]);
  assert.notDeepEqual(out.x.subarray(P, 2 * P), out.x.subarray(0, P));
  assert.notDeepEqual(out.x.subarray(2 * P), out.x.subarray(P, 2 * P));
  assert.equal(stream.generated, 2);
  stream.fill(Int32Array.from([100007]), out);
  assert.equal(stream.generated, 2, "a cached sample is not generated again");
  assert.equal(stream.cacheBytes, 70000 * P);
  for (let k = 0; k < P; k++) assert.equal(Math.round(out.x[k] * 255) / 255, out.x[k] === 0 ? 0 : Math.round(out.x[k] * 255) / 255);
});

test("a job past the base trains on the stream, records its generation cost, and is deterministic", () => {
  const engine = getEngine();
  const big: TrainJob = { ...job, n: 60000, policy: "steps", steps: 40, dataset: "mnist-deformed", deformation: DEFAULT_DEFORMATION };
  const a = runJob(big, data, engine);
  const b = runJob(big, data, engine);
  assert.deepEqual(a.evals, b.evals);
  assert.ok(a.training.generated && a.training.generated.samples > 0 && a.training.generated.samples <= 40 * 64, JSON.stringify(a.training));
  assert.ok(a.training.generated.seconds > 0 && a.training.generated.seconds < a.trainSeconds);
  const mnistLike = runJob({ ...big, n: 50000 }, data, engine);
  assert.notDeepEqual(a.evals, mnistLike.evals);
});

test("bytes become the loader's float pixels (v/255 as float32) in the native gather and its twin; a stream fills the same either way", () => {
  const bytes = Uint8Array.from({ length: 2 * P }, (_, i) => i % 256);
  const a = new Float32Array(3 * P), b = new Float32Array(3 * P);
  gatherPixels(bytes, Int32Array.from([1, 0]), a, Int32Array.from([2, 0]));
  gatherPixels(bytes, Int32Array.from([1, 0]), b, Int32Array.from([2, 0]), false);
  assert.deepEqual(a, b);
  for (let k = 0; k < P; k++) assert.equal(a[k], Math.fround(bytes[k] / 255));
  const rows = splitData(permutationSeed("per-seed", 0, 2), 50000, 10000).train;
  const ids = Int32Array.from([3, 50003, 99999, 123456, 3]);
  const fill = (native: boolean): Float32Array => {
    const s = new DeformedStream(data.train, rows, 200000, 2, DEFAULT_DEFORMATION, { native, bankSize: 32 });
    const out = { x: new Float32Array(ids.length * P), y: new Uint8Array(ids.length) };
    s.fill(ids, out);
    return out.x;
  };
  assert.deepEqual(fill(true), fill(false));
});

test("the generator's C++ gives the golden bytes whatever the compiler flags: -O0, and -O3 -march=native -ffast-math (this CPU's widest vectors)", (t) => {
  const gxx = spawnSync("g++", ["--version"], { encoding: "utf8" });
  if (gxx.status !== 0) return t.skip("g++ is not installed");
  const dir = mkdtempSync(join(tmpdir(), "mentia-deform-"));
  try {
    const src = join(dir, "harness.cc");
    // Bank of seed 7 (64 fields, default parameters), then the four samples of the golden test; bytes to stdout.
    writeFileSync(
      src,
      `#include "deform_core.h"
#include <cstdio>
using namespace mentia_deform;
int main() {
  static uint8_t base[1000 * P];
  if (fread(base, 1, sizeof base, stdin) != sizeof base) return 1;
  const int32_t w[] = {${Array.from(gaussianWeights(4)).join(",")}};
  static int32_t bank[64 * P], disp[64 * P];
  for (uint32_t b = 0; b < 64; b++) makeField(7, b, w, ${(gaussianWeights(4).length - 1) / 2}, bank + b * P);
  const Params p{${Array.from(quantiseDeformation(DEFAULT_DEFORMATION)).join(", ")}};
  for (int i = 0; i < 64 * P; i++) disp[i] = static_cast<int32_t>(fl(static_cast<int64_t>(bank[i]) * p.alphaQ8, 15));
  fwrite(bank, 1, sizeof bank, stdout);
  const uint32_t ids[] = {50000, 50001, 123456, 9999999};
  uint8_t out[P];
  for (uint32_t id : ids) {
    deformOne(7, id, base + (id % 1000) * P, disp, 64, p, out);
    fwrite(out, 1, P, stdout);
  }
}
`,
    );
    const include = fileURLToPath(new URL("../../src/engine/native/", import.meta.url));
    for (const flags of [["-O0"], ["-O3", "-march=native", "-ffast-math", "-ffp-contract=fast"]]) {
      const exe = join(dir, `h${flags.length}`);
      const c = spawnSync("g++", ["-std=gnu++17", ...flags, "-I", include, src, "-o", exe], { encoding: "utf8" });
      assert.equal(c.status, 0, c.stderr);
      const r = spawnSync(exe, [], { input: Buffer.from(baseBytes(1000)), maxBuffer: 1 << 26 });
      assert.equal(r.status, 0, String(r.stderr));
      const bytes = new Uint8Array(r.stdout);
      assert.equal(md5(bytes.subarray(0, 64 * P * 4)), "63068fc796893f565d97f70f846c0b3e", `bank with ${flags.join(" ")}`);
      assert.equal(md5(bytes.subarray(64 * P * 4)), "a905576a6772de89bf4ad7b5ab69c848", `samples with ${flags.join(" ")}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
