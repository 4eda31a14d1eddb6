import { Rng } from "./rng.js";
import { layerShapes, paramCount, type NetworkSpec } from "./types.js";

/**
 * PyTorch's default nn.Linear init ("Kaiming uniform" with a = √5): weights and biases
 * uniform in ±1/√fan_in. Drawn from the job's sequential PRNG (stream 0), weights then bias,
 * layer by layer, so every engine starts from identical parameters.
 */
export function initParams(spec: NetworkSpec, seed: number): Float32Array {
  const rng = new Rng(seed, 0);
  const params = new Float32Array(paramCount(spec));
  let off = 0;
  for (const [fanIn, fanOut] of layerShapes(spec)) {
    const bound = 1 / Math.sqrt(fanIn);
    for (let k = 0; k < fanIn * fanOut + fanOut; k++) params[off++] = (2 * rng.nextFloat() - 1) * bound;
  }
  return params;
}
