import { createHash } from "node:crypto";
import { paramCount } from "../engine/types.js";
import { isRandomMode } from "../engine/prune.js";
import { evalModesOf, type TrainJob } from "../train/job.js";
import { stepBudget, stepsPerEpoch, validationInterval } from "../train/train.js";
import { extendedEnd, trajectorySchedule } from "../train/trajectory.js";
import { canonicalJson, type SweepConfig } from "./config.js";

/**
 * Planning: a sweep config becomes one TrainJob per (width, depth, p_train, N, seed); each
 * job trains once and evaluates every p_eval. A job's key is a stable hash of its canonical
 * JSON, so the same job always has the same key, in any process, on any machine.
 */
export type JobKey = string;

export interface PlannedJob {
  key: JobKey;
  job: TrainJob;
  /** Optimisation steps the job will take. */
  steps: number;
  /** Relative cost (multiply-adds): training steps·batch·3·params + evaluation draws·10k·params. */
  cost: number;
}

/** Size of the MNIST test set every evaluation runs over. */
export const TEST_SET_SIZE = 10000;
export const KEY_HEX_CHARS = 16;

/** sha256 of the job's canonical JSON (sorted keys), first 16 hex digits (64 bits). */
export function jobKey(job: TrainJob): JobKey {
  return createHash("sha256").update(canonicalJson(job)).digest("hex").slice(0, KEY_HEX_CHARS);
}

/**
 * Steps a job is expected to train: its policy's budget, or for early stopping a model of
 * where the best validation step falls (earlyStopBestEpochs passes, at least
 * EARLY_STOP_BEST_MIN_STEPS steps, rounded up to a validation point) plus `patience` more
 * validations, capped at maxSteps. Used for scheduling (largest first) and for dry-run
 * estimates only — never for results.
 */
export function jobSteps(job: TrainJob): number {
  return job.trajectory ? extendedEnd(job.trajectory, policySteps(job)) : policySteps(job);
}

/** Where the job's policy is expected to stop: jobSteps without a trajectory's extension (the
 *  steps past it train for the trajectory only, without validating). */
export function policySteps(job: TrainJob): number {
  if (job.policy !== "early-stop") return stepBudget(job);
  const every = validationInterval(job);
  const best = Math.max(earlyStopBestSteps(job), EARLY_STOP_BEST_MIN_STEPS);
  return Math.min(job.maxSteps, Math.ceil(best / every) * every + job.patience * every);
}

/**
 * Test-set passes a job's trajectory is expected to make (0 without one): its checkpoints up to
 * the expected end (extension included) plus the best and last steps, each pEval × draws (a
 * checkpoint validates nothing: before the stop it falls on a validation the policy runs anyway).
 */
export function trajectoryPasses(job: TrainJob): number {
  return trajectoryPoints(job) * trajectoryPassesPerPoint(job);
}

/** Checkpoints a job's trajectory is expected to record (0 without one). */
export function trajectoryPoints(job: TrainJob): number {
  const t = job.trajectory;
  if (!t) return 0;
  const end = jobSteps(job);
  return trajectorySchedule(t, validationInterval(job), stepBudget(job)).filter((s) => s <= end).length + 2;
}

/** Test-set passes of one checkpoint: the trajectory's pEval × draws (counted as evalPasses counts them). */
export function trajectoryPassesPerPoint(job: TrainJob): number {
  const t = job.trajectory;
  if (!t) return 0;
  return t.pEval.length * (isRandomMode(t.evalMode ?? evalModesOf(job)[0]) ? t.masks : 1);
}
export const EARLY_STOP_BEST_MIN_STEPS = 150;

/**
 * Epoch of the best validation step: the median over widths 64, 128, 256 and 4 seeds at N ≥ 4,000
 * of the robustness study (configs/robustness.yaml, 2,304 early-stopped trainings on real MNIST;
 * docs/results.md), per depth (1, 2, ≥ 3) at its p_train values, interpolated linearly in
 * between. Dropout slows learning until p_train is so high that little is learned and the
 * validation loss stops improving early; one hidden layer learns longest.
 */
const BEST_EPOCH_P_TRAIN = [0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99];
const BEST_EPOCHS_BY_DEPTH: Record<1 | 2 | 3, number[]> = {
  1: [15.5, 19.8, 24.8, 31.5, 36.5, 46.6, 42.0, 33.5],
  2: [8.6, 13.2, 18.2, 24.8, 32.2, 38.8, 33.9, 5.6],
  3: [8.1, 12.6, 17.6, 27.0, 37.3, 29.0, 15.5, 5.6],
};
/**
 * Expected step of the best validation: the table's epochs × steps per epoch × a size and width
 * factor 1.24 (N/4,000)^(−0.2) (width/128)^(−0.29). Small sets and narrow networks train for
 * more epochs than the table's medians at N ≥ 4,000: fitted to the best steps of the
 * robustness-trajectory study (1,152 early-stopped trainings, widths 64–256, depths 1–3, N =
 * 250–16,000; exponents by least squares in ln, the factor so that the summed steps agree). The
 * validations of small-N jobs (10,000 images every 10 steps) dominate their time, and without
 * the factor the expected validations were 0.78 of the real ones (default and robustness
 * studies); with it 0.94–1.06 on the default, transition, Fashion and robustness-trajectory
 * studies' stores.
 */
export function earlyStopBestSteps(job: Pick<TrainJob, "pTrain" | "depth" | "width" | "n" | "batch">): number {
  return 1.24 * earlyStopBestEpochs(job.pTrain, job.depth) * stepsPerEpoch(job) * Math.pow(job.n / 4000, -0.2) * Math.pow(job.width / 128, -0.29);
}

export function earlyStopBestEpochs(pTrain: number, depth = 2): number {
  const table = BEST_EPOCHS_BY_DEPTH[Math.min(Math.max(depth, 1), 3) as 1 | 2 | 3];
  const x = BEST_EPOCH_P_TRAIN;
  if (pTrain <= x[0]) return table[0];
  for (let i = 1; i < x.length; i++) if (pTrain <= x[i]) return table[i - 1] + ((table[i] - table[i - 1]) * (pTrain - x[i - 1])) / (x[i] - x[i - 1]);
  return table[table.length - 1];
}

/** Validations a job is expected to run (early stopping only; none past the policy's stop). */
export function jobValidations(job: TrainJob): number {
  return job.policy === "early-stop" ? Math.ceil(policySteps(job) / validationInterval(job)) : 0;
}

/** Relative cost of a job, proportional to its multiply-adds (forward+backward ≈ 3 forwards). */
export function jobCost(job: TrainJob): number {
  const { train, evaluation } = jobCostParts(job);
  return train + evaluation;
}

/** The training and the evaluation parts of jobCost (validation counts as evaluation). */
export function jobCostParts(job: TrainJob): { train: number; evaluation: number } {
  const params = paramCount({ width: job.width, depth: job.depth });
  return {
    train: jobSteps(job) * Math.min(job.batch, job.n) * 3 * params,
    evaluation: ((evalPasses(job) + trajectoryPasses(job)) * TEST_SET_SIZE + jobValidations(job) * job.validation) * params,
  };
}

/** Forward passes over the test set a job's evaluation makes: p_eval × draws, summed over its modes (one draw in the magnitude modes). */
export function evalPasses(job: Pick<TrainJob, "evalMode" | "pEvals" | "masks">): number {
  return evalModesOf(job).reduce((s, m) => s + job.pEvals.length * (isRandomMode(m) ? job.masks : 1), 0);
}

/** The job of one grid point, with the config's hyper-parameters. */
export function makeJob(config: SweepConfig, point: { width: number; depth: number; pTrain: number; n: number; seed: number }): TrainJob {
  return {
    width: point.width,
    depth: point.depth,
    pTrain: point.pTrain,
    n: point.n,
    seed: point.seed,
    policy: config.policy,
    epochs: config.epochs,
    steps: config.steps,
    patience: config.patience,
    valEvery: config.valEvery,
    maxSteps: config.maxSteps,
    validation: config.validation,
    dataDraw: config.dataDraw,
    batch: config.batch,
    lr: config.lr,
    optimizer: config.optimizer,
    pEvals: [...config.pEval].sort((a, b) => a - b),
    evalMode: config.evalMode,
    masks: config.masks,
    rescale: config.rescale,
    // Only when set, so that the keys of jobs made before these options stay the same.
    ...(config.magnitudeRescale !== undefined ? { magnitudeRescale: config.magnitudeRescale } : {}),
    ...(config.magnitudeGlobal !== undefined ? { magnitudeGlobal: config.magnitudeGlobal } : {}),
    subsetSeed: config.subsetSeed,
    ...(config.trajectory ? { trajectory: config.trajectory } : {}),
    // Only when not mnist, so that the keys of mnist jobs stay those of before datasets existed.
    ...(config.dataset !== undefined && config.dataset !== "mnist" ? { dataset: config.dataset } : {}),
    ...(config.deformation !== undefined ? { deformation: { ...config.deformation } } : {}),
  };
}

/** All jobs of a config, largest first (ties by key, so the order is deterministic). */
export function planJobs(config: SweepConfig): PlannedJob[] {
  const jobs: PlannedJob[] = [];
  for (const width of config.widths)
    for (const depth of config.depths)
      for (const pTrain of config.pTrain)
        for (const n of config.sizes)
          for (const seed of config.seeds) {
            const job = makeJob(config, { width, depth, pTrain, n, seed });
            jobs.push({ key: jobKey(job), job, steps: jobSteps(job), cost: jobCost(job) });
          }
  return jobs.sort(byCostDescending);
}

export function byCostDescending(a: PlannedJob, b: PlannedJob): number {
  return b.cost - a.cost || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** Number of jobs a config plans, without building them. */
export function jobCount(config: SweepConfig): number {
  return config.widths.length * config.depths.length * config.pTrain.length * config.sizes.length * config.seeds.length;
}

/** One short line naming a job by its grid point, for logs. */
export function describeJob(job: TrainJob): string {
  return `${job.dataset && job.dataset !== "mnist" ? `${job.dataset} ` : ""}width ${job.width} depth ${job.depth} pTrain ${job.pTrain} N ${job.n} seed ${job.seed}`;
}
