/**
 * Which path computes layer 0 (z0 = W0·x and its weight gradient dW0 = dz0·xᵀ) in the native
 * engine: `dense` (a GEMM over all 784 pixels) or `sparse` (from each image's nonzero pixels
 * only). Both give the same numbers (net_impl.h: "sparse layer 0"), so the choice is speed only:
 * sparse when the data's fraction of nonzero pixels is at most SPARSE_MAX_DENSITY, unless
 * MENTIA_LAYER0=dense|sparse forces a path (for comparisons and tests).
 */
import { MentiaError } from "../errors.js";
import { INPUT_SIZE, type Dataset } from "./types.js";

export type Layer0Path = "dense" | "sparse";

/**
 * The input density (nonzero pixels / all pixels) up to which the sparse path is used: where
 * it stops being faster for a training step at 128/2/64. Measured by `node dist/bench/layer0.js`
 * (MNIST images with zero pixels filled in at random; interleaved, CPU time; AMD EPYC,
 * AVX-512): sparse/dense 1.15× at 22 %, 1.09× at 25 %, 1.01× at 28 %, 0.95× at 32 %, 0.72× at
 * 50 %. MNIST is 19 % nonzero (sparse); Fashion-MNIST, about 50 %, stays dense.
 */
export const SPARSE_MAX_DENSITY = 0.27;

/** MENTIA_LAYER0's path, or null when unset/"auto"; a MentiaError for any other value. */
export function forcedLayer0Path(): Layer0Path | null {
  const v = process.env.MENTIA_LAYER0;
  if (v === undefined || v === "" || v === "auto") return null;
  if (v === "dense" || v === "sparse") return v;
  throw new MentiaError(`MENTIA_LAYER0 must be 'dense', 'sparse' or 'auto', got '${v}'`);
}

const densities = new WeakMap<Float32Array, number>();

/** Fraction of nonzero pixels over all n images of the data (cached per image array). */
export function inputDensity(data: Dataset): number {
  const cached = densities.get(data.x);
  if (cached !== undefined) return cached;
  const x = data.x, len = Math.min(x.length, data.n * INPUT_SIZE);
  let nz = 0;
  for (let i = 0; i < len; i++) if (x[i] !== 0) nz++;
  const d = len > 0 ? nz / len : 0;
  densities.set(data.x, d);
  return d;
}

/** The path for data of this density: MENTIA_LAYER0 when set, else by SPARSE_MAX_DENSITY. */
export function layer0PathFor(data: Dataset): Layer0Path {
  return forcedLayer0Path() ?? (inputDensity(data) <= SPARSE_MAX_DENSITY ? "sparse" : "dense");
}

/** Runs f with MENTIA_LAYER0 set to `path` (undefined: unset), then puts the variable back:
 *  for benchmarks and tests that compare the paths in one process. */
export function withLayer0Path<T>(path: string | undefined, f: () => T): T {
  const saved = process.env.MENTIA_LAYER0;
  if (path === undefined) delete process.env.MENTIA_LAYER0;
  else process.env.MENTIA_LAYER0 = path;
  try {
    return f();
  } finally {
    if (saved === undefined) delete process.env.MENTIA_LAYER0;
    else process.env.MENTIA_LAYER0 = saved;
  }
}
