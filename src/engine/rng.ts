/**
 * mentia's random numbers. Two kinds, both specified exactly so that the native engine
 * (C++) reproduces them bit for bit:
 *
 * 1. A sequential generator (xoshiro128**, seeded by splitmix32) for work done in
 *    TypeScript: weight initialisation and the per-epoch shuffles.
 * 2. Counter-based uniforms for dropout masks: u = uniform(key, i), where the 64-bit key
 *    (k0, k1) names the stream (job seed, purpose, step/draw, layer) and i the element
 *    (sample·width + unit). Counter-based, so any engine may generate masks in any order or
 *    in parallel (8 or 16 lanes at a time, 32-bit multiplies only) and still agree with
 *    every other engine.
 *
 *   lowbias32(x) = x^=x>>>16; x*=0x7feb352d; x^=x>>>15; x*=0x846ca68b; x^=x>>>16   (mod 2^32)
 *   fmix32(x)    = x^=x>>>16; x*=0x85ebca6b; x^=x>>>13; x*=0xc2b2ae35; x^=x>>>16   (MurmurHash3)
 *   streamKey(s, a, b, c) = (k0, k1) with
 *     k0 = lowbias32(lowbias32(lowbias32(lowbias32(s) ^ a) ^ b) ^ c)
 *     k1 = fmix32(fmix32(fmix32(fmix32(s) ^ a) ^ b) ^ c)
 *   uniform((k0, k1), i) = (lowbias32(lowbias32(i + k0) ^ k1) >>> 8) · 2^-24      ∈ [0, 1)
 *   a unit is removed when uniform(key, i) < p.
 *
 * Why two key words: with one 32-bit key added to the counter (mentia ≤ 0.1:
 * hash(key + i·φ)), every stream was a shifted window of one 2^32-long sequence, and the
 * ~10^4 streams of one job overlapped in about 190 pairs. Here two streams can be shifted
 * copies only when their k1 words are equal and their k0 words differ by less than the
 * stream length n: probability ≤ 2n/2^64 per pair. Each key word is a chain of bijections,
 * so tuples that differ in one field never share a word (their streams never overlap); for
 * tuples that differ in several, all ~2·10^8 pairs of a 5,000-step depth-4 job with
 * n = 65,536 (batch 64 × width 1024) overlap with probability ~10^-6 in all.
 * test/engine-rng.test.ts looks for shifted copies (and finds the old generator's).
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

/** MurmurHash3's 32-bit finalizer: the second, independent key chain. */
export function fmix32(x: number): number {
  x = x >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Purposes of mask streams; part of the key so that the streams of different purposes differ. */
export const STREAM_TRAIN_DROPOUT = 1;
export const STREAM_EVAL_SAMPLE = 2;
export const STREAM_EVAL_MASK = 3;
/** weight-random evaluation (src/engine/prune.ts): draw, layer; element = index in W_l. */
export const STREAM_EVAL_WEIGHT = 4;

/** A mask stream's 64-bit key, two unsigned 32-bit words. */
export interface StreamKey {
  readonly k0: number;
  readonly k1: number;
}

export function streamKey(seed: number, a: number, b: number, c: number): StreamKey {
  return {
    k0: hash32(hash32(hash32(hash32(seed) ^ a) ^ b) ^ c),
    k1: fmix32(fmix32(fmix32(fmix32(seed) ^ a) ^ b) ^ c),
  };
}

const TWO_POW_M24 = 1 / 16777216;

/** The 24-bit integer behind uniform(key, i) = bits24(key, i) · 2^-24. */
export function bits24(key: StreamKey, i: number): number {
  return hash32((hash32((i + key.k0) >>> 0) ^ key.k1) >>> 0) >>> 8;
}

export function uniform(key: StreamKey, i: number): number {
  return bits24(key, i) * TWO_POW_M24;
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
