import type { DatasetName } from "../data/datasets.js";
import type { DeformationParams } from "../data/deform.js";
import type { DataDraw } from "../data/mnist.js";
import type { EvalMode, OptimizerName } from "../engine/types.js";

/**
 * How long a job trains at size N — part of the measurement, since the test cross-entropy of
 * an unregularised network grows with training length (docs/protocol.md measures each):
 * - `early-stop` (default): validate every `valEvery` steps on the held-out validation split
 *   (no removal), stop after `patience` validations without improvement or at `maxSteps`, and
 *   return the network of the best validation step;
 * - `epochs`: exactly `epochs` passes over the N samples;
 * - `steps`: exactly `steps` optimisation steps;
 * - `epochs-min-steps`: `epochs` passes, but at least `steps` steps (mentia ≤ 0.1's rule).
 */
export type TrainingPolicy = "early-stop" | "epochs" | "steps" | "epochs-min-steps";
export const TRAINING_POLICIES: readonly TrainingPolicy[] = ["early-stop", "epochs", "steps", "epochs-min-steps"];

/** Steps between validations: a count, or "half-epoch" (max(½ epoch, 10)) / "epoch" (max(1 epoch, 50)). */
export type ValEvery = number | "half-epoch" | "epoch";
export const VAL_EVERY_RULES: readonly string[] = ["half-epoch", "epoch"];

/**
 * One training run and its evaluations: the unit of work of a sweep. Everything that
 * changes the numbers is in here, so a stable hash of it is the job's key.
 */
export interface TrainJob {
  width: number;
  depth: number;
  pTrain: number;
  /** Training-set size N: the first N of the job's permutation of the training images (mnist-deformed: of its stream). */
  n: number;
  /** The dataset (src/data/datasets.ts). Absent = mnist, so the keys of jobs made before datasets existed stay the same. */
  dataset?: DatasetName;
  /** mnist-deformed only: the deformation of the samples past the base images (src/data/deform.ts). */
  deformation?: DeformationParams;
  seed: number;
  policy: TrainingPolicy;
  /** Passes over the N samples (`epochs`, `epochs-min-steps`). */
  epochs: number;
  /** Optimisation steps (`steps`: exactly; `epochs-min-steps`: at least). */
  steps: number;
  /** `early-stop`: validations without improvement before stopping. */
  patience: number;
  /** `early-stop`: steps between validations, or a rule (validationInterval in train.ts). */
  valEvery: ValEvery;
  /** `early-stop`: hard cap on the steps trained. */
  maxSteps: number;
  /** Images held out of the 60,000 for validation (the last ones of the permutation). */
  validation: number;
  /** `per-seed`: each seed draws its own images; `shared`: one permutation for the study. */
  dataDraw: DataDraw;
  /** Seed of the shared permutation, and mixed into every per-seed one. */
  subsetSeed: number;
  batch: number;
  lr: number;
  optimizer: OptimizerName;
  /** Removal rates at evaluation; every one is evaluated on the same trained network. */
  pEvals: number[];
  /** How units are removed at evaluation (src/engine/types.ts); a list evaluates the one trained network in every mode. */
  evalMode: EvalMode | EvalMode[];
  masks: number;
  /** Random modes: survivors scaled by 1/(1-p_eval). */
  rescale: boolean;
  /** Magnitude modes: survivors scaled by 1/(1-p_eval) too (absent = false). */
  magnitudeRescale?: boolean;
  /** weight-magnitude: one |w| threshold across layers (absent = false, one per layer). */
  magnitudeGlobal?: boolean;
  /** Record the test loss under removal along the training (absent = no trajectory; src/train/trajectory.ts). */
  trajectory?: TrajectorySpec;
}

/**
 * What a trajectory records: `points` checkpoints log-spaced in optimisation steps from the
 * first validation point (validationInterval; every checkpoint a multiple of it) to `horizon` (default: the step budget, i.e.
 * maxSteps for early stopping, or extendSteps when larger), those reached by the training, plus the
 * best-validation step (the weights the job evaluates) and the last step; at each, the test
 * set at every `pEval` with `masks` draws in `evalMode` (default: the job's first mode).
 * `extendFactor` / `extendSteps` keep training after the policy stops (to extendFactor × the
 * stopping step, or to extendSteps steps, whichever is later) for the trajectory only: the
 * job's own evaluation still uses the policy's weights.
 */
export interface TrajectorySpec {
  points: number;
  pEval: number[];
  masks: number;
  evalMode?: EvalMode;
  horizon?: number;
  extendFactor?: number;
  extendSteps?: number;
}

/** One checkpoint of a trajectory: the test set under removal at one training step. */
export interface TrajectoryPoint {
  step: number;
  /** Training samples seen so far (sum of the mini-batch sizes). */
  samples: number;
  /** The weights of the best validation step (the ones the job evaluates). */
  best: boolean;
  /** Validation cross-entropy without removal where early stopping validated at this step, else null. */
  valLoss: number | null;
  /** One per spec pEval, in its order. */
  evals: Array<{ pEval: number; loss: number; lossStderr: number; accuracy: number; maskLosses: number[] }>;
}

/** A job's trajectory: its checkpoints in step order (the best step may repeat a grid step's weights). */
export interface Trajectory {
  evalMode: EvalMode;
  masks: number;
  /** Steps in one epoch (ceil(N / batch)), to read the steps as epochs. */
  stepsPerEpoch: number;
  /** Where the policy stopped and where the trajectory's training ended (> stopStep when extended). */
  stopStep: number;
  endStep: number;
  bestStep: number;
  /** Set when the training past the policy's stop diverged at this step: the trajectory ends before it (the job's result stands). */
  divergedAt?: number;
  /** Seconds spent evaluating the checkpoints on the test set (part of the job's trainSeconds). */
  evalSeconds: number;
  points: TrajectoryPoint[];
}

/** The eval modes of a job, in its order. */
export function evalModesOf(job: Pick<TrainJob, "evalMode">): EvalMode[] {
  return Array.isArray(job.evalMode) ? job.evalMode : [job.evalMode];
}

export interface JobEval {
  evalMode: EvalMode;
  pEval: number;
  loss: number;
  lossStderr: number;
  accuracy: number;
  accuracyStderr: number;
  maskLosses: number[];
  maskAccuracies: number[];
}

/** Why training ended. */
export type StopReason = "patience" | "max-steps" | "budget";

/** What the training-length policy did (the numbers behind "how long we trained at N"). */
export interface TrainingRecord {
  /** Steps trained (the network returned may be an earlier one: `bestStep`). */
  steps: number;
  /** Step of the weights evaluated (= steps unless early stopping restored earlier ones). */
  bestStep: number;
  /** Validation cross-entropy (no removal) of the weights evaluated; null without a split. */
  bestValLoss: number | null;
  validations: number;
  stoppedBy: StopReason;
  /** mnist-deformed past its base: deformed samples generated and the seconds it took (part of the training time). */
  generated?: { samples: number; seconds: number };
}

export interface JobResult {
  job: TrainJob;
  engine: string;
  trainSeconds: number;
  evalSeconds: number;
  steps: number;
  finalTrainLoss: number;
  training: TrainingRecord;
  evals: JobEval[];
  /** Only for jobs with a trajectory spec. */
  trajectory?: Trajectory;
}
