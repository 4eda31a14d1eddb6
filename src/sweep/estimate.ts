import { Worker } from "node:worker_threads";
import { nestedSubset, type MnistData } from "../data/mnist.js";
import { initParams } from "../engine/init.js";
import { DEFAULT_OPTIMIZER, paramCount, type Engine, type EngineName } from "../engine/types.js";
import { runJob, validationLoss } from "../train/train.js";
import { evalModesOf, type TrainJob } from "../train/job.js";
import { evalPasses, jobSteps, jobValidations, TEST_SET_SIZE, trajectoryPasses, type PlannedJob } from "./plan.js";

/**
 * Time estimate for a dry run, calibrated by a short measured run on this machine:
 *
 *   job seconds = expectedSteps(job) × (seconds per step of its network)
 *               + expected validations(job) × validation split × (seconds per validation image)
 *               + (seconds to evaluate its network at all its p_eval × masks on the test set)
 *               + (per-job overhead: building the network and the subset)
 *
 * For each network of the plan (width, depth, batch; at most MAX_PROBES of them, others
 * interpolated in log(params)) a probe trains a fresh network for ~0.3 s and evaluates it
 * exactly as a job would (every p_eval, every mask, the job's mode) on EVAL_SAMPLES test
 * images (on a network whose buffers are allocated: the allocation is per-job overhead),
 * scaled to the full test set, and times a validation pass (early stopping's: no
 * removal, rows scattered over the training set, read in place) over VALIDATION_PROBE_ROWS
 * training images, per image; after one warm-up, REPEATS times. The probes run on
 * K threads at once, as the run's K workers will, so they measure the speed of a worker
 * among K (cores shared with each other and with whatever else runs). Jobs are then
 * scheduled largest first on K workers (the pool's order). Startup (loading MNIST, starting
 * the worker threads) is measured too. The point estimate uses the median repeat; the
 * range uses the fastest and the slowest repeat, widened by RANGE_MARGIN for what a probe
 * cannot see (the load of other programs changing, workers contending for memory).
 *
 * expectedSteps is the one place that says how long a job trains: a training policy whose
 * length is not known in advance (early stopping) plugs its expected length in there.
 */
export interface ProbeResult {
  width: number;
  depth: number;
  batch: number;
  params: number;
  /** Seconds per training step, one per repeat (ascending). */
  stepSeconds: number[];
  /** Seconds of one full evaluation (all p_eval × masks on the whole test set), per repeat (ascending). */
  evalSeconds: number[];
  /** Seconds per image of early stopping's validation pass, per repeat (ascending). */
  validationSeconds: number[];
  /** Seconds per job outside training and evaluation (network and subset set-up), median. */
  overheadSeconds: number;
}

export interface Estimate {
  probes: ProbeResult[];
  /** Sum of the jobs' predicted times on one worker. */
  serialSeconds: number;
  /** Predicted wall time with the given workers (largest-first list scheduling), startup included. */
  wallSeconds: number;
  /** The range of the wall time (see above). */
  lowSeconds: number;
  highSeconds: number;
  /** Measured startup: loading MNIST and starting the worker threads. */
  startupSeconds: number;
  workers: number;
}

export const MAX_PROBES = 6;
const REPEATS = 3;
const EVAL_SAMPLES = 1000;
const PROBE_TRAIN_SECONDS = 0.3;
/** Validation rows a probe times (scattered over the training set, as a job's split is). */
export const VALIDATION_PROBE_ROWS = 2000;
/** Relative widening of the range beyond the spread of the repeats. */
export const RANGE_MARGIN = 0.15;

/**
 * Optimisation steps a job is expected to take: the fixed policies' exact length, or early
 * stopping's expected length (plan.ts, from measured best epochs).
 */
export function expectedSteps(job: TrainJob): number {
  return jobSteps(job);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function archKey(j: TrainJob): string {
  return `${j.width}x${j.depth}b${j.batch}`;
}

/** A probe of `job`'s network: `steps` training steps (several epochs of a small subset), the job's evaluation. */
function probeJob(job: TrainJob, steps: number, pTrain: number): TrainJob {
  const n = Math.min(60000, job.batch * Math.max(1, Math.min(steps, 50)));
  // No trajectory: its evaluations (and any training past the stop) are counted apart, from trajectoryPasses.
  const { trajectory: _, ...plain } = job;
  return { ...plain, pTrain, n, policy: "steps", steps, validation: 0 };
}

/**
 * Probes one network. `barrier` (K threads probing at once) makes every thread start its
 * measured repeats together, so each sees the others' load as the run's workers will.
 */
export function probe(job: TrainJob, pTrain: number, data: MnistData, engine: Engine, barrier?: () => void): ProbeResult {
  const test = { x: data.test.x.subarray(0, EVAL_SAMPLES * 784), y: data.test.y.subarray(0, EVAL_SAMPLES), n: EVAL_SAMPLES };
  const small: MnistData = { train: data.train, test, checksums: data.checksums };
  // Two warm-ups: the first call's time is mostly start-up (code, buffers: 5 steps took 105 ms
  // at 128/2/64, i.e. 21 ms a step against 0.2 in steady state), so a step count chosen from it
  // gave 14-step probes whose fixed cost made a step look 2.3× dearer than in a job. The
  // second (20 steps) sets the count.
  runJob(probeJob(job, 5, pTrain), small, engine);
  const warm = runJob(probeJob(job, 20, pTrain), small, engine);
  const perStep = warm.trainSeconds / Math.max(1, warm.steps);
  const steps = Math.max(5, Math.min(5000, Math.round(PROBE_TRAIN_SECONDS / Math.max(perStep, 1e-6))));
  barrier?.();
  const stepSeconds: number[] = [];
  const evalSeconds: number[] = [];
  const validationSeconds: number[] = [];
  const overhead: number[] = [];
  const valRows = nestedSubset(VALIDATION_PROBE_ROWS, job.seed + 1);
  // Validation and evaluation are timed on a network whose buffers are already allocated (a
  // warm-up call first): the per-job allocation is not scaled up to the full test set but
  // counted once, in the overhead.
  const warmEval: number[] = [];
  const net = engine.createNetwork(job, initParams(job, job.seed), { ...DEFAULT_OPTIMIZER, optimizer: job.optimizer, lr: job.lr }, job.seed);
  try {
    const evaluate = (): void => {
      for (const mode of evalModesOf(job)) net.evaluateAll(test, job.pEvals, { mode, masks: job.masks, rescale: job.rescale, magnitudeRescale: job.magnitudeRescale, magnitudeGlobal: job.magnitudeGlobal, batch: 1000 });
    };
    validationLoss(net, data.train, valRows);
    evaluate();
    for (let r = 0; r < REPEATS; r++) {
      let t = performance.now();
      validationLoss(net, data.train, valRows);
      validationSeconds.push((performance.now() - t) / 1000 / VALIDATION_PROBE_ROWS);
      t = performance.now();
      evaluate();
      warmEval.push((performance.now() - t) / 1000);
    }
  } finally {
    net.dispose();
  }
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    const res = runJob(probeJob(job, steps, pTrain), small, engine);
    const wall = (performance.now() - t0) / 1000;
    stepSeconds.push(res.trainSeconds / res.steps);
    evalSeconds.push((warmEval[r] * TEST_SET_SIZE) / EVAL_SAMPLES);
    overhead.push(Math.max(0, wall - res.trainSeconds - warmEval[r]));
  }
  return {
    width: job.width,
    depth: job.depth,
    batch: job.batch,
    params: paramCount(job),
    stepSeconds: stepSeconds.sort((a, b) => a - b),
    evalSeconds: evalSeconds.sort((a, b) => a - b),
    validationSeconds: validationSeconds.sort((a, b) => a - b),
    overheadSeconds: median(overhead),
  };
}

/** What a probe thread gets (estimate-worker.ts). */
export interface ProbeSetup {
  data: MnistData;
  engine: EngineName;
  jobs: TrainJob[];
  pTrain: number;
  /** Int32Array over a SharedArrayBuffer: threads arrived at the barrier, cumulated over jobs. */
  arrived: Int32Array;
  threads: number;
}

/** The networks to probe (all up to MAX_PROBES, else the smallest, the largest and evenly spaced ones). */
function probeJobs(plan: PlannedJob[]): TrainJob[] {
  const byArch = new Map<string, TrainJob>();
  for (const p of plan) if (!byArch.has(archKey(p.job))) byArch.set(archKey(p.job), p.job);
  const archs = [...byArch.values()].sort((a, b) => paramCount(a) - paramCount(b) || a.batch - b.batch);
  return archs.length <= MAX_PROBES ? archs : Array.from({ length: MAX_PROBES }, (_, i) => archs[Math.round((i * (archs.length - 1)) / (MAX_PROBES - 1))]);
}

/**
 * Probes the plan's networks on `threads` worker threads at once (the run's K workers, so
 * that the probes see the contention the workers will: shared cores, memory, other
 * programs), each thread probing every network; the repeats of all threads are pooled.
 * Also measures how long the worker threads take to start. Dropout during the probe is the
 * plan's median p_train. `data` must be in shared memory (shareMnist).
 */
export async function measureThroughput(plan: PlannedJob[], data: MnistData, engine: EngineName, threads: number): Promise<{ probes: ProbeResult[]; workerStartSeconds: number }> {
  if (plan.length === 0) return { probes: [], workerStartSeconds: 0 };
  const jobs = probeJobs(plan);
  const setup: ProbeSetup = { data, engine, jobs, pTrain: median(plan.map((p) => p.job.pTrain)), arrived: new Int32Array(new SharedArrayBuffer(4)), threads: Math.max(1, threads) };
  const url = new URL("./estimate-worker.js", import.meta.url);
  const t0 = performance.now();
  const runs = Array.from({ length: setup.threads }, () => {
    const w = new Worker(url, { workerData: setup });
    let started = 0;
    return new Promise<{ probes: ProbeResult[]; startSeconds: number }>((resolve, reject) => {
      w.on("message", (m: { type: "ready" } | { type: "done"; probes: ProbeResult[] }) => {
        if (m.type === "ready") started = (performance.now() - t0) / 1000;
        else resolve({ probes: m.probes, startSeconds: started });
      });
      w.once("error", reject);
      w.once("exit", (code) => reject(new Error(`a probe thread exited (code ${code}) before it finished`)));
    }).finally(() => void w.terminate());
  });
  const results = await Promise.all(runs);
  const probes = jobs.map((_, i) => {
    const all = results.map((r) => r.probes[i]);
    return {
      ...all[0],
      stepSeconds: all.flatMap((p) => p.stepSeconds).sort((a, b) => a - b),
      evalSeconds: all.flatMap((p) => p.evalSeconds).sort((a, b) => a - b),
      validationSeconds: all.flatMap((p) => p.validationSeconds).sort((a, b) => a - b),
      overheadSeconds: median(all.map((p) => p.overheadSeconds)),
    };
  });
  return { probes, workerStartSeconds: Math.max(...results.map((r) => r.startSeconds)) };
}

type Which = "fast" | "median" | "slow";

function pick(xs: number[], which: Which): number {
  return which === "fast" ? xs[0] : which === "slow" ? xs[xs.length - 1] : median(xs);
}

/** The probe's value for a job's network: exact when probed, else log-log interpolation in params. */
function probeValue(probes: ProbeResult[], job: TrainJob, f: (p: ProbeResult) => number): number {
  const same = probes.find((p) => p.width === job.width && p.depth === job.depth && p.batch === job.batch);
  if (same) return f(same);
  const params = paramCount(job);
  const sorted = [...probes].sort((a, b) => a.params - b.params);
  if (params <= sorted[0].params) return (f(sorted[0]) * params) / sorted[0].params;
  const last = sorted[sorted.length - 1];
  if (params >= last.params) return (f(last) * params) / last.params;
  let i = 0;
  while (sorted[i + 1].params < params) i++;
  const a = sorted[i];
  const b = sorted[i + 1];
  const t = (Math.log(params) - Math.log(a.params)) / (Math.log(b.params) - Math.log(a.params));
  return Math.exp(Math.log(f(a)) + t * (Math.log(f(b)) - Math.log(f(a))));
}

/** Predicted seconds of one job on one worker. */
export function predictJobSeconds(p: PlannedJob, probes: ProbeResult[], which: Which = "median"): number {
  const step = probeValue(probes, p.job, (q) => pick(q.stepSeconds, which));
  // Every job of a plan has the config's p_eval list, masks and mode, as the probes had.
  const evaluation = probeValue(probes, p.job, (q) => pick(q.evalSeconds, which));
  const overhead = probeValue(probes, p.job, (q) => q.overheadSeconds || 1e-6);
  // Early stopping's validations: one pass (no removal) over the validation split each.
  const validation = jobValidations(p.job) * p.job.validation * probeValue(probes, p.job, (q) => pick(q.validationSeconds, which));
  const trajectory = (trajectoryPasses(p.job) * evaluation) / evalPasses(p.job);
  return expectedSteps(p.job) * step + evaluation + validation + trajectory + overhead + streamSeconds(p.job, expectedSteps(p.job), step);
}

/**
 * mnist-deformed past its base: the probes train on MNIST rows, so the stream's own cost is
 * added as multiples of the measured time per trained sample — generating a deformed sample
 * (once, into the cache, page faults included) ≈ 1.7 of it, filling a sample into the chunk
 * buffer (every visit) ≈ 0.18 (bench/deformed-stream.ts, CPU time: 6.0, 0.64 and 3.5 µs at
 * width 128, depth 2, batch 64).
 */
const STREAM_GENERATE_PER_SAMPLE = 1.7;
const STREAM_FILL_PER_VISIT = 0.18;
function streamSeconds(job: TrainJob, steps: number, stepSeconds: number): number {
  const base = 60000 - job.validation;
  if (job.dataset !== "mnist-deformed" || job.n <= base) return 0;
  const perSample = stepSeconds / Math.min(job.batch, job.n);
  return perSample * (STREAM_GENERATE_PER_SAMPLE * (job.n - base) + STREAM_FILL_PER_VISIT * steps * Math.min(job.batch, job.n));
}

function schedule(times: number[], workers: number): number {
  const sorted = [...times].sort((a, b) => b - a);
  const loads = new Array<number>(Math.max(1, Math.min(workers, sorted.length))).fill(0);
  for (const t of sorted) {
    let i = 0;
    for (let w = 1; w < loads.length; w++) if (loads[w] < loads[i]) i = w;
    loads[i] += t;
  }
  return Math.max(0, ...loads);
}

/** Largest-first list scheduling of the jobs on K workers: the predicted wall time and its range. */
export function estimateSweep(jobs: PlannedJob[], probes: ProbeResult[], workers: number, startupSeconds = 0): Estimate {
  const k = Math.max(1, Math.min(workers, jobs.length));
  const times = (which: Which): number[] => jobs.map((j) => predictJobSeconds(j, probes, which));
  const mid = times("median");
  const wall = startupSeconds + schedule(mid, k);
  return {
    probes,
    serialSeconds: mid.reduce((s, t) => s + t, 0),
    wallSeconds: wall,
    lowSeconds: (startupSeconds + schedule(times("fast"), k)) * (1 - RANGE_MARGIN),
    highSeconds: (startupSeconds + schedule(times("slow"), k)) * (1 + RANGE_MARGIN),
    startupSeconds,
    workers: k,
  };
}
