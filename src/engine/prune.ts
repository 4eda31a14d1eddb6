/**
 * The pruning evaluation modes, shared by both engines: each (p_eval, draw) is a pruned copy
 * of the parameters, evaluated by the engine without removal (p_eval 0) and then put back.
 * One module computes what is removed, so the engines agree by construction.
 *
 * - `neuron-magnitude`: in each hidden layer, the round(p_eval·width) neurons of smallest
 *   importance ‖incoming weights‖₂·‖outgoing weights‖₂ (neuronScores; chosen over the mean
 *   activation on training images by measurement, docs/pruning.md) are removed: their
 *   incoming weights and bias are zeroed, so under ReLU their activation is exactly 0.
 *   Deterministic, one draw.
 * - `weight-random`: every weight of every layer (784 → hidden, hidden → hidden, hidden → 10)
 *   is removed independently with probability p_eval (draw k: stream STREAM_EVAL_WEIGHT,
 *   k, layer; element = index in W_l), K draws. Biases are kept.
 * - `weight-magnitude`: in each layer, the round(p_eval·count) weights of smallest |w|
 *   (ties: lower index first); `magnitudeGlobal`: the round(p_eval·total) smallest |w| over
 *   all layers at once. Biases are kept. Deterministic, one draw.
 *
 * Rescaling: weight-random multiplies surviving weights by 1/(1−p_eval) when `rescale` (as
 * `sample` and `mask` do with surviving neurons); the magnitude modes keep survivors as they
 * are unless `magnitudeRescale` (neuron-magnitude then scales every hidden activation by
 * 1/(1−p_eval), i.e. the weights of the layers after each hidden layer, exactly like `mask`
 * mode; weight-magnitude scales the surviving weights). Inputs and output neurons are never
 * removed (as in `sample` and `mask`); the weight modes remove weights of every layer.
 */
import { STREAM_EVAL_WEIGHT, streamKey, uniform } from "./rng.js";
import { mean, stderrOfMean } from "./summary.js";
import { layerShapes, paramCount, type Dataset, type EvalMode, type EvalOptions, type EvalResult, type Network, type NetworkSpec } from "./types.js";

export type PruningMode = "neuron-magnitude" | "weight-random" | "weight-magnitude";
export const PRUNING_MODES: readonly PruningMode[] = ["neuron-magnitude", "weight-random", "weight-magnitude"];

export function isPruningMode(mode: EvalMode): mode is PruningMode {
  return (PRUNING_MODES as readonly string[]).includes(mode);
}

/** Whether a mode draws at random (K draws, `rescale`) or removes by magnitude (one draw, `magnitudeRescale`). */
export function isRandomMode(mode: EvalMode): boolean {
  return mode === "sample" || mode === "mask" || mode === "weight-random";
}

/** Units removed out of `count` at rate p: round(p·count) (halves round up). */
export function removedCount(p: number, count: number): number {
  return Math.round(p * count);
}

/** Where W_l and b_l start in the flat parameter vector, with the layer's shape. */
export function layerOffsets(spec: NetworkSpec): Array<{ w: number; b: number; inp: number; out: number }> {
  const out: Array<{ w: number; b: number; inp: number; out: number }> = [];
  let off = 0;
  for (const [c, oc] of layerShapes(spec)) {
    out.push({ w: off, b: off + c * oc, inp: c, out: oc });
    off += c * oc + oc;
  }
  return out;
}

/**
 * Importance of each neuron of hidden layer l: ‖W_l[j,:]‖₂ · ‖W_{l+1}[:,j]‖₂ (incoming times
 * outgoing weight norms; biases not counted). One array per hidden layer.
 */
export function neuronScores(spec: NetworkSpec, params: Float32Array): Float64Array[] {
  const L = layerOffsets(spec);
  const scores: Float64Array[] = [];
  for (let l = 0; l < spec.depth; l++) {
    const { w, inp } = L[l];
    const next = L[l + 1];
    const s = new Float64Array(spec.width);
    for (let j = 0; j < spec.width; j++) {
      let a = 0;
      for (let c = 0; c < inp; c++) a += params[w + j * inp + c] ** 2;
      let b = 0;
      for (let o = 0; o < next.out; o++) b += params[next.w + o * next.inp + j] ** 2;
      s[j] = Math.sqrt(a) * Math.sqrt(b);
    }
    scores.push(s);
  }
  return scores;
}

/**
 * The alternative score measured against neuronScores (docs/pruning.md): mean activation
 * (post-ReLU, so |a| = a) of each hidden neuron of the unpruned network over `data`.
 */
export function activationScores(spec: NetworkSpec, params: Float32Array, data: Dataset): Float64Array[] {
  const L = layerOffsets(spec);
  const sums = Array.from({ length: spec.depth }, () => new Float64Array(spec.width));
  let act = new Float64Array(0);
  for (let r = 0; r < data.n; r++) {
    let inp: ArrayLike<number> = data.x.subarray(r * L[0].inp, (r + 1) * L[0].inp);
    for (let l = 0; l < spec.depth; l++) {
      const { w, b, inp: c, out: oc } = L[l];
      act = new Float64Array(oc);
      for (let o = 0; o < oc; o++) {
        let s = params[b + o];
        for (let k = 0; k < c; k++) s += inp[k] * params[w + o * c + k];
        act[o] = s > 0 ? s : 0;
        sums[l][o] += act[o];
      }
      inp = act;
    }
  }
  return sums.map((s) => s.map((v) => v / data.n));
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
const INDEX_BITS = 21;

/** Indices 0..n-1 sorted by key (≥ 0) ascending, ties by index. */
function argsortAscending(key: ArrayLike<number>): Uint32Array {
  const n = key.length;
  if (key instanceof Float32Array && n <= 1 << INDEX_BITS) {
    // Fast path (|w|): a non-negative float32's bits order like its value; bits·2^21 + index
    // is an exact double (< 2^53), and a Float64Array sorts numerically without a comparator.
    const packed = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      F32[0] = key[i];
      packed[i] = U32[0] * (1 << INDEX_BITS) + i;
    }
    packed.sort();
    const idx = new Uint32Array(n);
    for (let i = 0; i < n; i++) idx[i] = packed[i] % (1 << INDEX_BITS);
    return idx;
  }
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return idx.sort((a, b) => key[a] - key[b] || a - b);
}

/**
 * The pruned parameters of one network under one mode: `params(pEval, draw)` returns a new
 * vector (the original when pEval is 0). Magnitude orders are sorted once, at construction.
 */
export class Pruner {
  private readonly L: ReturnType<typeof layerOffsets>;
  /** neuron-magnitude: per hidden layer, neurons by ascending score. */
  private neuronOrder: Uint32Array[] = [];
  /** weight-magnitude: per layer (or one, global: indices into the concatenated weights), weights by ascending |w|. */
  private weightOrder: Uint32Array[] = [];

  constructor(
    readonly spec: NetworkSpec,
    readonly original: Float32Array,
    readonly mode: PruningMode,
    readonly seed: number,
    readonly opts: Pick<EvalOptions, "rescale" | "magnitudeRescale" | "magnitudeGlobal">,
    scores?: Float64Array[],
  ) {
    this.L = layerOffsets(spec);
    if (mode === "neuron-magnitude") this.neuronOrder = (scores ?? neuronScores(spec, original)).map(argsortAscending);
    if (mode === "weight-magnitude") {
      const abs = this.L.map(({ w, inp, out }) => original.subarray(w, w + inp * out).map(Math.abs));
      if (opts.magnitudeGlobal) {
        const all = new Float32Array(abs.reduce((a, x) => a + x.length, 0));
        let o = 0;
        for (const a of abs) (all.set(a, o), (o += a.length));
        this.weightOrder = [argsortAscending(all)];
      } else this.weightOrder = abs.map(argsortAscending);
    }
  }

  /** neuron-magnitude: the surviving neurons of each hidden layer at pEval, ascending. */
  kept(pEval: number): number[][] {
    return this.neuronOrder.map((order) => [...order.subarray(removedCount(pEval, order.length))].sort((a, b) => a - b));
  }

  /** Draws per p_eval: K for weight-random (1 at p_eval 0), else 1. */
  draws(pEval: number, masks: number): number {
    return this.mode === "weight-random" && pEval > 0 ? masks : 1;
  }

  params(pEval: number, draw: number): Float32Array {
    const p = Float32Array.from(this.original);
    if (pEval === 0) return p;
    const random = this.mode === "weight-random";
    const scale = (random ? this.opts.rescale : this.opts.magnitudeRescale ?? false) ? 1 / (1 - pEval) : 1;
    const L = this.L;
    if (this.mode === "neuron-magnitude") {
      for (let l = 0; l < this.spec.depth; l++) {
        const { w, b, inp } = L[l];
        const order = this.neuronOrder[l];
        const r = removedCount(pEval, order.length);
        for (let i = 0; i < r; i++) {
          const j = order[i];
          p.fill(0, w + j * inp, w + (j + 1) * inp);
          p[b + j] = 0;
        }
        if (scale !== 1) {
          const nx = L[l + 1];
          for (let i = nx.w; i < nx.w + nx.inp * nx.out; i++) p[i] *= scale;
        }
      }
    } else if (random) {
      for (let l = 0; l < L.length; l++) {
        const { w, inp, out } = L[l];
        const key = streamKey(this.seed, STREAM_EVAL_WEIGHT, draw, l);
        for (let i = 0; i < inp * out; i++) p[w + i] = uniform(key, i) < pEval ? 0 : p[w + i] * scale;
      }
    } else {
      // weight-magnitude: zero the smallest, then scale the rest (zeros stay zero).
      const starts = this.L.map((x) => x.w);
      if (this.opts.magnitudeGlobal) {
        const order = this.weightOrder[0];
        const cum: number[] = [];
        let tot = 0;
        for (const x of L) (cum.push(tot), (tot += x.inp * x.out));
        const r = removedCount(pEval, order.length);
        for (let i = 0; i < r; i++) {
          const g = order[i];
          let l = L.length - 1;
          while (cum[l] > g) l--;
          p[starts[l] + g - cum[l]] = 0;
        }
      } else {
        for (let l = 0; l < L.length; l++) {
          const order = this.weightOrder[l];
          const r = removedCount(pEval, order.length);
          for (let i = 0; i < r; i++) p[starts[l] + order[i]] = 0;
        }
      }
      if (scale !== 1) for (const { w, inp, out } of L) for (let i = w; i < w + inp * out; i++) p[i] *= scale;
    }
    return p;
  }
}

/**
 * neuron-magnitude at pEval as a narrower network: the surviving neurons of each hidden layer
 * (every layer keeps width − round(p·width)) with their weights, in their order, scaled as
 * params() scales them. The same function as params(pEval, 0) computes (removed neurons
 * contribute exact zeros there), at the cost of a network of the surviving width. Null when
 * nothing is removed or nothing survives.
 */
export function compactNeurons(pruner: Pruner, pEval: number): { spec: NetworkSpec; params: Float32Array } | null {
  if (pruner.mode !== "neuron-magnitude" || pEval === 0) return null;
  const { spec } = pruner;
  const r = removedCount(pEval, spec.width);
  if (r === 0 || r === spec.width) return null;
  const full = pruner.params(pEval, 0);
  const L = layerOffsets(spec);
  // Survivors of each hidden layer: the neurons whose bias and incoming weights are not all zeroed by params().
  const keep = pruner.kept(pEval);
  const narrow: NetworkSpec = { width: spec.width - r, depth: spec.depth };
  const out = new Float32Array(paramCount(narrow));
  let o = 0;
  for (let l = 0; l <= spec.depth; l++) {
    const { w, b, inp } = L[l];
    const rows = l < spec.depth ? keep[l] : Array.from({ length: L[l].out }, (_, j) => j);
    const cols = l > 0 ? keep[l - 1] : null;
    for (const j of rows) {
      if (cols) for (const c of cols) out[o++] = full[w + j * inp + c];
      else {
        out.set(full.subarray(w + j * inp, w + (j + 1) * inp), o);
        o += inp;
      }
    }
    for (const j of rows) out[o++] = full[b + j];
  }
  return { spec: narrow, params: out };
}

/**
 * evaluateAll() of a pruning mode on any engine: for each p_eval and draw, the pruned
 * parameters are evaluated without removal; the network's parameters are restored after.
 * Errors: over the K draws (weight-random, K ≥ 2, p_eval > 0), else over test samples.
 */
export function evaluatePruned(
  net: Network,
  seed: number,
  data: Dataset,
  pEvals: readonly number[],
  opts: Omit<EvalOptions, "pEval"> & { mode: PruningMode },
  scores?: Float64Array[],
  /** The engine's own networks of another shape (same optimiser and seed): neuron-magnitude then evaluates the narrower network. */
  narrow?: (spec: NetworkSpec, params: Float32Array) => Network,
): EvalResult[] {
  const original = net.getParams();
  const pruner = new Pruner(net.spec, original, opts.mode, seed, opts, scores);
  const plain = { mode: "mask" as const, masks: 1, rescale: false, batch: opts.batch };
  // Pruned networks (p_eval > 0): layer 0 from the nonzero pixels where the engine can (native).
  const pruned = { ...plain, sparseInput: true };
  try {
    return pEvals.map((pEval) => {
      const K = pruner.draws(pEval, opts.masks);
      const rs: EvalResult[] = [];
      const compact = narrow ? compactNeurons(pruner, pEval) : null;
      if (compact && narrow) {
        const small = narrow(compact.spec, compact.params);
        try {
          rs.push(small.evaluateAll(data, [0], pruned)[0]);
        } finally {
          small.dispose();
        }
      } else {
        for (let k = 0; k < K; k++) {
          net.setParams(pruner.params(pEval, k));
          rs.push(net.evaluateAll(data, [0], pEval > 0 ? pruned : plain)[0]);
        }
      }
      if (K === 1) {
        // p_eval 0 replicates its one value K times, as `sample` and `mask` do.
        const reps = pEval === 0 ? opts.masks : 1;
        return { ...rs[0], maskLosses: Array(reps).fill(rs[0].loss), maskAccuracies: Array(reps).fill(rs[0].accuracy) };
      }
      const maskLosses = rs.map((r) => r.loss), maskAccuracies = rs.map((r) => r.accuracy);
      const loss = mean(maskLosses), accuracy = mean(maskAccuracies);
      return { loss, lossStderr: stderrOfMean(maskLosses, loss), accuracy, accuracyStderr: stderrOfMean(maskAccuracies, accuracy), maskLosses, maskAccuracies };
    });
  } finally {
    net.setParams(original);
  }
}
