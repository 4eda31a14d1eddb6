// Counter-based random numbers for dropout masks: the exact C++ twin of src/engine/rng.ts
// (hash32 = "lowbias32", fmix32, the 64-bit streamKey, uniform; the definition and why it
// has two key words are in rng.ts). Any change here must be mirrored there.
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

/** MurmurHash3's 32-bit finalizer: the second key chain. */
static inline uint32_t fmix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x85ebca6bu;
  x ^= x >> 13;
  x *= 0xc2b2ae35u;
  x ^= x >> 16;
  return x;
}

/** A mask stream's 64-bit key. */
struct StreamKey {
  uint32_t k0 = 0, k1 = 0;
};

static inline StreamKey streamKey(uint32_t seed, uint32_t a, uint32_t b, uint32_t c) {
  return StreamKey{hash32(hash32(hash32(hash32(seed) ^ a) ^ b) ^ c), fmix32(fmix32(fmix32(fmix32(seed) ^ a) ^ b) ^ c)};
}

/** The 24-bit integer behind uniform(key, i) = bits24(key, i) · 2^-24. */
static inline uint32_t bits24(StreamKey k, uint32_t i) { return hash32(hash32(i + k.k0) ^ k.k1) >> 8; }

/**
 * uniform(key, i) < p  ⇔  bits24(key, i) < ceil(p · 2^24): an exact integer test (p · 2^24 is
 * exact in double), so masks agree bit for bit with the TypeScript definition.
 */
static inline uint32_t dropThreshold(double p) {
  if (!(p > 0)) return 0;
  if (p >= 1) return 1u << 24;
  return static_cast<uint32_t>(std::ceil(p * 16777216.0));
}

/** Lane-wise hash32 of a vector of uint32 (8 or 16 lanes). */
template <class VU>
static inline __attribute__((always_inline)) VU hash32v(VU x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

/** bits24 lane-wise, compared with the threshold: all-ones in lanes where the unit is removed.
 *  VU/VI: an unsigned/signed 32-bit vector type of the same width. */
template <class VU, class VI>
static inline __attribute__((always_inline)) VI removedV(StreamKey key, VU idx, uint32_t threshold) {
  const VU x = hash32v<VU>(hash32v<VU>(idx + key.k0) ^ key.k1);
  // 24-bit values: a signed compare is exact.
  return (VI)(x >> 8) < static_cast<int32_t>(threshold);
}

static inline mentia_simd::v8i removed8(StreamKey key, mentia_simd::v8u idx, uint32_t threshold) {
  return removedV<mentia_simd::v8u, mentia_simd::v8i>(key, idx, threshold);
}

}  // namespace mentia_hash
