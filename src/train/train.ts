import { MentiaError } from "../errors.js";
import { nestedSubset, type MnistData } from "../data/mnist.js";
import { initParams } from "../engine/init.js";
import { Rng } from "../engine/rng.js";
import { DEFAULT_OPTIMIZER, type Engine, type EvalResult } from "../engine/types.js";
import type { JobEval, JobResult, TrainJob } from "./job.js";

/** A training run whose loss became NaN or infinite; a sweep records it as failed. */
export class TrainingDivergedError extends MentiaError {}

export interface EpochInfo {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  trainLoss: number;
  samplesPerSec: number;
}

/** Optimisation steps of a job: `epochs` passes over N samples, but at least `minSteps`. */
export function totalSteps(job: Pick<TrainJob, "n" | "batch" | "epochs" | "minSteps">): number {
  return Math.max(job.epochs * Math.ceil(job.n / job.batch), job.minSteps);
}

export function validateJob(job: TrainJob): void {
  const bad = (msg: string): never => { throw new MentiaError(msg); };
  const isInt = (v: number, min: number): boolean => Number.isInteger(v) && v >= min;
  if (!isInt(job.width, 1)) bad(`width must be an integer ≥ 1, got ${job.width}`);
  if (!isInt(job.depth, 1)) bad(`depth must be an integer ≥ 1, got ${job.depth}`);
  if (!isInt(job.n, 1) || job.n > 60000) bad(`training-set size N must be an integer in [1, 60000], got ${job.n}`);
  if (!isInt(job.batch, 1)) bad(`batch must be an integer ≥ 1, got ${job.batch}`);
  if (!isInt(job.epochs, 0) || !isInt(job.minSteps, 0) || totalSteps(job) < 1) bad(`training needs at least one step (epochs ${job.epochs}, minSteps ${job.minSteps})`);
  if (!(job.lr > 0) || !Number.isFinite(job.lr)) bad(`learning rate must be > 0, got ${job.lr}`);
  if (!isInt(job.masks, 1)) bad(`masks must be an integer ≥ 1, got ${job.masks}`);
  if (!isInt(job.seed, 0) || job.seed > 0xffffffff) bad(`seed must be an integer in [0, 2^32), got ${job.seed}`);
  const checkP = (name: string, p: number): void => {
    if (!(p >= 0 && p < 1)) bad(`${name} must be in [0, 1), got ${p}`);
  };
  checkP("p_train", job.pTrain);
  if (job.pEvals.length === 0) bad("at least one p_eval is needed");
  job.pEvals.forEach((p) => checkP("p_eval", p));
}

/**
 * One job: train a fresh network on the nested subset of size N with dropout p_train, then
 * evaluate it on the full test set at every p_eval. Deterministic given the job.
 */
export function runJob(job: TrainJob, data: MnistData, engine: Engine, onEpoch?: (info: EpochInfo) => void): JobResult {
  validateJob(job);
  const spec = { width: job.width, depth: job.depth };
  const net = engine.createNetwork(spec, initParams(spec, job.seed), { ...DEFAULT_OPTIMIZER, optimizer: job.optimizer, lr: job.lr }, job.seed);
  try {
    const subset = nestedSubset(job.n, job.subsetSeed);
    const steps = totalSteps(job);
    const epochs = Math.ceil(steps / Math.ceil(job.n / job.batch));
    const shuffleRng = new Rng(job.seed, 1);
    const order = new Int32Array(job.n);
    let step = 0, finalTrainLoss = NaN;
    const t0 = performance.now();
    for (let epoch = 1; step < steps; epoch++) {
      const te = performance.now();
      order.set(subset);
      shuffleRng.shuffle(order);
      const r = net.trainEpoch(data.train, { order, batch: job.batch, pTrain: job.pTrain, firstStep: step, maxSteps: steps - step });
      step += r.steps;
      finalTrainLoss = r.meanLoss;
      if (!Number.isFinite(r.meanLoss)) throw new TrainingDivergedError(`training diverged at epoch ${epoch}: train loss ${r.meanLoss}`);
      onEpoch?.({ epoch, epochs, step, steps, trainLoss: r.meanLoss, samplesPerSec: r.samples / ((performance.now() - te) / 1000) });
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const evals = net.evaluateAll(data.test, job.pEvals, { mode: job.evalMode, masks: job.masks, rescale: job.rescale, batch: 1000 }).map((r, i) => checkedEval(job.pEvals[i], r));
    return { job, engine: engine.name, trainSeconds, evalSeconds: (performance.now() - t1) / 1000, steps: step, finalTrainLoss, evals };
  } finally {
    net.dispose();
  }
}

function checkedEval(pEval: number, r: EvalResult): JobEval {
  if (!Number.isFinite(r.loss)) throw new TrainingDivergedError(`test loss at p_eval ${pEval} is ${r.loss}`);
  return { pEval, ...r };
}
