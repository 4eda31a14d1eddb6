/**
 * The native engine: a thin TypeScript face over the C++ addon (build/Release/mentia_native.node,
 * built by `npm install` via scripts/build-native.js). Whole training epochs and evaluations
 * run inside the addon; this file only validates arguments, passes typed arrays through
 * without copying, and turns the addon's sums into the interface's results.
 *
 * `loadNativeEngine()` returns null (and remembers why) when the addon is missing or fails
 * to load, so callers can fall back to the reference engine; it throws a MentiaError when
 * MENTIA_ISA asks for an instruction-set variant this CPU (or build) cannot run.
 *
 * Instruction sets: the addon holds up to three compiled variants (generic, avx2 = AVX2+FMA,
 * avx512) and runs the best one the CPU supports, or the one MENTIA_ISA names. avx2 and
 * avx512 give bit-identical numbers (same reduction order, FMA in both); generic (no FMA)
 * differs in the last bits.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { MentiaError } from "../../errors.js";
import { layer0PathFor, type Layer0Path } from "../layer0.js";
import { evaluatePruned, isPruningMode } from "../prune.js";
import { summariseEval } from "../reference.js";
import {
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
} from "../types.js";

/** The addon's own interface (src/engine/native/addon.cc). */
interface NativeNetHandle {
  paramCount(): number;
  getParams(): Float32Array;
  setParams(params: Float32Array): void;
  saveSnapshot(): void;
  restoreSnapshot(): void;
  train(x: Float32Array, y: Uint8Array, n: number, order: Int32Array, batch: number, pTrain: number, firstStep: number, maxSteps: number, reuseRows?: boolean): Float64Array;
  lossAndGradient(x: Float32Array, y: Uint8Array, n: number, rows: Int32Array, pTrain: number, step: number, gradOut: Float32Array): number;
  evaluate(x: Float32Array, y: Uint8Array, n: number, pEval: number, maskMode: boolean, rescale: boolean, batch: number, masks: number, sampleLoss?: Float64Array, sampleCorrect?: Uint8Array): Float64Array;
  evaluateAll(x: Float32Array, y: Uint8Array, n: number, pEvals: Float64Array, maskMode: boolean, rescale: boolean, batch: number, masks: number, sampleLoss: Float64Array, sampleCorrect: Uint8Array, sparseInput?: boolean, rows?: Int32Array, reuseRows?: boolean): Float64Array;
  setLayer0Sparse(sparse: boolean): void;
  dispose(): void;
}

/** MENTIA_ISA's values. */
export type NativeIsaName = "generic" | "avx2" | "avx512";

interface NativeAddon {
  /** Instruction set of the compute variant chosen at load time: "avx512", "avx2+fma" or
   *  "generic"; "" when MENTIA_ISA cannot be honoured (isaError says why). */
  isa: string;
  isaError: string;
  /** The MENTIA_ISA values this build and CPU can run, best first. */
  isas: NativeIsaName[];
  NativeNet: new (width: number, depth: number, adam: boolean, lr: number, beta1: number, beta2: number, eps: number, momentum: number, seed: number, params: Float32Array, isa?: NativeIsaName) => NativeNetHandle;
  gemmGflops(shape: number, M: number, N: number, K: number, seconds: number, isa?: NativeIsaName): number;
  fmaPeak(seconds: number, isa?: NativeIsaName): number;
  whyNot(isa: string): string;
  setTuning(which: number, kc: number, mc: number, nc: number, packB: number, rowsOuter: number, packAMinN: number): void;
}

/** Where the addon is built (repo root/build/Release, seen from dist/src/engine/native/);
 *  MENTIA_NATIVE_ADDON=/path/to/mentia_native.node overrides it (for developing the addon). */
export const ADDON_PATH = process.env.MENTIA_NATIVE_ADDON || fileURLToPath(new URL("../../../../build/Release/mentia_native.node", import.meta.url));

let addon: NativeAddon | null | undefined;
let loadError = "";

/** The loaded addon, or null (see nativeLoadError()). Loads once. */
export function loadAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (!existsSync(ADDON_PATH)) {
    loadError = `addon not built (${ADDON_PATH} is missing)`;
    return addon;
  }
  try {
    const loaded = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
    if (typeof loaded.NativeNet !== "function" || typeof loaded.isa !== "string") throw new Error("unexpected exports");
    addon = loaded;
  } catch (err) {
    loadError = `addon failed to load: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`;
  }
  return addon;
}

/** Why the addon is unavailable ("" when it loaded). */
export function nativeLoadError(): string {
  loadAddon();
  return loadError;
}

/** The instruction set the addon runs with, or null when it is not available. */
export function nativeIsa(): string | null {
  return loadAddon()?.isa || null;
}

/**
 * Which recorded ISA names give identical numbers: "avx512" and "avx2+fma" (same reduction
 * order, FMA in both) share the class "fma"; any other name is its own class. For checks that
 * refuse to mix results computed with different instruction sets.
 */
export function isaNumericsClass(isa: string): string {
  return isa === "avx512" || isa === "avx2+fma" ? "fma" : isa;
}

/** The instruction-set variants (MENTIA_ISA values) this build can run on this CPU, best first. */
export function nativeIsas(): NativeIsaName[] {
  return loadAddon()?.isas ?? [];
}

/** "" when this build and CPU can run the variant, else why not (e.g. "... needs avx512f, which this CPU lacks"). */
export function nativeIsaUnavailable(isa: NativeIsaName): string {
  const a = loadAddon();
  return a ? a.whyNot(isa) : `native engine unavailable: ${loadError}`;
}

/** GFLOP/s of independent FMAs on one core with a variant's vectors (avx512: 512-bit,
 *  avx2: 256-bit), best run over `seconds`: the arithmetic peak at that width. */
export function nativeFmaPeak(seconds: number, isa?: NativeIsaName): number {
  const a = loadAddon();
  if (!a) throw new MentiaError(`native engine unavailable: ${loadError}`);
  return a.fmaPeak(seconds, isa);
}

/**
 * The native GEMM's GFLOP/s on an M×N×K problem, best call over `seconds`. shape 0: plain
 * sgemm; 1 forward (+ bias, ReLU, dropout); 2 input gradient; 3 weight gradient + Adam.
 */
export function nativeGemmGflops(M: number, N: number, K: number, seconds: number, shape = 0, isa?: NativeIsaName): number {
  const a = loadAddon();
  if (!a) throw new MentiaError(`native engine unavailable: ${loadError}`);
  return a.gemmGflops(shape, M, N, K, seconds, isa);
}

/** GEMM blocking of one shape (0 forward, 1 input gradient, 2 weight gradient); for tuning
 *  experiments only (-1 keeps a value). */
export function nativeSetTuning(which: number, kc: number, mc: number, nc: number, packB: number, rowsOuter: number, packAMinN = -1): void {
  loadAddon()?.setTuning(which, kc, mc, nc, packB, rowsOuter, packAMinN);
}

function checkProbability(p: number, what: string): void {
  if (!(typeof p === "number" && p >= 0 && p < 1)) throw new MentiaError(`${what} must be in [0, 1), got ${p}`);
}

function checkInt(v: number, what: string, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new MentiaError(`${what} must be an integer >= ${min}, got ${v}`);
}

class NativeNetwork implements Network {
  readonly paramCount: number;
  private handle: NativeNetHandle | null;

  constructor(readonly spec: NetworkSpec, params: Float32Array, private readonly opt: OptimizerConfig, private readonly seed: number, private readonly a: NativeAddon, private readonly isa?: NativeIsaName) {
    checkInt(spec.width, "width", 1);
    checkInt(spec.depth, "depth", 0);
    this.paramCount = paramCount(spec);
    if (params.length !== this.paramCount) throw new Error(`expected ${this.paramCount} parameters, got ${params.length}`);
    if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
    this.handle = new a.NativeNet(spec.width, spec.depth, opt.optimizer === "adam", opt.lr, opt.beta1, opt.beta2, opt.eps, opt.momentum, seed >>> 0, params, isa);
  }

  private get h(): NativeNetHandle {
    if (!this.handle) throw new Error("network has been disposed");
    return this.handle;
  }

  /** The layer-0 path in use (src/engine/layer0.ts); set before each call that reads data. */
  layer0: Layer0Path = "dense";
  /** The rows and images of the last evaluation by rows: held here, so that the addon may reuse
   *  what it kept of them when the next call passes the very same arrays. */
  private lastRows: { rows: Int32Array; x: Float32Array } | null = null;
  /** The images of the last training call, held likewise: the addon keeps the nonzero pixels of
   *  the rows it trained on (sparse layer 0) while the next calls pass the very same array. */
  private lastTrainX: Float32Array | null = null;

  private layer0For(data: Dataset): NativeNetHandle {
    const path = layer0PathFor(data);
    if (path !== this.layer0) {
      this.h.setLayer0Sparse(path === "sparse");
      this.layer0 = path;
    }
    return this.h;
  }

  getParams(): Float32Array {
    return this.h.getParams();
  }

  setParams(params: Float32Array): void {
    if (params.length !== this.paramCount) throw new Error(`expected ${this.paramCount} parameters, got ${params.length}`);
    this.h.setParams(params);
  }

  saveSnapshot(): void {
    this.h.saveSnapshot();
  }

  restoreSnapshot(): void {
    this.h.restoreSnapshot();
  }

  trainEpoch(data: Dataset, opts: TrainEpochOptions): TrainEpochResult {
    checkInt(opts.batch, "batch", 1);
    checkProbability(opts.pTrain, "pTrain");
    checkInt(opts.firstStep, "firstStep", 0);
    if (opts.maxSteps !== undefined) checkInt(opts.maxSteps, "maxSteps", 0);
    const reuse = this.lastTrainX === data.x;
    this.lastTrainX = data.x;
    const r = this.layer0For(data).train(data.x, data.y, data.n, opts.order, opts.batch, opts.pTrain, opts.firstStep >>> 0, opts.maxSteps ?? -1, reuse);
    const [lossSum, steps, samples] = r;
    return { meanLoss: samples > 0 ? lossSum / samples : NaN, steps, samples };
  }

  lossAndGradient(data: Dataset, rows: Int32Array, pTrain: number, step: number): { loss: number; grad: Float32Array } {
    checkProbability(pTrain, "pTrain");
    checkInt(step, "step", 0);
    const grad = new Float32Array(this.paramCount);
    const loss = this.layer0For(data).lossAndGradient(data.x, data.y, data.n, rows, pTrain, step >>> 0, grad);
    return { loss, grad };
  }

  evaluate(data: Dataset, opts: EvalOptions): EvalResult {
    return this.evaluateAll(data, [opts.pEval], opts)[0];
  }

  evaluateAll(data: Dataset, pEvals: readonly number[], opts: Omit<EvalOptions, "pEval">): EvalResult[] {
    if (pEvals.length < 1) throw new MentiaError("at least one p_eval is needed");
    for (const p of pEvals) checkProbability(p, "pEval");
    checkInt(opts.masks, "masks", 1);
    const mode = opts.mode;
    if (isPruningMode(mode)) return evaluatePruned(this, this.seed, data, pEvals, { ...opts, mode }, undefined, (spec, params) => new NativeNetwork(spec, params, this.opt, this.seed, this.a, this.isa));
    if (mode !== "sample" && mode !== "mask") throw new MentiaError(`unknown eval mode '${String(mode)}'`);
    const batch = opts.batch ?? 1000;
    checkInt(batch, "eval batch", 1);
    const n = opts.rows ? opts.rows.length : data.n;  // samples evaluated
    if (n < 1) throw new MentiaError("cannot evaluate on an empty dataset");
    // p_eval = 0: every draw is the same network; the addon computes one and summariseEval replicates it.
    const K = opts.masks, nP = pEvals.length;
    const sampleLoss = new Float64Array(nP * n);
    const sampleCorrect = new Uint8Array(nP * n);
    const h = this.layer0For(data);
    const reuse = opts.rows !== undefined && this.lastRows?.rows === opts.rows && this.lastRows.x === data.x;
    if (opts.rows) this.lastRows = { rows: opts.rows, x: data.x };
    const sums = h.evaluateAll(data.x, data.y, data.n, Float64Array.from(pEvals), opts.mode === "mask", opts.rescale, batch, K, sampleLoss, sampleCorrect, opts.sparseInput ?? false, opts.rows, reuse);
    return pEvals.map((pEval, p) => {
      const Kp = pEval === 0 ? 1 : K;
      const maskLosses: number[] = [];
      const maskAccuracies: number[] = [];
      for (let k = 0; k < Kp; k++) {
        maskLosses.push(sums[2 * (p * K + k)] / n);
        maskAccuracies.push(sums[2 * (p * K + k) + 1] / n);
      }
      const rows = (a: Float64Array | Uint8Array) => a.subarray(p * n, (p + 1) * n);
      return summariseEval(maskLosses, maskAccuracies, K, pEval > 0, rows(sampleLoss) as Float64Array, rows(sampleCorrect) as Uint8Array);
    });
  }

  dispose(): void {
    this.handle?.dispose();
    this.handle = null;
  }
}

let engine: Engine | null | undefined;

/** The native engine, or null when the addon is unavailable (reason: nativeLoadError()).
 *  Throws a MentiaError when MENTIA_ISA names a variant this CPU or build cannot run. */
export function loadNativeEngine(): Engine | null {
  if (engine !== undefined) return engine;
  const a = loadAddon();
  if (a && a.isaError) throw new MentiaError(`native engine: ${a.isaError}`);
  engine = a ? makeEngine(a) : null;
  return engine;
}

/** The native engine running one instruction-set variant, whatever MENTIA_ISA says (for tests
 *  and benchmarks that compare variants in one process). Throws when it cannot run here. */
export function nativeEngineFor(isa: NativeIsaName): Engine {
  const a = loadAddon();
  if (!a) throw new MentiaError(`native engine unavailable: ${loadError}`);
  const why = a.whyNot(isa);
  if (why) throw new MentiaError(`native engine: ${why}`);
  return makeEngine(a, isa);
}

function makeEngine(a: NativeAddon, isa?: NativeIsaName): Engine {
  return {
    name: "native",
    createNetwork(spec: NetworkSpec, params: Float32Array, opt: OptimizerConfig, seed: number): Network {
      return new NativeNetwork(spec, params, opt, seed, a, isa);
    },
  };
}
