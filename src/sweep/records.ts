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
