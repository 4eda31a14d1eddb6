import { Rng } from "../src/engine/rng.js";
import { INPUT_SIZE, type Dataset } from "../src/engine/types.js";

/**
 * A random labelled dataset for engine tests: pixels uniform in [0, 1), MNIST-like sparse by
 * default (70 % of pixels exactly 0, so the sparse paths are exercised); labels uniform 0..9.
 */
export function randomData(n: number, seed: number, sparse = true): Dataset {
  const rng = new Rng(seed, 9);
  const x = new Float32Array(n * INPUT_SIZE);
  for (let i = 0; i < x.length; i++) x[i] = sparse && rng.nextFloat() < 0.7 ? 0 : rng.nextFloat();
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) y[i] = rng.nextInt(10);
  return { x, y, n };
}
