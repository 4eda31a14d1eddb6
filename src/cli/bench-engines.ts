import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { quantile } from "../analysis/stats.js";
import { loadMnist, nestedSubset } from "../data/mnist.js";
import { initParams } from "../engine/init.js";
import { inputDensity, withLayer0Path } from "../engine/layer0.js";
import { loadNativeEngine, nativeFmaPeak, nativeGemmGflops, nativeIsa, nativeIsas, nativeLoadError } from "../engine/native/index.js";
import { referenceEngine } from "../engine/reference.js";
import { Rng } from "../engine/rng.js";
import { getEngine } from "../engine/select.js";
import { DEFAULT_OPTIMIZER, INPUT_SIZE, paramCount, type Dataset, type Engine } from "../engine/types.js";
import { pytorchUnavailable, tunedPytorchEnv } from "./bench-study.js";

/**
 * The method of `mentia bench` (src/cli/bench.ts parses, calls measureEngines and prints): training and evaluation throughput of the native and reference engines and
 * (when /usr/bin/python3 can import torch) PyTorch, one core each, on the configurations of
 * the engine issue. Protocol (identical for every engine, see bench/README.md):
 *   training   Adam (lr 1e-3), dropout 0.3, mini-batches gathered by index from 8192 MNIST
 *              training images; timed in windows of ~10 ms after warm-up (steady state);
 *   validation early stopping's pass: no removal, batch 1000, 1000 training images read in
 *              place by row index (scattered, as a job's validation split); native only;
 *   evaluation dropout active (p_eval 0.3, one fresh mask per sample), batch 1000, loss and
 *              argmax of every sample; one window = one pass over 1000 MNIST test images.
 * The native engine runs twice: "native" as a job runs it (layer 0 from the nonzero pixels on
 * MNIST, src/engine/layer0.ts) and "native-dense" (MENTIA_LAYER0=dense: layer 0 as a GEMM).
 * The rate reported is the 0.9 quantile of the per-window rates, for every engine alike:
 * other processes on this shared machine can only slow a window down, so a high quantile
 * estimates the speed of an unshared core; the median is printed too. Data are real MNIST
 * images (19 % nonzero pixels: the sparse layer 0's speed depends on it; PyTorch's does not).
 * PyTorch runs twice: "as installed" (the environment as it is) and "tuned" (its best on this
 * machine: OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset so OpenBLAS picks the kernels of the
 * actual CPU, glibc malloc told never to return PyTorch's per-step buffers to the system —
 * MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ = 4 GiB, what PyTorch's CPU tuning guide
 * achieves with jemalloc/tcmalloc). Ratios are against the tuned run.
 * GFLOP/s use the usual convention: training 6·params per sample, evaluation 2·params;
 * %peak divides by the CPU's measured FMA peak on one core (a loop of independent FMAs at
 * 256 and 512 bits, the physical limit).
 * Windows are timed in wall seconds, or (cpuTime) in CPU seconds of the measuring process.
 */

export const STANDARD_CONFIGS: ReadonlyArray<readonly [number, number, number]> = [
  [128, 2, 64],
  [512, 2, 64],
  [512, 2, 256],
  [1024, 3, 256],
];

export const QUANTILE = 0.9;
const TRAIN_ROWS = 8192;
export const EVAL_ROWS = 1000;
export const WINDOW_S = 0.01;

export type BenchEngine = "native" | "native-dense" | "reference" | "pytorch" | "pytorch-as-installed";

export interface BenchResult {
  width: number;
  depth: number;
  batch: number;
  engine: BenchEngine;
  trainSps: number;
  evalSps: number;
  /** Validation-pass images/s (native only; 0 where not measured). */
  valSps: number;
  /** The medians of the per-window rates (NaN where not measured). */
  trainSpsMedian: number;
  evalSpsMedian: number;
  valSpsMedian: number;
  trainGflops: number;
  evalGflops: number;
}

export interface BenchReport {
  activeEngine: "native" | "reference";
  nativeIsa: string | null;
  /** Measured FMA peak of one core at 256 and 512 bits (0 where the CPU or build lacks it). */
  fmaPeakGflops: { bits256: number; bits512: number };
  /** The denominator of every %peak: the larger FMA peak. */
  peakGflops: number;
  sgemmGflops: { native: number; pytorch: number; pytorchAsInstalled: number };
  results: BenchResult[];
}

export interface Rates {
  rate: number;
  median: number;
}

interface PytorchOut {
  torch: string;
  blas: string;
  sgemmGflops: number;
  results: Array<{ width: number; depth: number; batch: number; trainSps: number; trainSpsMedian: number; evalSps: number; evalSpsMedian: number }>;
}

/** Seconds of a clock: wall, or this process's CPU time. */
export type Clock = () => number;
export const wallClock: Clock = () => performance.now() / 1000;
export const cpuClock: Clock = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Runs `run` (returns samples done) window after window for `seconds`; rates in samples/s. */
function windows(clock: Clock, run: () => number, seconds: number, minWindows = 5): Rates {
  run(); // warm-up
  const rates: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end || rates.length < minWindows) {
    const t0 = clock();
    const samples = run();
    rates.push(samples / Math.max(clock() - t0, 1e-6));
  }
  return { rate: quantile(rates, QUANTILE), median: quantile(rates, 0.5) };
}

/** The first n images of a dataset (a view, no copy). */
function head(d: Dataset, n: number): Dataset {
  return { x: d.x.subarray(0, n * INPUT_SIZE), y: d.y.subarray(0, n), n };
}

interface EngineTiming {
  train: Rates;
  evaluate: Rates;
  validate?: Rates;
}

/** Steady-state training and evaluation rates of one engine on one configuration. */
function timeEngine(clock: Clock, engine: Engine, width: number, depth: number, batch: number, seconds: number, data: Dataset, evalData: Dataset, slow: boolean, valData?: { data: Dataset; rows: Int32Array }): EngineTiming {
  const spec = { width, depth };
  const net = engine.createNetwork(spec, initParams(spec, 1), DEFAULT_OPTIMIZER, 1);
  try {
    const order = new Int32Array(data.n);
    for (let i = 0; i < data.n; i++) order[i] = i;
    new Rng(2, 1).shuffle(order);
    let step = 0;
    const trainSteps = (k: number): number => {
      const r = net.trainEpoch(data, { order: order.subarray(((step * batch) % (data.n - batch * k)) | 0), batch, pTrain: 0.3, firstStep: step, maxSteps: k });
      step += k;
      return r.samples;
    };
    let train: Rates;
    let evaluate: Rates;
    if (slow) {
      // The reference engine: a warm-up step and a few timed single steps; evaluation on a
      // slice of the test rows (one window each).
      train = windows(clock, () => trainSteps(1), 0, 2);
      const small = { x: evalData.x.subarray(0, 100 * INPUT_SIZE), y: evalData.y.subarray(0, 100), n: 100 };
      evaluate = windows(clock, () => (net.evaluate(small, { pEval: 0.3, mode: "sample", masks: 1, rescale: true, batch: 1000 }), small.n), 0, 2);
    } else {
      trainSteps(5);
      const t0 = clock();
      trainSteps(5);
      const perStep = Math.max(clock() - t0, 1e-6) / 5;
      const k = Math.max(1, Math.min(Math.floor(data.n / batch) - 1, Math.round(WINDOW_S / perStep)));
      train = windows(clock, () => trainSteps(k), seconds);
      evaluate = windows(clock, () => (net.evaluate(evalData, { pEval: 0.3, mode: "sample", masks: 1, rescale: true, batch: 1000 }), evalData.n), seconds);
      if (valData) {
        const validate = windows(clock, () => (net.evaluate(valData.data, { pEval: 0, mode: "sample", masks: 1, rescale: true, batch: 1000, rows: valData.rows }), valData.rows.length), seconds);
        return { train, evaluate, validate };
      }
    }
    return { train, evaluate };
  } finally {
    net.dispose();
  }
}

function runPytorch(configs: ReadonlyArray<readonly [number, number, number]>, seconds: number, tuned: boolean, cpuTime: boolean): { out: PytorchOut | null; why: string } {
  const why = pytorchUnavailable();
  if (why) return { out: null, why };
  const script = fileURLToPath(new URL("../../../bench/pytorch_ref.py", import.meta.url));
  const args = JSON.stringify({ configs, seconds, quantile: QUANTILE, windowSeconds: WINDOW_S, nTrain: TRAIN_ROWS, nEval: EVAL_ROWS, clock: cpuTime ? "cpu" : "wall" });
  const threads = { OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  const env = tuned ? tunedPytorchEnv({ ...process.env, ...threads }) : { ...process.env, ...threads };
  const r = spawnSync("/usr/bin/python3", [script, args], { encoding: "utf8", env, maxBuffer: 16 << 20 });
  if (r.status !== 0) return { out: null, why: `PyTorch script failed: ${(r.stderr || "").trim().split("\n").pop() ?? ""}` };
  try {
    return { out: JSON.parse(r.stdout) as PytorchOut, why: "" };
  } catch {
    return { out: null, why: "PyTorch script printed no JSON" };
  }
}

/** Flops one training sample really needs: forward and weight gradients of every layer, input
 *  gradients of all but the first (the images need none). */
export function trainFlopsDone(width: number, depth: number): number {
  const P = paramCount({ width, depth });
  const first = depth > 0 ? INPUT_SIZE * width + width : P;
  return 4 * P + 2 * (P - first);
}

const fmt = (v: number, digits = 0): string => v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

export interface MeasureOptions {
  configs: ReadonlyArray<readonly [number, number, number]>;
  /** ~0.4 s per engine and measure instead of ~2 s; leaves out slow reference runs. */
  quick: boolean;
  pytorch: boolean;
  reference: boolean;
  /** Windows timed in CPU seconds of the measuring process instead of wall seconds. */
  cpuTime: boolean;
  log: (line: string) => void;
}

/** Every engine on every configuration (protocol above): the report `mentia bench` prints. */
export function measureEngines(o: MeasureOptions): BenchReport {
  const { configs, quick, log } = o;
  const seconds = quick ? 0.4 : 2;
  const clock = o.cpuTime ? cpuClock : wallClock;
  const active = getEngine().name;
  const native = loadNativeEngine();
  log(`mentia bench — active engine: ${active}${native ? ` (native: ${nativeIsa()})` : ` (native unavailable: ${nativeLoadError()})`}; one core per engine`);

  const mnist = loadMnist();
  const data = head(mnist.train, TRAIN_ROWS);
  const evalData = head(mnist.test, EVAL_ROWS);
  const valData = { data: mnist.train, rows: nestedSubset(EVAL_ROWS, 11) };
  log(`data: MNIST, ${(100 * inputDensity(mnist.train)).toFixed(1)} % nonzero pixels`);
  // the physical limit: independent FMAs at 256 and 512 bits (short loops: robust to sharing)
  const isas = nativeIsas();
  const fma256 = isas.includes("avx2") ? nativeFmaPeak(1, "avx2") : 0;
  const fma512 = isas.includes("avx512") ? nativeFmaPeak(1, "avx512") : 0;
  const peak = Math.max(fma256, fma512, native && !fma256 && !fma512 ? nativeFmaPeak(1) : 0);
  const nativeSgemm = native ? nativeGemmGflops(1024, 1024, 1024, quick ? 1 : 2) : 0;
  log(`FMA peak of one core: ${fma256 ? `${fmt(fma256, 1)} GFLOP/s at 256 bits` : "256 bits n/a"}, ${fma512 ? `${fmt(fma512, 1)} GFLOP/s at 512 bits` : "512 bits n/a"} → %peak of ${fmt(peak, 1)}`);

  let torch: PytorchOut | null = null;
  let torchAsIs: PytorchOut | null = null;
  if (o.pytorch) {
    log("running PyTorch as installed, then tuned (bench/pytorch_ref.py) ...");
    const a = runPytorch(configs, seconds, false, o.cpuTime);
    torchAsIs = a.out;
    const r = runPytorch(configs, seconds, true, o.cpuTime);
    torch = r.out;
    if (!torch) log(`PyTorch skipped: ${r.why}`);
    else log(`PyTorch ${torch.torch}, 1 thread, BLAS: ${torch.blas}`);
  }
  log(`single-core sgemm 1024³: native ${native ? fmt(nativeSgemm, 1) : "n/a"} GFLOP/s, PyTorch tuned ${torch ? fmt(torch.sgemmGflops, 1) : "n/a"}, as installed ${torchAsIs ? fmt(torchAsIs.sgemmGflops, 1) : "n/a"}`);

  const results: BenchResult[] = [];
      const add = (width: number, depth: number, batch: number, engine: BenchEngine, t: EngineTiming): void => {
    const P = paramCount({ width, depth });
    const r: BenchResult = {
      width,
      depth,
      batch,
      engine,
      trainSps: t.train.rate,
      evalSps: t.evaluate.rate,
      valSps: t.validate?.rate ?? 0,
      trainSpsMedian: t.train.median,
      evalSpsMedian: t.evaluate.median,
      valSpsMedian: t.validate?.median ?? NaN,
      trainGflops: (t.train.rate * 6 * P) / 1e9,
      evalGflops: (t.evaluate.rate * 2 * P) / 1e9,
    };
    results.push(r);
  };
  const fromTorch = (out: PytorchOut | null, width: number, depth: number, batch: number, engine: BenchEngine): void => {
    const tr = out?.results.find((r) => r.width === width && r.depth === depth && r.batch === batch);
    if (tr) add(width, depth, batch, engine, { train: { rate: tr.trainSps, median: tr.trainSpsMedian }, evaluate: { rate: tr.evalSps, median: tr.evalSpsMedian } });
  };
  for (const [width, depth, batch] of configs) {
    if (native) {
      add(width, depth, batch, "native", withLayer0Path(undefined, () => timeEngine(clock, native, width, depth, batch, seconds, data, evalData, false, valData)));
      add(width, depth, batch, "native-dense", withLayer0Path("dense", () => timeEngine(clock, native, width, depth, batch, seconds, data, evalData, false, valData)));
    }
    fromTorch(torch, width, depth, batch, "pytorch");
    fromTorch(torchAsIs, width, depth, batch, "pytorch-as-installed");
    // The reference engine runs about 1 GFLOP/s: one training step of the largest
    // configuration takes seconds, so --quick leaves out what would take over ~2 s.
    const refStepSeconds = (6 * paramCount({ width, depth }) * batch) / 0.5e9;
    if (o.reference && !(quick && refStepSeconds > 2)) add(width, depth, batch, "reference", timeEngine(clock, referenceEngine, width, depth, batch, seconds, data, evalData, true));
    log(`  ${width},${depth},${batch} done`);
  }

  const report: BenchReport = {
    activeEngine: active,
    nativeIsa: native ? nativeIsa() : null,
    fmaPeakGflops: { bits256: fma256, bits512: fma512 },
    peakGflops: peak,
    sgemmGflops: { native: nativeSgemm, pytorch: torch?.sgemmGflops ?? 0, pytorchAsInstalled: torchAsIs?.sgemmGflops ?? 0 },
    results,
  };
  return report;
}
