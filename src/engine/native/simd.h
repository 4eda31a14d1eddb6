// Portable 8-lane float / uint32 vectors (GCC/Clang vector extensions). Compiled once per
// target (generic x86-64 / AVX2+FMA, or whatever the host is): the same source becomes two
// 128-bit halves on SSE2 and one ymm register on AVX2.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace mentia_simd {

typedef float v8f __attribute__((vector_size(32)));
typedef uint32_t v8u __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) v8f load8(const float* p) {
  v8f r;
  std::memcpy(&r, p, sizeof r);
  return r;
}
static inline __attribute__((always_inline)) void store8(float* p, v8f v) { std::memcpy(p, &v, sizeof v); }
static inline __attribute__((always_inline)) v8f bcast(float s) { return (v8f){s, s, s, s, s, s, s, s}; }
static inline __attribute__((always_inline)) v8u bcastu(uint32_t s) { return (v8u){s, s, s, s, s, s, s, s}; }
static inline __attribute__((always_inline)) v8f zero8() { return (v8f){0, 0, 0, 0, 0, 0, 0, 0}; }
static inline __attribute__((always_inline)) v8f vmax(v8f a, v8f b) { return a > b ? a : b; }

}  // namespace mentia_simd
