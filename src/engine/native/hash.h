// Counter-based random numbers for dropout masks: the exact C++ twin of src/engine/rng.ts
// (hash32 = "lowbias32", streamKey, uniform). Any change here must be mirrored there.
#pragma once
#include <cmath>
#include <cstdint>

#include "simd.h"

namespace mentia_hash {

enum : uint32_t { STREAM_TRAIN_DROPOUT = 1, STREAM_EVAL_SAMPLE = 2, STREAM_EVAL_MASK = 3 };

static inline uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

static inline uint32_t streamKey(uint32_t seed, uint32_t a, uint32_t b, uint32_t c) {
  return hash32(hash32(hash32(hash32(seed) ^ a) ^ b) ^ c);
}

/** The 24-bit integer behind uniform(key, i) = bits24(key, i) · 2^-24. */
static inline uint32_t bits24(uint32_t key, uint32_t i) { return hash32(key + i * 0x9E3779B9u) >> 8; }

/**
 * uniform(key, i) < p  ⇔  bits24(key, i) < ceil(p · 2^24): an exact integer test (p · 2^24 is
 * exact in double), so masks agree bit for bit with the TypeScript definition.
 */
static inline uint32_t dropThreshold(double p) {
  if (!(p > 0)) return 0;
  if (p >= 1) return 1u << 24;
  return static_cast<uint32_t>(std::ceil(p * 16777216.0));
}

/** Eight lanes at once: returns all-ones in lanes where the unit is removed. */
static inline mentia_simd::v8i removed8(uint32_t key, mentia_simd::v8u idx, uint32_t threshold) {
  using namespace mentia_simd;
  v8u x = bcastu(key) + idx * bcastu(0x9E3779B9u);
  x ^= x >> 16;
  x *= bcastu(0x7feb352du);
  x ^= x >> 15;
  x *= bcastu(0x846ca68bu);
  x ^= x >> 16;
  // 24-bit values: a signed compare is exact.
  return (v8i)(x >> 8) < (v8i)bcastu(threshold);
}

}  // namespace mentia_hash
