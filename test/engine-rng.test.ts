import { test } from "node:test";
import assert from "node:assert/strict";
import { bits24, hash32, STREAM_EVAL_MASK, STREAM_EVAL_SAMPLE, STREAM_TRAIN_DROPOUT, streamKey, type StreamKey } from "../src/engine/rng.js";

test("mask streams follow the documented definition (values from an independent implementation)", () => {
  // Computed with Python integers from the formulas in rng.ts's header; the native engine
  // (hash.h) is held to the same values by the native/reference agreement tests.
  const cases: Array<[[number, number, number, number], number, number, number[]]> = [
    [[0, 1, 0, 0], 0x24009c6d, 0x5716f995, [13432400, 1608701, 9106598, 4179188]],
    [[7, 2, 3, 1], 0x39a5216c, 0xfcf37fae, [7119382, 4488061, 8361651, 1130644]],
    [[4294967295, 3, 123456, 5], 0x8c893cf5, 0xf3072752, [2087503, 15913729, 9610916, 8787069]],
  ];
  for (const [[s, a, b, c], k0, k1, bits] of cases) {
    const key = streamKey(s, a, b, c);
    assert.deepEqual(key, { k0, k1 }, `streamKey(${s}, ${a}, ${b}, ${c})`);
    assert.deepEqual([0, 1, 1000, 4294967295].map((i) => bits24(key, i)), bits);
  }
});

/**
 * Looks for streams that are shifted copies of each other (or of themselves). Content-defined
 * anchors: every position whose value is ≡ 0 mod 64 starts a fingerprint of three consecutive
 * 24-bit values; two streams that share a shifted window share the anchors inside it.
 * Returns the number of anchors seen twice (a chance repeat of 3 × 24 bits among ~10^6
 * anchors has probability ~10^-9).
 */
function shiftedCopies(keys: unknown[], n: number, value: (key: never, i: number) => number): number {
  const seen = new Map<string, number>();
  let repeats = 0;
  const win = new Uint32Array(n + 2);
  keys.forEach((key, s) => {
    for (let i = 0; i < n + 2; i++) win[i] = value(key as never, i);
    for (let i = 0; i < n; i++) {
      if ((win[i] & 63) !== 0) continue;
      const f = `${win[i]},${win[i + 1]},${win[i + 2]}`;
      if (seen.has(f)) repeats++;
      else seen.set(f, s * n + i);
    }
  });
  return repeats;
}

test("no mask stream is a shifted copy of another (and the check finds those of the old 32-bit-key generator)", () => {
  // 4,000 streams as one job set draws them (2 seeds × 500 steps × 4 layers of training masks)
  // plus evaluation streams, 4,096 elements each (a batch of 32 × width 128).
  const n = 4096;
  const tuples: Array<[number, number, number, number]> = [];
  for (const seed of [1, 2])
    for (let step = 0; step < 500; step++) for (let layer = 0; layer < 4; layer++) tuples.push([seed, STREAM_TRAIN_DROPOUT, step, layer]);
  for (let draw = 0; draw < 50; draw++)
    for (let layer = 0; layer < 4; layer++) {
      tuples.push([1, STREAM_EVAL_SAMPLE, draw, layer]);
      tuples.push([1, STREAM_EVAL_MASK, draw, layer]);
    }
  const keys = tuples.map(([s, a, b, c]) => streamKey(s, a, b, c));
  assert.equal(new Set(keys.map((k) => `${k.k0},${k.k1}`)).size, keys.length, "distinct 64-bit keys");
  assert.equal(shiftedCopies(keys, n, (k: StreamKey, i) => bits24(k, i)), 0, "shifted copies among the streams");

  // Control: mentia ≤ 0.1's generator, bits = hash32(key + i·φ) >>> 8 with a 32-bit key,
  // makes every stream a window of one sequence; among these streams some overlap
  // (expected ~4,000²/2 · 2·4096/2^32 ≈ 15 pairs), and the same check must see them.
  const oldKeys = tuples.map(([s, a, b, c]) => hash32(hash32(hash32(hash32(s) ^ a) ^ b) ^ c));
  const old = shiftedCopies(oldKeys, n, (k: number, i) => hash32((k + Math.imul(i, 0x9e3779b9)) >>> 0) >>> 8);
  assert.ok(old > 0, `the check finds the old generator's shifted copies (found ${old} repeated anchors)`);
});
