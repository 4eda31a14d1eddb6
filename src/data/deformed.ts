import { MentiaError } from "../errors.js";
import { INPUT_SIZE, type Dataset } from "../engine/types.js";
import { Deformer, gatherPixels, type DeformationParams } from "./deform.js";

/**
 * `mnist-deformed`: a seeded, unbounded stream of training samples per job. Sample i < B
 * (B = 60,000 − validation, the job's MNIST training images in the order of its permutation)
 * is exactly MNIST image i of the job, so every N ≤ B trains on the same data as `mnist`;
 * sample i ≥ B is a deformation (src/data/deform.ts) of base sample i mod B, seeded by (job
 * seed, i). Validation and test sets are MNIST's own, undeformed.
 *
 * Deformed samples are generated in native code the first time a training step needs them and
 * kept (784 bytes each) for the later epochs, up to DEFORMED_CACHE_SAMPLES per job (≈ 0.75 GB
 * at N = 10^6); samples past that are generated again at each visit.
 */
export const DEFORMED_MAX_N = 100_000_000;
export const DEFORMED_CACHE_SAMPLES = 1_000_000;

const P = INPUT_SIZE;

export class DeformedStream {
  /** Base samples, in the job's order, as bytes (the generator's input). */
  readonly baseBytes: Uint8Array;
  readonly baseCount: number;
  private readonly deformer: Deformer;
  private readonly cache: Uint8Array;
  private readonly cached: Uint8Array;
  /** Seconds spent generating: the base bytes and field bank, then every deformed sample (for the ≤ 20 % budget check). */
  generateSeconds = 0;
  generated = 0;

  /**
   * @param train MNIST's training images; @param baseRows the job's B base rows (its permutation
   * minus the validation split); @param n the job's N; @param seed the job's seed.
   */
  constructor(private readonly train: Dataset, private readonly baseRows: Int32Array, readonly n: number, seed: number, params: DeformationParams, opts: { native?: boolean; bankSize?: number } = {}) {
    if (!Number.isInteger(n) || n < 1 || n > DEFORMED_MAX_N) throw new MentiaError(`training-set size N must be an integer in [1, ${DEFORMED_MAX_N}] for mnist-deformed (the stream's cap), got ${n}`);
    const t0 = performance.now();
    this.baseCount = baseRows.length;
    this.baseBytes = new Uint8Array(this.baseCount * P);
    for (let j = 0; j < this.baseCount; j++) {
      const src = baseRows[j] * P;
      for (let k = 0; k < P; k++) this.baseBytes[j * P + k] = Math.round(train.x[src + k] * 255);
    }
    this.deformer = new Deformer(seed, params, opts);
    const cacheable = Math.max(0, Math.min(n, this.baseCount + DEFORMED_CACHE_SAMPLES) - this.baseCount);
    this.cache = new Uint8Array(cacheable * P);
    this.cached = new Uint8Array(cacheable);
    this.generateSeconds = (performance.now() - t0) / 1000;
  }

  get native(): boolean {
    return this.deformer.native;
  }

  /** Bytes of cached memory (deformed samples kept for later epochs). */
  get cacheBytes(): number {
    return this.cache.byteLength;
  }

  /** Label of sample id. */
  label(id: number): number {
    return this.train.y[this.baseRows[id % this.baseCount]];
  }

  /** Samples `ids` (each < n) as float32 pixels and labels into out (rows 0..ids.length−1). */
  fill(ids: Int32Array, out: { x: Float32Array; y: Uint8Array }): void {
    const B = this.baseCount, C = this.cached.length;
    // Deformed ids not generated yet: those within the cache go straight into it (marked at once,
    // so an id twice in one call is generated once), the others into a buffer for this call.
    const toCache: number[] = [], beyond: number[] = [];
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.n) throw new Error(`sample id ${id} outside [0, ${this.n})`);
      if (id < B) continue;
      if (id - B >= C) beyond.push(id);
      else if (!this.cached[id - B]) {
        this.cached[id - B] = 1;
        toCache.push(id);
      }
    }
    let fresh: Uint8Array | undefined;
    const freshAt = new Map<number, number>();
    if (toCache.length + beyond.length > 0) {
      const t0 = performance.now();
      if (toCache.length > 0) this.deformer.deform(Int32Array.from(toCache), this.baseBytes, this.cache, Int32Array.from(toCache, (id) => id - B));
      if (beyond.length > 0) {
        fresh = new Uint8Array(beyond.length * P);
        this.deformer.deform(Int32Array.from(beyond), this.baseBytes, fresh);
        beyond.forEach((id, j) => freshAt.set(id, j));
      }
      this.generated += toCache.length + beyond.length;
      this.generateSeconds += (performance.now() - t0) / 1000;
    }
    // Base samples are copied as floats; deformed ones converted from bytes (cache, or this call's fresh ones).
    const fromCache: number[] = [], cacheSlots: number[] = [], fromFresh: number[] = [], freshSlots: number[] = [];
    for (let j = 0; j < ids.length; j++) {
      const id = ids[j];
      out.y[j] = this.label(id);
      if (id < B) out.x.set(this.train.x.subarray(this.baseRows[id] * P, (this.baseRows[id] + 1) * P), j * P);
      else if (id - B < C) {
        fromCache.push(id - B);
        cacheSlots.push(j);
      } else {
        fromFresh.push(freshAt.get(id)!);
        freshSlots.push(j);
      }
    }
    if (fromCache.length > 0) gatherPixels(this.cache, Int32Array.from(fromCache), out.x, Int32Array.from(cacheSlots), this.native);
    if (fromFresh.length > 0) gatherPixels(fresh!, Int32Array.from(fromFresh), out.x, Int32Array.from(freshSlots), this.native);
  }
}
