/**
 * mnist-deformed's cost against training: CPU microseconds per generated sample (native
 * generator, src/engine/native/deform.cc), per sample visit of the stream's fill (bytes → float,
 * on every visit), and per trained sample (width 128, depth 2, batch 64, p_train 0 and 0.3);
 * then the generation share of each job of configs/deformed.yaml past 50,000, from the
 * expected steps of the plan (each deformed sample is generated once and cached). Best of 7,
 * in CPU time of this process (robust on a shared machine). Then, for every config named after
 * the first, its work in CPU time on one free core and the wall time on 2 free cores (the
 * dry run's job model — expected steps, validations, one evaluation — with these CPU-time
 * measurements instead of its wall-clock probes, which a loaded machine inflates).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/deformed-stream.js [configs/deformed.yaml [configs/fashion.yaml ...]]
 */
import { DEFAULT_DEFORMATION, Deformer } from "../src/data/deform.js";
import { DeformedStream } from "../src/data/deformed.js";
import { loadMnist, permutationSeed, splitData } from "../src/data/mnist.js";
import { initParams } from "../src/engine/init.js";
import { loadNativeEngine } from "../src/engine/native/index.js";
import { DEFAULT_OPTIMIZER } from "../src/engine/types.js";
import { loadConfig } from "../src/sweep/config.js";
import { estimateSweep, type ProbeResult } from "../src/sweep/estimate.js";
import { planJobs } from "../src/sweep/plan.js";

const native = loadNativeEngine();
if (!native) throw new Error("the native engine is not built");
const data = loadMnist();
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const best = (f: () => void): number => {
  f();
  let b = Infinity;
  for (let rep = 0; rep < 7; rep++) {
    const t = cpuMs();
    f();
    b = Math.min(b, cpuMs() - t);
  }
  return b;
};
const M = 8192;
const rows = splitData(permutationSeed("per-seed", 0, 0), 50000, 10000).train;
const stream = new DeformedStream(data.train, rows, 1_050_000, 0, DEFAULT_DEFORMATION);
const deformer = new Deformer(0, DEFAULT_DEFORMATION);
const ids = Int32Array.from({ length: M }, (_, i) => 50000 + 97 * i);
const out = new Uint8Array(M * 784);
const genWarmUs = (best(() => deformer.deform(ids, stream.baseBytes, out)) * 1000) / M;
// As a job generates: each sample once, into the never-touched pages of a fresh cache (the
// kernel's first-touch page faults included), 36 chunks of M fresh ids.
const fresh = new Uint8Array(36 * M * 784);
const t = cpuMs();
for (let c = 0; c < 36; c++) {
  const chunk = Int32Array.from({ length: M }, (_, k) => 50000 + c * M + k);
  deformer.deform(chunk, stream.baseBytes, fresh, Int32Array.from(chunk, (id) => id - 50000));
}
const genUs = ((cpuMs() - t) * 1000) / (36 * M);
const buf = { x: new Float32Array(M * 784), y: new Uint8Array(M) };
stream.fill(ids, buf);
const fillUs = (best(() => stream.fill(ids, buf)) * 1000) / M;
const spec = { width: 128, depth: 2 };
const order = Int32Array.from({ length: M }, (_, i) => rows[i]);
const trainUs: Record<string, number> = {};
for (const pTrain of [0, 0.3]) {
  const net = native.createNetwork(spec, initParams(spec, 1), DEFAULT_OPTIMIZER, 1);
  let step = 0;
  trainUs[pTrain] = (best(() => (step += net.trainEpoch(data.train, { order, batch: 64, pTrain, firstStep: step }).steps)) * 1000) / M;
  net.dispose();
}
console.log(`generation ${genUs.toFixed(2)} µs per deformed sample into a fresh cache (once per sample; ${genWarmUs.toFixed(2)} µs into memory already touched); fill ${fillUs.toFixed(2)} µs per sample visit`);
for (const p of Object.keys(trainUs)) console.log(`training, p_train ${p}: ${trainUs[p].toFixed(2)} µs per sample visit (ratio generation / training ${(genUs / trainUs[p]).toFixed(2)})`);
const config = loadConfig(process.argv[2] ?? "configs/deformed.yaml");
console.log(`\nexpected generation share of the training time, jobs of ${process.argv[2] ?? "configs/deformed.yaml"} (expected steps from the plan's model):`);
console.log("p_train        N    steps   generation s   training s   share");
const seen = new Set<string>();
for (const p of planJobs(config)) {
  const j = p.job;
  if (j.n <= 50000 || seen.has(`${j.pTrain} ${j.n}`)) continue;
  seen.add(`${j.pTrain} ${j.n}`);
  // training time = generation + every step's samples (filled from the stream, then trained)
  const gen = ((j.n - 50000) * genUs) / 1e6;
  const train = gen + (p.steps * j.batch * ((trainUs[j.pTrain] ?? trainUs[0]) + fillUs)) / 1e6;
  console.log(`${String(j.pTrain).padStart(7)} ${String(j.n).padStart(8)} ${String(p.steps).padStart(8)} ${gen.toFixed(1).padStart(14)} ${train.toFixed(1).padStart(12)} ${((100 * gen) / train).toFixed(1).padStart(6)} %`);
}

const configs = process.argv.slice(3);
for (const path of configs) {
  const c = loadConfig(path);
  const net = native.createNetwork(spec, initParams(spec, 1), DEFAULT_OPTIMIZER, 1);
  const evalMs = best(() => net.evaluateAll(data.test, c.pEval, { mode: "sample", masks: c.masks, rescale: true, batch: 1000 }));
  net.dispose();
  const probe: ProbeResult = { width: 128, depth: 2, batch: 64, params: 118282, stepSeconds: [64 * trainUs[0.3] * 1e-6], evalSeconds: [evalMs / 1000], validationSeconds: [0], overheadSeconds: 0.01 };
  const e = estimateSweep(planJobs(c), [probe], 2);
  console.log(`${path}: ${planJobs(c).length} jobs, ${e.serialSeconds.toFixed(0)} s of work on one free core; ${e.wallSeconds.toFixed(0)} s on 2 free cores (evaluation of a job ${(evalMs / 1000).toFixed(2)} s CPU)`);
}
