import type { EvalMode, OptimizerName } from "../engine/types.js";

/**
 * One training run and its evaluations: the unit of work of a sweep. Everything that
 * changes the numbers is in here, so a stable hash of it is the job's key.
 */
export interface TrainJob {
  width: number;
  depth: number;
  pTrain: number;
  /** Training-set size N: the first N of the seeded permutation of the 60k images. */
  n: number;
  seed: number;
  /** Training length: `epochs` passes over the N samples, but at least `minSteps` steps. */
  epochs: number;
  minSteps: number;
  batch: number;
  lr: number;
  optimizer: OptimizerName;
  /** Removal rates at evaluation; every one is evaluated on the same trained network. */
  pEvals: number[];
  evalMode: EvalMode;
  masks: number;
  rescale: boolean;
  /** Seed of the permutation that defines the nested subsets (same for all jobs of a study). */
  subsetSeed: number;
}

export interface JobEval {
  pEval: number;
  loss: number;
  lossStderr: number;
  accuracy: number;
  accuracyStderr: number;
  maskLosses: number[];
  maskAccuracies: number[];
}

export interface JobResult {
  job: TrainJob;
  engine: string;
  trainSeconds: number;
  evalSeconds: number;
  steps: number;
  finalTrainLoss: number;
  evals: JobEval[];
}
