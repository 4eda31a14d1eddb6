/**
 * Sparse vs dense layer 0 (src/engine/layer0.ts), measured interleaved in one process so that
 * the load other processes put on a shared machine hits both paths alike: windows of each path
 * alternate, each timed in CPU milliseconds of this process; printed: the best window of each
 * path and their ratio, and the median of the per-pair ratios. Real MNIST data.
 *
 *   training    Adam, dropout 0.3, mini-batches of the real training images (random order)
 *   validation  one pass over 10,000 training images by row index (p_eval 0, batch 1000),
 *               what early stopping runs at every validation point; and the dense path on a
 *               contiguous copy of them (what a job did before issue 22) against sparse in place
 *   evaluation  the default study's evaluation of one job: 11 p_eval × 2 draws of a fresh mask
 *               per sample on the 10,000 test images, one pass (evaluateAll)
 *   crossover   training at 128/2/64 on images made denser: each zero pixel set to a random
 *               value in (0, 1] with the probability that gives the target fraction of nonzeros
 *
 *   npx tsc -p tsconfig.json && node dist/bench/layer0.js [--quick]
 */
import { loadMnist, nestedSubset, selectRows } from "../src/data/mnist.js";
import { initParams } from "../src/engine/init.js";
import { inputDensity, withLayer0Path } from "../src/engine/layer0.js";
import { loadNativeEngine, nativeIsa } from "../src/engine/native/index.js";
import { Rng } from "../src/engine/rng.js";
import { DEFAULT_OPTIMIZER, INPUT_SIZE, type Dataset, type Network } from "../src/engine/types.js";
import { quantile } from "../src/analysis/stats.js";

const native = loadNativeEngine();
if (!native) throw new Error("the native engine is not built");
const quick = process.argv.includes("--quick");
const PAIRS = quick ? 5 : 15;
const data = loadMnist();

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Ratio {
  denseMs: number;
  sparseMs: number;
  /** best dense window / best sparse window */
  best: number;
  /** median over pairs of dense / sparse */
  median: number;
}

/** Alternates dense and sparse windows (`work(net)` each), PAIRS pairs after one warm-up pair. */
function interleaved(make: () => Network, work: (net: Network, path: "dense" | "sparse") => void): Ratio {
  const nets = { dense: make(), sparse: make() };
  const best = { dense: Infinity, sparse: Infinity };
  const ratios: number[] = [];
  for (let i = -1; i < PAIRS; i++) {
    const ms = { dense: 0, sparse: 0 };
    for (const path of i % 2 ? (["dense", "sparse"] as const) : (["sparse", "dense"] as const)) {
      withLayer0Path(path, () => {
        const t = cpuMs();
        work(nets[path], path);
        ms[path] = cpuMs() - t;
      });
    }
    if (i < 0) continue;
    best.dense = Math.min(best.dense, ms.dense);
    best.sparse = Math.min(best.sparse, ms.sparse);
    ratios.push(ms.dense / ms.sparse);
  }
  nets.dense.dispose();
  nets.sparse.dispose();
  return { denseMs: best.dense, sparseMs: best.sparse, best: best.dense / best.sparse, median: quantile(ratios, 0.5) };
}

function trainWork(width: number, depth: number, batch: number, train: Dataset, steps: number): Ratio {
  const spec = { width, depth };
  const order = nestedSubset(Math.min(train.n, 16384), 7, train.n);
  let step = 0;
  return interleaved(
    () => native!.createNetwork(spec, initParams(spec, 1), DEFAULT_OPTIMIZER, 1),
    (net) => {
      const start = (step * batch) % (order.length - steps * batch);
      net.trainEpoch(train, { order: order.subarray(start), batch, pTrain: 0.3, firstStep: step, maxSteps: steps });
      step += steps;
    },
  );
}

const fmt = (what: string, r: Ratio, per: number, unit: string): string =>
  `${what.padEnd(34)} dense ${(per / r.denseMs * 1000).toFixed(0).padStart(8)} ${unit}  sparse ${(per / r.sparseMs * 1000).toFixed(0).padStart(8)} ${unit}  sparse/dense ${r.best.toFixed(2)}× (median of pairs ${r.median.toFixed(2)}×)`;

console.log(`native ${nativeIsa()}, MNIST training images ${(100 * inputDensity(data.train)).toFixed(1)} % nonzero; ${PAIRS} interleaved pairs, CPU time of this process`);
for (const [w, d, b] of [[128, 2, 64], [1024, 3, 256]] as const) {
  const steps = Math.max(4, Math.round(4e8 / (6 * w * w * b * d + 6 * 784 * w * b)));
  const r = trainWork(w, d, b, data.train, steps);
  console.log(fmt(`training ${w}/${d}/${b} (${steps} steps/window)`, r, steps * b, "samples/s"));
}
for (const width of quick ? [128] : [128, 256, 512, 1024]) {
  const spec = { width, depth: 2 };
  const rows = nestedSubset(10000, 3);
  const r = interleaved(
    () => native.createNetwork(spec, initParams(spec, 2), DEFAULT_OPTIMIZER, 1),
    (net) => void net.evaluate(data.train, { pEval: 0, mode: "sample", masks: 1, rescale: true, batch: 1000, rows }),
  );
  console.log(fmt(`validation pass ${width}/2, 10,000 rows`, r, 10000, "images/s"));
}
{
  // Before issue 22 a job copied its validation images once (contiguous) and ran the dense path.
  const spec = { width: 128, depth: 2 };
  const rows = nestedSubset(10000, 3);
  const copy = selectRows(data.train, rows);
  const o = { pEval: 0, mode: "sample" as const, masks: 1, rescale: true, batch: 1000 };
  const r = interleaved(
    () => native.createNetwork(spec, initParams(spec, 2), DEFAULT_OPTIMIZER, 1),
    (net, path) => void (path === "dense" ? net.evaluate(copy, o) : net.evaluate(data.train, { ...o, rows })),
  );
  console.log(fmt("validation 128/2: copy+dense vs in place+sparse", r, 10000, "images/s"));
}
{
  const spec = { width: 128, depth: 2 };
  const pEvals = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
  const e = interleaved(
    () => native.createNetwork(spec, initParams(spec, 2), DEFAULT_OPTIMIZER, 1),
    (net) => void net.evaluateAll(data.test, pEvals, { mode: "sample", masks: 2, rescale: true, batch: 1000 }),
  );
  console.log(fmt("evaluation 128/2, 11 p_eval × 2", e, 10000, "images/s"));
}

/** The first n training images with zero pixels filled in at random until `density` of all are nonzero. */
function denser(n: number, density: number): Dataset {
  const x = data.train.x.slice(0, n * INPUT_SIZE);
  let zeros = 0;
  for (const v of x) if (v === 0) zeros++;
  const p = Math.max(0, (density * x.length - (x.length - zeros)) / zeros);
  const rng = new Rng(5, 0);
  for (let i = 0; i < x.length; i++) if (x[i] === 0 && rng.nextFloat() < p) x[i] = 1 - rng.nextFloat();
  return { x, y: data.train.y.slice(0, n), n };
}

for (const density of quick ? [0.25, 0.5] : [0.22, 0.25, 0.28, 0.32, 0.4, 0.5]) {
  const train = denser(8192, density);
  const r = trainWork(128, 2, 64, train, 30);
  console.log(fmt(`crossover: training 128/2/64 at ${(100 * inputDensity(train)).toFixed(0)} %`, r, 30 * 64, "samples/s"));
}
