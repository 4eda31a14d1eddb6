import type { EvalMode } from "../engine/types.js";

/**
 * One row of results: a trained network (job) evaluated in one mode at one p_eval. This is what the
 * store gives to analysis and export; analysis needs nothing else.
 */
export interface EvalRecord {
  jobKey: string;
  width: number;
  depth: number;
  pTrain: number;
  n: number;
  seed: number;
  /** How units were removed (absent: one mode, as in records made by hand or before modes). */
  evalMode?: EvalMode;
  pEval: number;
  loss: number;
  lossStderr: number;
  accuracy: number;
  /** Per-mask (or per-draw) mean losses, for resampling. */
  maskLosses: number[];
}

/**
 * One checkpoint of a finished job's trajectory (src/train/trajectory.ts) at one p_eval: what
 * the store gives to the slice analysis (src/analysis/slice.ts) and `export --trajectory`. Its
 * loss fields are those of an EvalRecord at that point of the training.
 */
export interface TrajectoryRecord extends EvalRecord {
  evalMode: EvalMode;
  /** Optimisation steps, epochs (steps / ceil(N / batch)) and training samples seen at the checkpoint. */
  step: number;
  epoch: number;
  samples: number;
  /** The best-validation weights (what the job itself evaluates). */
  best: boolean;
  /** Where the policy stopped (steps) and where the trajectory's training ended. */
  stopStep: number;
  endStep: number;
  valLoss: number | null;
}
