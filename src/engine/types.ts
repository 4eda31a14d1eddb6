/**
 * The engine interface. Two engines implement it: `reference.ts` (plain TypeScript, the
 * readable definition of what is computed) and `native/` (C++ addon, the fast one). Tests
 * check that they agree; everything above the engine (train, sweep) sees only this file.
 *
 * Network: 784 → depth × width (ReLU, dropout) → 10 logits, softmax cross-entropy.
 * Parameter layout (flat Float32Array, PyTorch's nn.Linear order), for layer l = 0..depth:
 *   W_l (out_l × in_l, row-major), then b_l (out_l).
 * in_0 = 784, out_l = width for l < depth, out_depth = 10.
 */

export const INPUT_SIZE = 784;
export const NUM_CLASSES = 10;

export type EngineName = "reference" | "native";
export type OptimizerName = "adam" | "sgd";
/**
 * How units are removed at evaluation (src/engine/prune.ts defines the pruning modes):
 * - `sample`: a fresh random set of hidden neurons per test sample (dropout at test time);
 * - `mask`: one random set of hidden neurons per draw, for the whole test set;
 * - `neuron-magnitude`: per hidden layer the round(p_eval·width) neurons of smallest
 *   importance (prune.ts: neuronScores), deterministic;
 * - `weight-random`: every weight of every layer independently with probability p_eval, per draw;
 * - `weight-magnitude`: per layer (or across layers: `magnitudeGlobal`) the round(p_eval·count)
 *   weights of smallest |w|, deterministic.
 */
export type EvalMode = "sample" | "mask" | "neuron-magnitude" | "weight-random" | "weight-magnitude";
export const EVAL_MODES: readonly EvalMode[] = ["sample", "mask", "neuron-magnitude", "weight-random", "weight-magnitude"];

export interface NetworkSpec {
  width: number;
  depth: number;
}

export interface OptimizerConfig {
  optimizer: OptimizerName;
  lr: number;
  /** Adam β1 (also SGD momentum when optimizer = "sgd"). */
  beta1: number;
  beta2: number;
  eps: number;
  /** Only for SGD: momentum coefficient (PyTorch semantics, dampening 0). */
  momentum: number;
}

export const DEFAULT_OPTIMIZER: OptimizerConfig = {
  optimizer: "adam",
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  momentum: 0.9,
};

/** Images as float32 in [0,1] (n × 784, row-major) and labels 0..9. Never changed once made:
 *  engines may keep what they derive from them while they are handed the same arrays. */
export interface Dataset {
  x: Float32Array;
  y: Uint8Array;
  n: number;
}

export interface TrainEpochOptions {
  /** Row indices into the dataset, in the order to visit them this epoch. */
  order: Int32Array;
  batch: number;
  pTrain: number;
  /** Global optimisation step of the first batch; mask keys use it. */
  firstStep: number;
  /** Stop after this many steps (for step-budgeted training); default: the whole epoch. */
  maxSteps?: number;
}

export interface TrainEpochResult {
  /** Mean training cross-entropy over the samples visited (with dropout active). */
  meanLoss: number;
  steps: number;
  samples: number;
}

export interface EvalOptions {
  pEval: number;
  mode: EvalMode;
  /** Number of independent draws (sample, weight-random) or fixed masks (mask), K ≥ 1; the magnitude modes make one. */
  masks: number;
  /** Random modes (sample, mask, weight-random): scale survivors by 1/(1-pEval) (inverted dropout); false = plain removal. */
  rescale: boolean;
  /** Magnitude modes: scale survivors by 1/(1-pEval) too (default false: kept as they are). */
  magnitudeRescale?: boolean;
  /** weight-magnitude: one |w| threshold across all layers instead of one per layer (default false). */
  magnitudeGlobal?: boolean;
  /** Mini-batch size used internally; does not change the result. */
  batch?: number;
  /**
   * Layer 0 from each sample's nonzero pixels even where the engine would use its dense path
   * (the same numbers; the native engine's choice for the pruning modes, whose first-layer
   * weights change per evaluation). The reference engine ignores it.
   */
  sparseInput?: boolean;
  /** Evaluate only these rows of the data, in this order (no copy of the images); default all.
   *  The native engine keeps their nonzero pixels between calls with the very same `rows` and
   *  `data.x` arrays (early stopping's validations): do not change their contents in between. */
  rows?: Int32Array;
}

export interface EvalResult {
  /** Mean test cross-entropy over all draws/masks. */
  loss: number;
  /** Standard error of `loss` over draws/masks (over samples when K = 1). */
  lossStderr: number;
  accuracy: number;
  accuracyStderr: number;
  /** Per draw/mask mean loss and accuracy (length K). */
  maskLosses: number[];
  maskAccuracies: number[];
}

export interface Network {
  readonly spec: NetworkSpec;
  readonly paramCount: number;
  /** Copy of the parameters (layout above). */
  getParams(): Float32Array;
  setParams(params: Float32Array): void;
  /** Keeps a copy of the current parameters inside the engine (early stopping's best weights). */
  saveSnapshot(): void;
  /** Puts the parameters of the last saveSnapshot() back; an error if none was saved. */
  restoreSnapshot(): void;
  /** One pass over `order` in mini-batches: forward, dropout, backward, optimiser step. */
  trainEpoch(data: Dataset, opts: TrainEpochOptions): TrainEpochResult;
  /**
   * Loss and gradient (mean over the given rows) with the training-dropout masks of step
   * `step`, without updating anything. Used by the gradient and agreement tests.
   */
  lossAndGradient(data: Dataset, rows: Int32Array, pTrain: number, step: number): { loss: number; grad: Float32Array };
  /** Test loss/accuracy with neurons removed at rate pEval. */
  evaluate(data: Dataset, opts: EvalOptions): EvalResult;
  /**
   * evaluate() at every rate in `pEvals` (other options shared): result i is exactly
   * evaluate(data, { ...opts, pEval: pEvals[i] }). The native engine does it in one pass over
   * the data (layer 0's product computed once per chunk for every p_eval and draw).
   */
  evaluateAll(data: Dataset, pEvals: readonly number[], opts: Omit<EvalOptions, "pEval">): EvalResult[];
  /** Frees native memory (no-op for the reference engine). */
  dispose(): void;
}

export interface Engine {
  readonly name: EngineName;
  /** `params` from initParams() (init is shared so engines start identical). */
  createNetwork(spec: NetworkSpec, params: Float32Array, opt: OptimizerConfig, seed: number): Network;
}

/** Sizes of the linear layers: [[in, out], ...]. */
export function layerShapes(spec: NetworkSpec): Array<[number, number]> {
  const shapes: Array<[number, number]> = [];
  let fanIn = INPUT_SIZE;
  for (let l = 0; l < spec.depth; l++) {
    shapes.push([fanIn, spec.width]);
    fanIn = spec.width;
  }
  shapes.push([fanIn, NUM_CLASSES]);
  return shapes;
}

export function paramCount(spec: NetworkSpec): number {
  return layerShapes(spec).reduce((s, [i, o]) => s + i * o + o, 0);
}
