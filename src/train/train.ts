import { MentiaError } from "../errors.js";
import { datasetSource, isDatasetName } from "../data/datasets.js";
import { checkDeformation } from "../data/deform.js";
import { MNIST_TRAIN_SIZE, permutationSeed, splitData, type MnistData } from "../data/mnist.js";
import { initParams } from "../engine/init.js";
import { Rng } from "../engine/rng.js";
import { DEFAULT_OPTIMIZER, EVAL_MODES, type EvalMode, type Dataset, type Engine, type EvalResult, type Network } from "../engine/types.js";
import { evalModesOf, TRAINING_POLICIES, VAL_EVERY_RULES, type JobEval, type JobResult, type StopReason, type TrainJob, type TrainingRecord, type Trajectory } from "./job.js";
import { extendedEnd, trajectoryProblems, TrajectoryRecorder } from "./trajectory.js";
import { jobStream, trainOnStream } from "./stream.js";

/** A training run whose loss became NaN or infinite; a sweep records it as failed. */
export class TrainingDivergedError extends MentiaError {}

export interface EpochInfo {
  epoch: number;
  /** Epochs the policy will run (for early stopping: the cap, maxSteps in epochs). */
  epochs: number;
  step: number;
  /** Steps the policy will run at most. */
  steps: number;
  trainLoss: number;
  samplesPerSec: number;
  /** Early stopping: the latest validation loss, the best so far and its step. */
  valLoss?: number;
  bestValLoss?: number;
  bestStep?: number;
}

/** Steps in one pass over N samples. */
export function stepsPerEpoch(job: Pick<TrainJob, "n" | "batch">): number {
  return Math.ceil(job.n / job.batch);
}

/**
 * The most steps a job can train: the exact count for the fixed policies, the cap for
 * early stopping (which usually stops long before it).
 */
export function stepBudget(job: Pick<TrainJob, "policy" | "n" | "batch" | "epochs" | "steps" | "maxSteps">): number {
  switch (job.policy) {
    case "epochs":
      return job.epochs * stepsPerEpoch(job);
    case "steps":
      return job.steps;
    case "epochs-min-steps":
      return Math.max(job.epochs * stepsPerEpoch(job), job.steps);
    case "early-stop":
      return job.maxSteps;
  }
}

/**
 * Steps between two validations of early stopping: "half-epoch" = half an epoch, at least 10
 * steps (the default); "epoch" = one epoch, at least 50 steps; or a fixed count.
 */
export function validationInterval(job: Pick<TrainJob, "valEvery" | "n" | "batch">): number {
  if (job.valEvery === "half-epoch") return Math.max(Math.ceil(stepsPerEpoch(job) / 2), 10);
  if (job.valEvery === "epoch") return Math.max(stepsPerEpoch(job), 50);
  return job.valEvery;
}

export function validateJob(job: TrainJob): void {
  const bad = (msg: string): never => { throw new MentiaError(msg); };
  const isInt = (v: number, min: number): boolean => Number.isInteger(v) && v >= min;
  if (!isInt(job.width, 1)) bad(`width must be an integer ≥ 1, got ${job.width}`);
  if (!isInt(job.depth, 1)) bad(`depth must be an integer ≥ 1, got ${job.depth}`);
  if (!TRAINING_POLICIES.includes(job.policy)) bad(`unknown training policy '${String(job.policy)}' (known: ${TRAINING_POLICIES.join(", ")})`);
  if (!isInt(job.validation, 0) || job.validation >= MNIST_TRAIN_SIZE) bad(`the validation split must be an integer in [0, ${MNIST_TRAIN_SIZE - 1}], got ${job.validation}`);
  if (job.dataset !== undefined && !isDatasetName(job.dataset)) bad(`unknown dataset '${String(job.dataset)}'`);
  const dataset = datasetSource(job.dataset);
  const maxN = dataset.maxN(job.validation);
  if (!isInt(job.n, 1) || job.n > maxN.n) bad(`training-set size N must be an integer in [1, ${maxN.n}] for ${dataset.name} (${maxN.why}), got ${job.n}`);
  if (job.deformation !== undefined) {
    if (dataset.name !== "mnist-deformed") bad(`deformation parameters apply to the dataset mnist-deformed only, not to ${dataset.name}`);
    checkDeformation(job.deformation);
  }
  if (job.dataDraw !== "per-seed" && job.dataDraw !== "shared") bad(`dataDraw must be 'per-seed' or 'shared', got '${String(job.dataDraw)}'`);
  if (!isInt(job.batch, 1)) bad(`batch must be an integer ≥ 1, got ${job.batch}`);
  if (!isInt(job.epochs, 0) || !isInt(job.steps, 0)) bad(`epochs and steps must be integers ≥ 0 (epochs ${job.epochs}, steps ${job.steps})`);
  if (job.policy === "early-stop") {
    if (!isInt(job.patience, 1)) bad(`patience must be an integer ≥ 1 (validations without improvement before stopping), got ${job.patience}`);
    if (typeof job.valEvery !== "number" ? !VAL_EVERY_RULES.includes(job.valEvery) : !isInt(job.valEvery, 1)) bad(`valEvery must be an integer ≥ 1 (steps between validations), 'half-epoch' or 'epoch', got ${job.valEvery}`);
    if (!isInt(job.maxSteps, 1)) bad(`maxSteps must be an integer ≥ 1, got ${job.maxSteps}`);
    if (job.validation < 1) bad("early stopping needs a validation split: set validation ≥ 1 (e.g. 10000)");
  } else if (stepBudget(job) < 1) {
    bad(`training needs at least one step (policy ${job.policy}, epochs ${job.epochs}, steps ${job.steps})`);
  }
  if (!(job.lr > 0) || !Number.isFinite(job.lr)) bad(`learning rate must be > 0, got ${job.lr}`);
  const modes = evalModesOf(job);
  if (modes.length === 0) bad("at least one eval mode is needed");
  for (const m of modes) if (!EVAL_MODES.includes(m)) bad(`unknown eval mode '${String(m)}' (known: ${EVAL_MODES.join(", ")})`);
  if (new Set(modes).size !== modes.length) bad(`eval modes listed twice: ${modes.join(", ")}`);
  if (!isInt(job.masks, 1)) bad(`masks must be an integer ≥ 1, got ${job.masks}`);
  if (!isInt(job.seed, 0) || job.seed > 0xffffffff) bad(`seed must be an integer in [0, 2^32), got ${job.seed}`);
  const checkP = (name: string, p: number): void => {
    if (!(p >= 0 && p < 1)) bad(`${name} must be in [0, 1), got ${p}`);
  };
  checkP("p_train", job.pTrain);
  if (job.pEvals.length === 0) bad("at least one p_eval is needed");
  job.pEvals.forEach((p) => checkP("p_eval", p));
  const traj = trajectoryProblems(job);
  if (traj.length > 0) bad(traj[0]);
}

/**
 * The training rows and the validation rows of a job (see splitData in src/data/mnist.ts);
 * for mnist-deformed past its base, the training rows are the whole base (the stream's first samples).
 */
export function jobData(job: TrainJob): { train: Int32Array; validation: Int32Array } {
  const n = job.dataset === "mnist-deformed" ? Math.min(job.n, MNIST_TRAIN_SIZE - job.validation) : job.n;
  return splitData(permutationSeed(job.dataDraw, job.subsetSeed, job.seed), n, job.validation);
}

/** Validation cross-entropy without removal: what early stopping watches. `rows`: the
 *  validation rows of `data` (evaluated in place, no copy of the images); default all. */
export function validationLoss(net: Network, data: Dataset, rows?: Int32Array): number {
  return net.evaluate(data, { pEval: 0, mode: "sample", masks: 1, rescale: true, batch: 1000, rows }).loss;
}

/**
 * One job: train a fresh network on the first N images of its permutation with dropout
 * p_train for as long as its policy says, then evaluate it on the full test set at every
 * p_eval. Deterministic given the job (and the instruction set the engine runs on).
 */
export function runJob(job: TrainJob, data: MnistData, engine: Engine, onEpoch?: (info: EpochInfo) => void): JobResult {
  const t0 = performance.now();
  const { net, finalTrainLoss, training, trajectory } = trainJob(job, data, engine, onEpoch);
  try {
    const trainSeconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const evals = evalModesOf(job).flatMap((mode) =>
      net
        .evaluateAll(data.test, job.pEvals, { mode, masks: job.masks, rescale: job.rescale, magnitudeRescale: job.magnitudeRescale, magnitudeGlobal: job.magnitudeGlobal, batch: 1000 })
        .map((r, i) => checkedEval(mode, job.pEvals[i], r)),
    );
    return { job, engine: engine.name, trainSeconds, evalSeconds: (performance.now() - t1) / 1000, steps: training.steps, finalTrainLoss, training, evals, ...(trajectory ? { trajectory } : {}) };
  } finally {
    net.dispose();
  }
}

/** The training part of runJob: the network its policy returns (the caller disposes it). */
export function trainJob(job: TrainJob, data: MnistData, engine: Engine, onEpoch?: (info: EpochInfo) => void): { net: Network; finalTrainLoss: number; training: TrainingRecord; trajectory?: Trajectory } {
  validateJob(job);
  const spec = { width: job.width, depth: job.depth };
  const net = engine.createNetwork(spec, initParams(spec, job.seed), { ...DEFAULT_OPTIMIZER, optimizer: job.optimizer, lr: job.lr }, job.seed);
  try {
    return { net, ...trainNetwork(net, job, data, onEpoch) };
  } catch (err) {
    net.dispose();
    throw err;
  }
}

/**
 * The training loop of every policy: epochs of shuffled mini-batches (a fresh shuffle per
 * epoch), cut into chunks that end at each validation point when stopping early and at each
 * trajectory checkpoint. With a trajectory that extends past the policy's stop, training goes
 * on (without validating) to its end; the policy's weights are restored before returning.
 */
function trainNetwork(net: Network, job: TrainJob, data: MnistData, onEpoch?: (info: EpochInfo) => void): { finalTrainLoss: number; training: TrainingRecord; trajectory?: Trajectory } {
  const rows = jobData(job);
  const stream = jobStream(job, data, rows.train);
  const earlyStop = job.policy === "early-stop";
  const validation = earlyStop ? rows.validation : null;
  const budget = stepBudget(job);
  const perEpoch = stepsPerEpoch(job);
  const every = earlyStop ? validationInterval(job) : Infinity;
  const traj = job.trajectory ? new TrajectoryRecorder({ ...job, trajectory: job.trajectory }, net, data.test, validationInterval(job), budget) : null;
  const shuffleRng = new Rng(job.seed, 1);
  const order = new Int32Array(job.n);
  let step = 0, finalTrainLoss = NaN, validations = 0, sinceBest = 0, samplesSeen = 0, bestSamples = 0;
  let bestValLoss = Infinity, bestStep = 0, stoppedBy: StopReason = earlyStop ? "max-steps" : "budget";
  // The policy's stop (-1 while it trains) and the step training runs to (past the stop only for a trajectory).
  let stopStep = -1, end = budget, divergedAt: number | null = null;
  training: for (let epoch = 1; step < end; epoch++) {
    const te = performance.now();
    if (stream) for (let i = 0; i < job.n; i++) order[i] = i; // sample ids; ids < base are rows.train's (same shuffle)
    else order.set(rows.train);
    shuffleRng.shuffle(order);
    let lossSum = 0, samples = 0, valLoss: number | undefined;
    const stop = (): void => {
      stopStep = step;
      finalTrainLoss = lossSum / samples;
      if (!earlyStop) {
        bestSamples = samplesSeen;
        if (traj) net.saveSnapshot(); // the policy's weights, restored after an extension
      }
      end = traj ? extendedEnd(job.trajectory!, step) : step;
    };
    for (let pos = 0; pos < job.n && step < end; ) {
      const chunk = Math.min(end - step, stopStep < 0 ? every - (step % every) : Infinity, traj ? traj.next(step) - step : Infinity);
      const opts = { order: order.subarray(pos), batch: job.batch, pTrain: job.pTrain, firstStep: step, maxSteps: chunk };
      const r = stream ? trainOnStream(net, stream, opts.order, opts) : net.trainEpoch(data.train, opts);
      step += r.steps;
      pos += r.samples;
      samplesSeen += r.samples;
      lossSum += r.meanLoss * r.samples;
      samples += r.samples;
      if (!Number.isFinite(r.meanLoss)) {
        // Past the policy's stop only the trajectory is at stake: it ends here, the job keeps its result.
        if (stopStep >= 0 && traj) {
          divergedAt = step;
          break training;
        }
        throw new TrainingDivergedError(`training diverged at epoch ${epoch}: train loss ${r.meanLoss}`);
      }
      let atStep: number | null = null;
      if (stopStep < 0 && validation && (step % every === 0 || step === budget)) {
        // Every validation point, and a last validation where the cap cut between two of them.
        valLoss = atStep = validationLoss(net, data.train, validation);
        validations++;
        if (!Number.isFinite(valLoss)) throw new TrainingDivergedError(`validation loss at step ${step} is ${valLoss}`);
        if (valLoss < bestValLoss) {
          bestValLoss = valLoss;
          bestStep = step;
          bestSamples = samplesSeen;
          sinceBest = 0;
          net.saveSnapshot();
        } else if (++sinceBest >= job.patience && step % every === 0) {
          stoppedBy = "patience";
          stop();
        }
      }
      if (stopStep < 0 && step === budget) stop();
      if (traj && (traj.scheduled(step) || (stopStep >= 0 && step === end))) traj.at(step, samplesSeen, atStep);
      if (stopStep === step && step >= end) {
        report(epoch, samples, te, valLoss);
        break training;
      }
    }
    if (stopStep < 0) finalTrainLoss = lossSum / samples;
    report(epoch, samples, te, valLoss);
  }
  function report(epoch: number, samples: number, te: number, valLoss?: number): void {
    onEpoch?.({
      epoch, epochs: Math.ceil(end / perEpoch), step, steps: end, trainLoss: finalTrainLoss, samplesPerSec: samples / ((performance.now() - te) / 1000),
      ...(earlyStop ? { valLoss, bestValLoss, bestStep } : {}),
    });
  }
  const generated: Pick<TrainingRecord, "generated"> = stream ? { generated: { samples: stream.generated, seconds: stream.generateSeconds } } : {};
  if (!earlyStop) bestStep = stopStep;
  if (bestStep !== step) net.restoreSnapshot();
  const trajectory = traj?.finish({ stopStep, endStep: divergedAt ?? step, bestStep, bestSamples, bestValLoss: earlyStop ? bestValLoss : null, divergedAt });
  const training: TrainingRecord = earlyStop ? { steps: stopStep, bestStep, bestValLoss, validations, stoppedBy, ...generated } : { steps: stopStep, bestStep: stopStep, bestValLoss: null, validations: 0, stoppedBy, ...generated };
  return { finalTrainLoss, training, ...(trajectory ? { trajectory } : {}) };
}

function checkedEval(evalMode: EvalMode, pEval: number, r: EvalResult): JobEval {
  if (!Number.isFinite(r.loss)) throw new TrainingDivergedError(`test loss at p_eval ${pEval} (${evalMode}) is ${r.loss}`);
  return { evalMode, pEval, ...r };
}
