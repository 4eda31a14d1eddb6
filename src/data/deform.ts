import { MentiaError } from "../errors.js";
import { loadAddon } from "../engine/native/index.js";
import { bits24, streamKey } from "../engine/rng.js";
import { INPUT_SIZE } from "../engine/types.js";

/**
 * The deformation behind `mnist-deformed` (src/data/deformed.ts): an elastic distortion
 * (Simard, Steinkraus & Platt, ICDAR 2003: a displacement field of uniform noise in [-1, 1]
 * per pixel and direction, smoothed by a Gaussian of width σ, scaled by α pixels) composed
 * with a small random affine map (rotation, scale, shear, translation), then bilinear
 * resampling of the base image (zero outside it).
 *
 * The smoothed fields come from a bank of DEFORM_BANK_SIZE fields per job (seed), computed
 * once; sample i takes its x field and its y field from the bank, each under one of the 8
 * symmetries of the square, all chosen by (job seed, i), and draws its affine parameters
 * uniformly from (job seed, i). The bank is what makes generation cheap: smoothing a fresh
 * field per sample costs ~20× a training step per sample (a bank of 4,096 × 8 orientations
 * gives 3·10^4 distinct fields per direction, 10^9 pairs).
 *
 * Portable: integer arithmetic only (products < 2^53, floors by powers of two), the same in
 * the native generator (src/engine/native/deform.cc) and in the TypeScript twin below, so the
 * bytes are identical on every machine. Real-valued parameters enter once, quantised here.
 */
export interface DeformationParams {
  /** Width of the Gaussian smoothing the displacement noise, pixels (Simard: 4). */
  sigma: number;
  /** Scale of the smoothed displacement field, pixels (Simard: 34). */
  alpha: number;
  /** Largest rotation, degrees (uniform in ±rotation). */
  rotation: number;
  /** Largest relative change of scale (the sampling grid is scaled by 1 + u·scale, u uniform in ±1). */
  scale: number;
  /** Largest shear factor (uniform in ±shear). */
  shear: number;
  /** Largest translation per axis, pixels (uniform in ±translation). */
  translation: number;
}

export const DEFAULT_DEFORMATION: DeformationParams = { sigma: 4, alpha: 34, rotation: 7.5, scale: 0.075, shear: 0.1, translation: 1 };

/** Inclusive bounds of each parameter (the integer arithmetic is exact within them). */
export const DEFORMATION_BOUNDS: Record<keyof DeformationParams, [number, number]> = {
  sigma: [0.1, 7],
  alpha: [0, 1000],
  rotation: [0, 45],
  scale: [0, 0.5],
  shear: [0, 1],
  translation: [0, 8],
};

export const DEFORM_BANK_SIZE = 4096;
/** Mask-stream purposes of the generator (rng.ts's key scheme); = the constants in deform.cc. */
export const DEFORM_FIELD_STREAM = 0x64666c64;
export const DEFORM_SAMPLE_STREAM = 0x64736d70;

/** A MentiaError naming the first parameter outside its bounds, or nothing. */
export function checkDeformation(p: DeformationParams, where = "deformation"): void {
  for (const [k, [lo, hi]] of Object.entries(DEFORMATION_BOUNDS) as Array<[keyof DeformationParams, [number, number]]>) {
    const v = p[k];
    if (typeof v !== "number" || !Number.isFinite(v) || v < lo || v > hi) throw new MentiaError(`${where}.${k} must be a number in [${lo}, ${hi}], got ${String(v)}`);
  }
}

/** exp(x) for x ≤ 0 by squaring a Taylor series: plain IEEE arithmetic, the same on every machine (Math.exp is not specified exactly). */
function portableExp(x: number): number {
  let k = 0;
  while (x < -0.5) {
    x /= 2;
    k++;
  }
  let term = 1, sum = 1;
  for (let n = 1; n < 30; n++) {
    term = (term * x) / n;
    sum += term;
  }
  for (; k > 0; k--) sum *= sum;
  return sum;
}

/** The quantised Gaussian: radius round(4σ) (scipy's truncate = 4), weights Q16 summing to exactly 65536. */
export function gaussianWeights(sigma: number): Int32Array {
  const R = Math.min(Math.floor(4 * sigma + 0.5), 27);
  const w: number[] = [];
  for (let k = -R; k <= R; k++) w.push(portableExp(-(k * k) / (2 * sigma * sigma)));
  const total = w.reduce((a, b) => a + b, 0);
  const q = Int32Array.from(w, (v) => Math.round((v / total) * 65536));
  q[R] += 65536 - q.reduce((a, b) => a + b, 0);
  return q;
}

/** The integer parameters of the generator: alphaQ8, rotation (radians) Q24, scale Q24, shear Q24, translation Q16. */
export function quantiseDeformation(p: DeformationParams): Float64Array {
  return Float64Array.from([
    Math.round(p.alpha * 256),
    Math.round(((p.rotation * Math.PI) / 180) * 2 ** 24),
    Math.round(p.scale * 2 ** 24),
    Math.round(p.shear * 2 ** 24),
    Math.round(p.translation * 65536),
  ]);
}

const S = 28;
const P = INPUT_SIZE;
const fl = (a: number, k: number): number => Math.floor(a / 2 ** k);

/** TypeScript twin of deform.cc's makeField: bank fields first..first+count−1. */
export function deformBankTs(seed: number, w: Int32Array, first: number, out: Int32Array): void {
  const R = (w.length - 1) / 2;
  const noise = new Float64Array(P), rowPass = new Float64Array(P);
  for (let b = 0; b < out.length / P; b++) {
    const key = streamKey(seed, DEFORM_FIELD_STREAM, first + b, 0);
    for (let j = 0; j < P; j++) noise[j] = bits24(key, j) - 2 ** 23;
    for (let r = 0; r < S; r++)
      for (let c = 0; c < S; c++) {
        let acc = 0;
        for (let k = -R; k <= R; k++) if (c + k >= 0 && c + k < S) acc += w[k + R] * noise[r * S + c + k];
        rowPass[r * S + c] = fl(acc, 16);
      }
    for (let r = 0; r < S; r++)
      for (let c = 0; c < S; c++) {
        let acc = 0;
        for (let k = -R; k <= R; k++) if (r + k >= 0 && r + k < S) acc += w[k + R] * rowPass[(r + k) * S + c];
        out[b * P + r * S + c] = fl(acc, 16);
      }
  }
}

function symIndex(g: number, r: number, c: number): number {
  let rr = g & 4 ? c : r, cc = g & 4 ? r : c;
  if (g & 1) rr = S - 1 - rr;
  if (g & 2) cc = S - 1 - cc;
  return rr * S + cc;
}

/** The bank's fields scaled by α: displacements in Q16 pixels, floor(field · alphaQ8 / 2^15) (exact in plain numbers: |product| < 2^41). */
export function displacementBank(bank: Int32Array, q: Float64Array): Int32Array {
  const alphaQ8 = q[0];
  return Int32Array.from(bank, (f) => fl(f * alphaQ8, 15));
}

/** TypeScript twin of deform.cc's deformOne over a list of sample ids (into image j of out, or slots[j]); `bank` is a displacementBank. */
export function deformSamplesTs(seed: number, ids: Int32Array, base: Uint8Array, bank: Int32Array, q: Float64Array, out: Uint8Array, slots?: Int32Array): void {
  const nBase = base.length / P, nBank = bank.length / P;
  const [, rotQ24, scaleQ24, shearQ24, transQ16] = q;
  const one = 2 ** 24;
  for (let j = 0; j < ids.length; j++) {
    const id = ids[j];
    const img = base.subarray((id % nBase) * P, (id % nBase + 1) * P);
    const key = streamKey(seed, DEFORM_SAMPLE_STREAM, id, 0);
    const u0 = bits24(key, 0), u1 = bits24(key, 1);
    const fx = ((u0 >>> 3) % nBank) * P, fy = ((u1 >>> 3) % nBank) * P;
    const gx = u0 & 7, gy = u1 & 7;
    const s = [0, 1, 2, 3, 4].map((i) => 2 * bits24(key, 2 + i) - one + 1);
    const th = fl(s[0] * rotQ24, 24);
    const p1 = fl(th * th, 24), p2 = fl(p1 * p1, 24), p3 = fl(p2 * p1, 24), p4 = fl(p3 * p1, 24);
    const cs = one - fl(p1, 1) + fl(p2 * 699051, 24) - fl(p3 * 23302, 24) + fl(p4 * 416, 24);
    const t3 = fl(th * p1, 24), t5 = fl(t3 * p1, 24), t7 = fl(t5 * p1, 24);
    const sn = th - fl(t3 * 2796203, 24) + fl(t5 * 139810, 24) - fl(t7 * 3329, 24);
    const k = one + fl(s[1] * scaleQ24, 24);
    const h = fl(s[2] * shearQ24, 24);
    const tx = fl(s[3] * transQ16, 24), ty = fl(s[4] * transQ16, 24);
    const m00 = fl(cs * k, 24), m01 = fl((fl(cs * h, 24) - sn) * k, 24);
    const m10 = fl(sn * k, 24), m11 = fl((fl(sn * h, 24) + cs) * k, 24);
    const centre = 27 * 2 ** 15;
    const px = (rr: number, cc: number): number => (rr >= 0 && rr < S && cc >= 0 && cc < S ? img[rr * S + cc] : 0);
    for (let r = 0; r < S; r++) {
      let ax25 = m00 * -27 + m01 * (2 * r - 27), ay25 = m10 * -27 + m11 * (2 * r - 27);
      for (let c = 0; c < S; c++, ax25 += 2 * m00, ay25 += 2 * m10) {
        const x = centre + fl(ax25, 9) + tx + bank[fx + symIndex(gx, r, c)];
        const y = centre + fl(ay25, 9) + ty + bank[fy + symIndex(gy, r, c)];
        const x0 = fl(x, 16), y0 = fl(y, 16);
        const wx = fl(x - x0 * 65536, 8), wy = fl(y - y0 * 65536, 8);
        const top = px(y0, x0) * (256 - wx) + px(y0, x0 + 1) * wx;
        const bot = px(y0 + 1, x0) * (256 - wx) + px(y0 + 1, x0 + 1) * wx;
        out[(slots ? slots[j] : j) * P + r * S + c] = fl(top * (256 - wy) + bot * wy + 2 ** 15, 16);
      }
    }
  }
}

interface DeformAddon {
  deformBank(seed: number, w: Int32Array, first: number, out: Int32Array): void;
  deformSamples(seed: number, ids: Int32Array, base: Uint8Array, bank: Int32Array, q: Float64Array, out: Uint8Array, slots?: Int32Array): void;
  deformGather(bytes: Uint8Array, images: Int32Array, out: Float32Array, slots: Int32Array): void;
}

/** v/255 as float32: the normalisation of loadIdxPair (src/data/mnist.ts). */
const PIXEL = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** Image images[j] of `bytes` (784 bytes each) as float32 pixels v/255 into image slots[j] of out (natively when built). */
export function gatherPixels(bytes: Uint8Array, images: Int32Array, out: Float32Array, slots: Int32Array, native = true): void {
  const impl = native ? nativeDeform() : null;
  if (impl) return impl.deformGather(bytes, images, out, slots);
  for (let j = 0; j < images.length; j++) {
    const at = images[j] * P, to = slots[j] * P;
    for (let k = 0; k < P; k++) out[to + k] = PIXEL[bytes[at + k]];
  }
}

/** The native generator, or null when the addon is not built (the TypeScript twin is used then: same bytes, ~50× slower). */
export function nativeDeform(): DeformAddon | null {
  const a = loadAddon() as unknown as Partial<DeformAddon> | null;
  return a && typeof a.deformSamples === "function" && typeof a.deformBank === "function" && typeof a.deformGather === "function" ? (a as DeformAddon) : null;
}

/** A job's generator: its field bank, built once, and a function deforming sample ids. */
export class Deformer {
  /** The smoothed noise fields (Q23), and the same scaled by α (Q16 pixels), which the generator reads. */
  readonly bank: Int32Array;
  readonly displacements: Int32Array;
  private readonly q: Float64Array;
  private readonly impl: DeformAddon | null;

  constructor(readonly seed: number, readonly params: DeformationParams, opts: { bankSize?: number; native?: boolean } = {}) {
    checkDeformation(params);
    this.impl = opts.native === false ? null : nativeDeform();
    this.q = quantiseDeformation(params);
    this.bank = new Int32Array((opts.bankSize ?? DEFORM_BANK_SIZE) * P);
    const w = gaussianWeights(params.sigma);
    if (this.impl) this.impl.deformBank(seed >>> 0, w, 0, this.bank);
    else deformBankTs(seed >>> 0, w, 0, this.bank);
    this.displacements = displacementBank(this.bank, this.q);
  }

  get native(): boolean {
    return this.impl !== null;
  }

  /** Deforms sample ids (each of base image id mod base count) into out: image j (ids.length × 784 bytes), or image slots[j]. */
  deform(ids: Int32Array, base: Uint8Array, out: Uint8Array, slots?: Int32Array): void {
    if (this.impl) this.impl.deformSamples(this.seed >>> 0, ids, base, this.displacements, this.q, out, slots);
    else deformSamplesTs(this.seed >>> 0, ids, base, this.displacements, this.q, out, slots);
  }
}
