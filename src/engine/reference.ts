/**
 * The reference engine: a plain, readable TypeScript FCN. It is the definition of what
 * mentia computes — the native engine must agree with it — not the fast path (about
 * 1 GFLOP/s). Layers are written out as X_forward / X_backward pairs over buffers that are
 * allocated once (and grown only when a larger batch arrives).
 *
 * Shapes: B batch, C in-features, OC out-features. Per linear layer l:
 *   inp (B,C), weight (OC,C) row-major, bias (OC), out (B,OC).
 */
import { MentiaError } from "../errors.js";
import { evaluatePruned, isPruningMode } from "./prune.js";
import { STREAM_EVAL_MASK, STREAM_EVAL_SAMPLE, STREAM_TRAIN_DROPOUT, streamKey, uniform, type StreamKey } from "./rng.js";
import { mean, stderrOfMean } from "./summary.js";
import {
  INPUT_SIZE,
  NUM_CLASSES,
  layerShapes,
  paramCount,
  type Dataset,
  type Engine,
  type EvalOptions,
  type EvalResult,
  type Network,
  type NetworkSpec,
  type OptimizerConfig,
  type TrainEpochOptions,
  type TrainEpochResult,
} from "./types.js";

// ---------------------------------------------------------------------------------------
// Layers

/** out = inp · weightᵀ + bias.   inp (B,C), weight (OC,C), bias (OC), out (B,OC). */
export function linear_forward(out: Float32Array, inp: Float32Array, weight: Float32Array, bias: Float32Array, B: number, C: number, OC: number): void {
  for (let b = 0; b < B; b++) {
    const ib = b * C;
    for (let o = 0; o < OC; o++) {
      const wo = o * C;
      let s = bias[o];
      for (let c = 0; c < C; c++) s += inp[ib + c] * weight[wo + c];
      out[b * OC + o] = s;
    }
  }
}

/** dweight += doutᵀ·inp, dbias += Σ_b dout, dinp = dout·weight (skipped when dinp is null). */
export function linear_backward(dinp: Float32Array | null, dweight: Float32Array, dbias: Float32Array, dout: Float32Array, inp: Float32Array, weight: Float32Array, B: number, C: number, OC: number): void {
  for (let b = 0; b < B; b++) {
    const ib = b * C;
    for (let o = 0; o < OC; o++) {
      const g = dout[b * OC + o];
      if (g === 0) continue;
      dbias[o] += g;
      const wo = o * C;
      for (let c = 0; c < C; c++) dweight[wo + c] += g * inp[ib + c];
    }
  }
  if (!dinp) return;
  dinp.fill(0, 0, B * C);
  for (let b = 0; b < B; b++) {
    const ib = b * C;
    for (let o = 0; o < OC; o++) {
      const g = dout[b * OC + o];
      if (g === 0) continue;
      const wo = o * C;
      for (let c = 0; c < C; c++) dinp[ib + c] += g * weight[wo + c];
    }
  }
}

/** act = relu(pre) · scale, where scale is the dropout factor (0 or 1/(1-p)) or null. */
export function relu_dropout_forward(act: Float32Array, pre: Float32Array, scale: Float32Array | null, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = pre[i] > 0 ? pre[i] : 0;
    act[i] = scale ? v * scale[i] : v;
  }
}

/** dpre = dact · scale · [pre > 0]  (in place over dact allowed). */
export function relu_dropout_backward(dpre: Float32Array, dact: Float32Array, pre: Float32Array, scale: Float32Array | null, n: number): void {
  for (let i = 0; i < n; i++) dpre[i] = pre[i] > 0 ? (scale ? dact[i] * scale[i] : dact[i]) : 0;
}

/**
 * Softmax cross-entropy per row. Writes dlogits = (softmax − onehot)/B when dlogits is
 * given; returns per-row losses in `losses` and correctness in `correct` (argmax, first max).
 */
export function crossentropy_forward_backward(logits: Float32Array, labels: Uint8Array, rowLabels: Int32Array | null, B: number, losses: Float64Array, correct: Uint8Array, dlogits: Float32Array | null): void {
  for (let b = 0; b < B; b++) {
    const off = b * NUM_CLASSES;
    const label = labels[rowLabels ? rowLabels[b] : b];
    let max = logits[off];
    let arg = 0;
    for (let k = 1; k < NUM_CLASSES; k++) if (logits[off + k] > max) { max = logits[off + k]; arg = k; }
    let sum = 0;
    for (let k = 0; k < NUM_CLASSES; k++) sum += Math.exp(logits[off + k] - max);
    losses[b] = Math.log(sum) + max - logits[off + label];
    correct[b] = arg === label ? 1 : 0;
    if (dlogits) for (let k = 0; k < NUM_CLASSES; k++) dlogits[off + k] = (Math.exp(logits[off + k] - max) / sum - (k === label ? 1 : 0)) / B;
  }
}

/**
 * Fills scale[0..count) with the dropout factor of units firstIndex..firstIndex+count of the
 * mask stream `key`: 0 if removed, else 1/(1-p) (or 1 without rescaling).
 */
export function dropout_scale(scale: Float32Array, key: StreamKey, p: number, rescale: boolean, count: number, firstIndex: number): void {
  const keep = rescale ? 1 / (1 - p) : 1;
  for (let i = 0; i < count; i++) scale[i] = uniform(key, firstIndex + i) < p ? 0 : keep;
}

// ---------------------------------------------------------------------------------------
// The network

class ReferenceNetwork implements Network {
  readonly paramCount: number;
  private readonly shapes: Array<[number, number]>;
  private readonly offsets: number[]; // start of W_l; b_l follows W_l
  private params: Float32Array;
  private readonly grad: Float32Array;
  private readonly m: Float32Array; // Adam first moment / SGD momentum buffer
  private readonly v: Float32Array;
  private t = 0;
  // activation buffers, per layer; grown with the batch
  private cap = 0;
  private acts: Float32Array[] = []; // acts[0] = input batch, acts[l+1] = output of layer l
  private pres: Float32Array[] = [];
  private scales: Float32Array[] = [];
  private dacts: Float32Array[] = [];
  private losses = new Float64Array(0);
  private correct = new Uint8Array(0);

  constructor(readonly spec: NetworkSpec, params: Float32Array, private readonly opt: OptimizerConfig, private readonly seed: number) {
    this.shapes = layerShapes(spec);
    this.paramCount = paramCount(spec);
    if (params.length !== this.paramCount) throw new Error(`expected ${this.paramCount} parameters, got ${params.length}`);
    this.params = Float32Array.from(params);
    this.grad = new Float32Array(this.paramCount);
    this.m = new Float32Array(this.paramCount);
    this.v = new Float32Array(this.paramCount);
    this.offsets = [];
    let off = 0;
    for (const [c, oc] of this.shapes) {
      this.offsets.push(off);
      off += c * oc + oc;
    }
  }

  getParams(): Float32Array {
    return Float32Array.from(this.params);
  }

  private snapshot: Float32Array | null = null;

  saveSnapshot(): void {
    if (this.snapshot) this.snapshot.set(this.params);
    else this.snapshot = Float32Array.from(this.params);
  }

  restoreSnapshot(): void {
    if (!this.snapshot) throw new Error("restoreSnapshot: no snapshot saved");
    this.params.set(this.snapshot);
  }

  setParams(params: Float32Array): void {
    if (params.length !== this.paramCount) throw new Error(`expected ${this.paramCount} parameters, got ${params.length}`);
    this.params.set(params);
  }

  dispose(): void {}

  private ensureCapacity(B: number): void {
    if (B <= this.cap) return;
    this.cap = B;
    this.acts = [new Float32Array(B * INPUT_SIZE), ...this.shapes.map(([, oc]) => new Float32Array(B * oc))];
    this.pres = this.shapes.map(([, oc]) => new Float32Array(B * oc));
    this.scales = this.shapes.map(([, oc]) => new Float32Array(B * oc));
    this.dacts = [new Float32Array(0), ...this.shapes.map(([, oc]) => new Float32Array(B * oc))];
    this.losses = new Float64Array(B);
    this.correct = new Uint8Array(B);
  }

  private weight(l: number): Float32Array {
    const [c, oc] = this.shapes[l];
    return this.params.subarray(this.offsets[l], this.offsets[l] + c * oc);
  }

  private bias(l: number): Float32Array {
    const [c, oc] = this.shapes[l];
    return this.params.subarray(this.offsets[l] + c * oc, this.offsets[l] + c * oc + oc);
  }

  private gatherInput(data: Dataset, rows: Int32Array, start: number, B: number): void {
    const x = this.acts[0];
    for (let b = 0; b < B; b++) x.set(data.x.subarray(rows[start + b] * INPUT_SIZE, (rows[start + b] + 1) * INPUT_SIZE), b * INPUT_SIZE);
  }

  /**
   * Forward through all layers. `maskFor(l)` fills scales[l] for hidden layer l and returns
   * true, or returns false for no removal in that layer.
   */
  private forward(B: number, maskFor: (l: number, scale: Float32Array) => boolean): Float32Array {
    const depth = this.spec.depth;
    for (let l = 0; l <= depth; l++) {
      const [c, oc] = this.shapes[l];
      const out = l < depth ? this.pres[l] : this.acts[l + 1];
      linear_forward(out, this.acts[l], this.weight(l), this.bias(l), B, c, oc);
      if (l < depth) {
        const scale = maskFor(l, this.scales[l]) ? this.scales[l] : null;
        relu_dropout_forward(this.acts[l + 1], this.pres[l], scale, B * oc);
        if (!scale) this.scales[l].fill(1, 0, B * oc);
      }
    }
    return this.acts[depth + 1];
  }

  private trainMasks(pTrain: number, step: number, B: number): (l: number, scale: Float32Array) => boolean {
    return (l, scale) => {
      if (pTrain === 0) return false;
      dropout_scale(scale, streamKey(this.seed, STREAM_TRAIN_DROPOUT, step, l), pTrain, true, B * this.spec.width, 0);
      return true;
    };
  }

  /** Forward + backward for one batch; leaves the mean-over-batch gradient in this.grad. Returns Σ per-row loss. */
  private forwardBackward(data: Dataset, rows: Int32Array, start: number, B: number, pTrain: number, step: number): number {
    this.ensureCapacity(B);
    this.gatherInput(data, rows, start, B);
    const depth = this.spec.depth;
    const logits = this.forward(B, this.trainMasks(pTrain, step, B));
    const dlogits = this.dacts[depth + 1];
    crossentropy_forward_backward(logits, data.y, rows.subarray(start, start + B), B, this.losses, this.correct, dlogits);
    this.grad.fill(0);
    for (let l = depth; l >= 0; l--) {
      const [c, oc] = this.shapes[l];
      const off = this.offsets[l];
      const dW = this.grad.subarray(off, off + c * oc);
      const db = this.grad.subarray(off + c * oc, off + c * oc + oc);
      const dout = this.dacts[l + 1];
      if (l < depth) relu_dropout_backward(dout, dout, this.pres[l], this.scales[l], B * oc);
      linear_backward(l > 0 ? this.dacts[l] : null, dW, db, dout, this.acts[l], this.weight(l), B, c, oc);
    }
    let sum = 0;
    for (let b = 0; b < B; b++) sum += this.losses[b];
    return sum;
  }

  private optimizerStep(): void {
    const { lr, beta1, beta2, eps, momentum } = this.opt;
    const p = this.params, g = this.grad, m = this.m, v = this.v;
    this.t++;
    if (this.opt.optimizer === "adam") {
      const bc1 = 1 - Math.pow(beta1, this.t);
      const bc2 = 1 - Math.pow(beta2, this.t);
      for (let i = 0; i < p.length; i++) {
        m[i] = beta1 * m[i] + (1 - beta1) * g[i];
        v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
        p[i] -= (lr * (m[i] / bc1)) / (Math.sqrt(v[i] / bc2) + eps);
      }
    } else {
      for (let i = 0; i < p.length; i++) {
        m[i] = this.t === 1 ? g[i] : momentum * m[i] + g[i];
        p[i] -= lr * m[i];
      }
    }
  }

  trainEpoch(data: Dataset, opts: TrainEpochOptions): TrainEpochResult {
    const { order, batch, pTrain, firstStep } = opts;
    const maxSteps = opts.maxSteps ?? Infinity;
    let lossSum = 0, samples = 0, steps = 0;
    for (let start = 0; start < order.length && steps < maxSteps; start += batch) {
      const B = Math.min(batch, order.length - start);
      lossSum += this.forwardBackward(data, order, start, B, pTrain, firstStep + steps);
      this.optimizerStep();
      samples += B;
      steps++;
    }
    return { meanLoss: samples > 0 ? lossSum / samples : NaN, steps, samples };
  }

  lossAndGradient(data: Dataset, rows: Int32Array, pTrain: number, step: number): { loss: number; grad: Float32Array } {
    const loss = this.forwardBackward(data, rows, 0, rows.length, pTrain, step) / rows.length;
    return { loss, grad: Float32Array.from(this.grad) };
  }

  evaluate(data: Dataset, opts: EvalOptions): EvalResult {
    const { pEval, mode, rescale } = opts;
    if (isPruningMode(mode)) return this.evaluateAll(data, [pEval], opts)[0];
    const K = pEval === 0 ? 1 : opts.masks;
    const batch = opts.batch ?? 1000;
    const width = this.spec.width;
    const rows = opts.rows ?? Int32Array.from({ length: data.n }, (_, i) => i);
    const n = rows.length;
    for (const r of rows) if (!(r >= 0 && r < data.n)) throw new MentiaError(`row index ${r} is out of range [0, ${data.n})`);
    const sampleLosses = new Float64Array(n); // per-sample, for K = 1 error bars
    const sampleCorrect = new Uint8Array(n);
    const maskLosses: number[] = [];
    const maskAccuracies: number[] = [];
    for (let k = 0; k < K; k++) {
      let lossSum = 0, correctSum = 0;
      for (let start = 0; start < n; start += batch) {
        const B = Math.min(batch, n - start);
        this.ensureCapacity(B);
        this.gatherInput(data, rows, start, B);
        const logits = this.forward(B, (l, scale) => {
          if (pEval === 0) return false;
          if (mode === "sample") {
            // element (row r, unit j) has index r·width + j, and rows start..start+B are contiguous
            dropout_scale(scale, streamKey(this.seed, STREAM_EVAL_SAMPLE, k, l), pEval, rescale, B * width, start * width);
          } else {
            dropout_scale(scale, streamKey(this.seed, STREAM_EVAL_MASK, k, l), pEval, rescale, width, 0);
            for (let b = 1; b < B; b++) scale.copyWithin(b * width, 0, width);
          }
          return true;
        });
        crossentropy_forward_backward(logits, data.y, rows.subarray(start, start + B), B, this.losses, this.correct, null);
        for (let b = 0; b < B; b++) {
          lossSum += this.losses[b];
          correctSum += this.correct[b];
          sampleLosses[start + b] = this.losses[b];
          sampleCorrect[start + b] = this.correct[b];
        }
      }
      maskLosses.push(lossSum / n);
      maskAccuracies.push(correctSum / n);
    }
    return summariseEval(maskLosses, maskAccuracies, opts.masks, pEval > 0, sampleLosses, sampleCorrect);
  }

  evaluateAll(data: Dataset, pEvals: readonly number[], opts: Omit<EvalOptions, "pEval">): EvalResult[] {
    const mode = opts.mode;
    if (isPruningMode(mode)) return evaluatePruned(this, this.seed, data, pEvals, { ...opts, mode }, undefined, (spec, params) => new ReferenceNetwork(spec, params, this.opt, this.seed));
    return pEvals.map((pEval) => this.evaluate(data, { ...opts, pEval }));
  }
}

/**
 * Means and standard errors of an evaluation: over the K draws/masks when K ≥ 2 and there
 * is removal; otherwise over test samples (the only remaining source of noise).
 */
export function summariseEval(maskLosses: number[], maskAccuracies: number[], K: number, removal: boolean, sampleLosses: Float64Array, sampleCorrect: Uint8Array): EvalResult {
  if (maskLosses.length === 1 && K > 1) {
    // p_eval = 0: every draw is the same network; replicate so callers always see K values.
    while (maskLosses.length < K) {
      maskLosses.push(maskLosses[0]);
      maskAccuracies.push(maskAccuracies[0]);
    }
  }
  const loss = mean(maskLosses), accuracy = mean(maskAccuracies);
  const overDraws = removal && K >= 2;
  return {
    loss,
    lossStderr: overDraws ? stderrOfMean(maskLosses, loss) : stderrOfMean(sampleLosses, mean(sampleLosses)),
    accuracy,
    accuracyStderr: overDraws ? stderrOfMean(maskAccuracies, accuracy) : stderrOfMean(sampleCorrect, mean(sampleCorrect)),
    maskLosses,
    maskAccuracies,
  };
}

export const referenceEngine: Engine = {
  name: "reference",
  createNetwork(spec, params, opt, seed) {
    return new ReferenceNetwork(spec, params, opt, seed);
  },
};
