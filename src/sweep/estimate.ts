import type { MnistData } from "../data/mnist.js";
import { paramCount, type Engine } from "../engine/types.js";
import { runJob } from "../train/train.js";
import type { TrainJob } from "../train/job.js";
import { jobValidations, TEST_SET_SIZE, type PlannedJob } from "./plan.js";

/**
 * Time estimate for a dry run: measure this machine's throughput on short versions of the
 * plan's smallest and largest networks (a few training steps, one evaluation pass over
 * 1,000 test images), then predict every job's time from its steps, batch and parameter
 * count, and schedule the jobs largest-first on K workers.
 */
export interface ProbeResult {
  width: number;
  depth: number;
  params: number;
  /** Training throughput, parameter·samples per second (one core). */
  trainRate: number;
  /** Evaluation throughput, parameter·samples per second (one core). */
  evalRate: number;
}

export interface Estimate {
  probes: ProbeResult[];
  /** Sum of the jobs' predicted times on one worker. */
  serialSeconds: number;
  /** Predicted wall time with the given workers (largest-first list scheduling). */
  wallSeconds: number;
  workers: number;
}

const PROBE_TEST_SAMPLES = 1000;

function probeJob(job: TrainJob, steps: number): TrainJob {
  return { ...job, n: Math.min(60000, job.batch * steps), policy: "steps", steps, validation: 0, pEvals: [job.pEvals[0]], masks: 1 };
}

function probe(job: TrainJob, data: MnistData, engine: Engine, targetSeconds: number): ProbeResult {
  const test = { x: data.test.x.subarray(0, PROBE_TEST_SAMPLES * 784), y: data.test.y.subarray(0, PROBE_TEST_SAMPLES), n: PROBE_TEST_SAMPLES };
  const small: MnistData = { train: data.train, test, checksums: data.checksums };
  const params = paramCount({ width: job.width, depth: job.depth });
  let steps = 3;
  let r = runJob(probeJob(job, steps), small, engine);
  const perStep = r.trainSeconds / Math.max(1, r.steps);
  steps = Math.max(3, Math.min(2000, Math.floor(60000 / job.batch), Math.round(targetSeconds / Math.max(perStep, 1e-6))));
  r = runJob(probeJob(job, steps), small, engine);
  const samples = r.steps * job.batch;
  return {
    width: job.width,
    depth: job.depth,
    params,
    trainRate: (samples * params) / Math.max(r.trainSeconds, 1e-9),
    evalRate: (PROBE_TEST_SAMPLES * params) / Math.max(r.evalSeconds, 1e-9),
  };
}

/** Measures throughput on the smallest and the largest network of the plan. */
export function measureThroughput(plan: PlannedJob[], data: MnistData, engine: Engine, targetSeconds = 0.3): ProbeResult[] {
  if (plan.length === 0) return [];
  const bySize = [...plan].sort((a, b) => paramCount(a.job) - paramCount(b.job));
  const picks = [bySize[0], bySize[bySize.length - 1]];
  const probes: ProbeResult[] = [];
  for (const p of picks) {
    if (probes.some((q) => q.width === p.job.width && q.depth === p.job.depth)) continue;
    probes.push(probe(p.job, data, engine, targetSeconds));
  }
  return probes.sort((a, b) => a.params - b.params);
}

/** Rate at `params` by log-linear interpolation between probes (clamped at the ends). */
function rateAt(probes: ProbeResult[], params: number, which: "trainRate" | "evalRate"): number {
  if (probes.length === 1 || params <= probes[0].params) return probes[0][which];
  const last = probes[probes.length - 1];
  if (params >= last.params) return last[which];
  const a = probes[0];
  const t = (Math.log(params) - Math.log(a.params)) / (Math.log(last.params) - Math.log(a.params));
  return Math.exp(Math.log(a[which]) + t * (Math.log(last[which]) - Math.log(a[which])));
}

/** Predicted seconds of one job on one worker. */
export function predictJobSeconds(p: PlannedJob, probes: ProbeResult[]): number {
  const params = paramCount(p.job);
  const train = (p.steps * Math.min(p.job.batch, p.job.n) * params) / rateAt(probes, params, "trainRate");
  const evaluation = ((p.job.pEvals.length * p.job.masks * TEST_SET_SIZE + jobValidations(p.job) * p.job.validation) * params) / rateAt(probes, params, "evalRate");
  return train + evaluation;
}

/** Largest-first list scheduling of the jobs on K workers: the predicted wall time. */
export function estimateSweep(jobs: PlannedJob[], probes: ProbeResult[], workers: number): Estimate {
  const times = jobs.map((j) => predictJobSeconds(j, probes)).sort((a, b) => b - a);
  const k = Math.max(1, Math.min(workers, times.length));
  const loads = new Array<number>(k).fill(0);
  for (const t of times) {
    let i = 0;
    for (let w = 1; w < k; w++) if (loads[w] < loads[i]) i = w;
    loads[i] += t;
  }
  return { probes, serialSeconds: times.reduce((s, t) => s + t, 0), wallSeconds: Math.max(0, ...loads), workers: k };
}
