/**
 * mentia's random numbers. Two kinds, both specified exactly so that the native engine
 * (C++) reproduces them bit for bit:
 *
 * 1. A sequential generator (xoshiro128**, seeded by splitmix32) for work done in
 *    TypeScript: weight initialisation and the per-epoch shuffles.
 * 2. Counter-based uniforms for dropout masks: u = uniform(key, i), where the key names the
 *    stream (job seed, purpose, step/draw, layer) and i the element (sample·width + unit).
 *    Counter-based, so any engine may generate masks in any order or in parallel and still
 *    agree with every other engine.
 *
 *   hash32(x)        = "lowbias32" finalizer: x^=x>>>16; x*=0x7feb352d; x^=x>>>15;
 *                      x*=0x846ca68b; x^=x>>>16   (all mod 2^32)
 *   streamKey(s,a,b,c) = hash32(hash32(hash32(hash32(s) ^ a) ^ b) ^ c)
 *   uniform(key, i)  = (hash32(key + i·0x9E3779B9) >>> 8) · 2^-24      ∈ [0, 1)
 *   a unit is removed when uniform(key, i) < p.
 */

export function hash32(x: number): number {
  x = x >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Purposes of mask streams; part of the key so streams never overlap. */
export const STREAM_TRAIN_DROPOUT = 1;
export const STREAM_EVAL_SAMPLE = 2;
export const STREAM_EVAL_MASK = 3;

export function streamKey(seed: number, a: number, b: number, c: number): number {
  return hash32(hash32(hash32(hash32(seed) ^ a) ^ b) ^ c);
}

const TWO_POW_M24 = 1 / 16777216;

export function uniform(key: number, i: number): number {
  return (hash32((key + Math.imul(i, 0x9e3779b9)) >>> 0) >>> 8) * TWO_POW_M24;
}

/** xoshiro128** with splitmix32 seeding: a small, fast, well-tested sequential PRNG. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number, stream = 0) {
    let z = (hash32(seed) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
    const next = (): number => {
      z = (z + 0x9e3779b9) >>> 0;
      return hash32(z);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 24 random bits (exactly representable in float32). */
  nextFloat(): number {
    return (this.nextU32() >>> 8) * TWO_POW_M24;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). */
  nextInt(n: number): number {
    const limit = Math.floor(0x100000000 / n) * n;
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % n;
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle(a: Int32Array | Uint32Array | number[]): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
