// Cache-blocked SIMD GEMM with fused epilogues, for the three shapes one layer needs.
//
// Everything is stored so that no weight matrix is ever transposed or packed: weights stay
// in their natural layout W[out][in]; activations and their gradients are kept feature-major
// ("transposed", T[unit][sample], samples contiguous). Then
//   forward          Zᵀ[n][b]   = Σ_k W[n][k] · Aᵀ[k][b]       broadcast W rows,     vector Aᵀ
//   input gradient   dAᵀ[k][b]  = Σ_n W[n][k] · dZᵀ[n][b]      broadcast W columns,  vector dZᵀ
//   weight gradient  dW[n][k]   = Σ_b dZᵀ[n][b] · A[b][k]      broadcast dZᵀ,        vector A
// (A = the layer input in natural layout, a cheap transpose of Aᵀ). One micro-kernel serves
// all three: C[i][j] (MR × NR) = Σ_r a(i, r) · b(r, j), with a(i, r) = A[i·rsA + r·csA]
// broadcast and b(r, ·) = NR contiguous floats (two vectors of VL lanes: 6 × 16 with 8-lane
// vectors, 6 × 32 with AVX-512's 16 lanes, where a last panel of 16 columns uses one vector). The result goes to an epilogue functor (bias + ReLU + dropout, dropout/ReLU
// derivative, Adam update, ...) while it is still in registers.
//
// Same numbers on every vector width: each C[i][j] is summed over r in the same order in
// every variant (one accumulator per element, FMA, the same kc blocking along K, partial
// sums added in the same order), and every epilogue is lane-wise. Only MR, NR, mc and nc
// differ between variants; kc must not (it changes the order of the sum).
//
// This header is compiled once per instruction set (see net_impl.h), inside MENTIA_NS.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

#if defined(__AVX__)
#include <immintrin.h>
#endif

#include "simd.h"

namespace MENTIA_NS {
using namespace mentia_simd;

// The vector of this variant: VL float lanes (an AVX-512 register, or 8 lanes: one ymm
// register on AVX2, two xmm halves on SSE2).
// Tile shapes (MENTIA_MR × MENTIA_NV vectors) may be set by the variant's .cc file.
#if defined(__AVX512F__)
constexpr int VL = 16;
#else
constexpr int VL = 8;
#endif
#ifndef MENTIA_MR
#define MENTIA_MR 6
#endif
#ifndef MENTIA_NV
#define MENTIA_NV 2
#endif
typedef float vf __attribute__((vector_size(4 * VL)));
typedef uint32_t vu __attribute__((vector_size(4 * VL)));
typedef int32_t vi __attribute__((vector_size(4 * VL)));

constexpr int MR = MENTIA_MR;       // rows per micro-tile
constexpr int NR = MENTIA_NV * VL;  // columns per micro-tile (N is a multiple of 16)
static_assert(NR == 16 || NR == 32, "tiles are 16 or 32 columns wide");

static inline __attribute__((always_inline)) vf loadv(const float* p) {
  vf r;
  std::memcpy(&r, p, sizeof r);
  return r;
}
static inline __attribute__((always_inline)) void storev(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
static inline __attribute__((always_inline)) vf bcastv(float s) {
#if defined(__AVX512F__)
  return (vf){s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s};
#else
  return (vf){s, s, s, s, s, s, s, s};
#endif
}
static inline __attribute__((always_inline)) vf zerov() { return vf{}; }
static inline __attribute__((always_inline)) vf vmaxv(vf a, vf b) { return a > b ? a : b; }

/** C (R × NV·VL) = Σ_r a(i, r) · b(r, ·), then + the partial sums (unless first), then the
 *  epilogue (if last) or back into the partial sums. */
template <int R, int NV, class Epi>
static inline __attribute__((always_inline)) void microTile(int kc, const float* __restrict A, ptrdiff_t rsA, ptrdiff_t csA,
                                                            const float* __restrict B, ptrdiff_t ldb, float* part, ptrdiff_t ldp,
                                                            bool first, bool last, const Epi& epi, int i0, int j0) {
  vf c[R][NV];
  if (!first) {
    // the partial sums are loaded after the loop: start fetching them now (BLIS does the same)
#pragma GCC unroll 16
    for (int i = 0; i < R; i++) __builtin_prefetch(part + i * ldp, 1);
  }
#pragma GCC unroll 16
  for (int i = 0; i < R; i++)
#pragma GCC unroll 2
    for (int h = 0; h < NV; h++) c[i][h] = zerov();
#pragma GCC unroll 4
  for (int r = 0; r < kc; r++) {
    vf b[NV];
#pragma GCC unroll 2
    for (int h = 0; h < NV; h++) b[h] = loadv(B + VL * h);
#pragma GCC unroll 16
    for (int i = 0; i < R; i++) {
      const vf a = bcastv(A[i * rsA]);
#pragma GCC unroll 2
      for (int h = 0; h < NV; h++) c[i][h] += a * b[h];
    }
    A += csA;
    B += ldb;
  }
  if (!first) {
#pragma GCC unroll 16
    for (int i = 0; i < R; i++)
#pragma GCC unroll 2
      for (int h = 0; h < NV; h++) c[i][h] += loadv(part + i * ldp + VL * h);
  }
  if (last) {
    epi.template apply<R, NV>(i0, j0, c);
  } else {
#pragma GCC unroll 16
    for (int i = 0; i < R; i++)
#pragma GCC unroll 2
      for (int h = 0; h < NV; h++) storev(part + i * ldp + VL * h, c[i][h]);
  }
}

/** microTile<mr, NV> for a run-time mr in 1..MR. */
template <int R, int NV, class Epi>
static inline __attribute__((always_inline)) void tileRows(int mr, int kc, const float* A, ptrdiff_t rsA, ptrdiff_t csA, const float* B,
                                                           ptrdiff_t ldb, float* part, ptrdiff_t ldp, bool first, bool last,
                                                           const Epi& epi, int i0, int j0) {
  if constexpr (R > 1) {
    if (mr < R) return tileRows<R - 1, NV>(mr, kc, A, rsA, csA, B, ldb, part, ldp, first, last, epi, i0, j0);
  }
  microTile<R, NV>(kc, A, rsA, csA, B, ldb, part, ldp, first, last, epi, i0, j0);
}

/** One micro-tile of mr rows and nr columns (NR, or 16 for the last panel when VL = 16). */
template <class Epi>
static __attribute__((noinline)) void tileRow(int mr, int nr, int kc, const float* A, ptrdiff_t rsA, ptrdiff_t csA, const float* B,
                                              ptrdiff_t ldb, float* part, ptrdiff_t ldp, bool first, bool last, const Epi& epi,
                                              int i0, int j0) {
  if constexpr (NR > 16) {
    if (nr < NR) return tileRows<MR, 16 / VL>(mr, kc, A, rsA, csA, B, ldb, part, ldp, first, last, epi, i0, j0);
  }
  tileRows<MR, NR / VL>(mr, kc, A, rsA, csA, B, ldb, part, ldp, first, last, epi, i0, j0);
}

/** How one GEMM call is blocked. */
struct Blocking {
  int kc, mc, nc;
  bool packB;
  bool rowsOuter;  // loop row tiles outside column panels (streams the epilogue's memory row by row)
  int packAMinN;   // copy the broadcast operand into contiguous MR-interleaved panels when N >= this
};

static void transposePanel(const float* src, ptrdiff_t lds, int kc, int nr, int nValid, float* d);
static void packA(const float* A, ptrdiff_t rsA, ptrdiff_t csA, int mr, int kc, float* d);
static void packAColumns(const float* A, ptrdiff_t csA, int mc, int kc, float* d);

/**
 * The GEMM behind the named operations below (gemmAB, gemmAtB, gemmABt), which are what the
 * network and the probes call.
 * C (M × N, N a multiple of 16) = Σ_{r<K} a(i, r) · b(r, j), handed to `epi` tile by tile
 * (MR × NR tiles; the last column panel may be 16 wide when NR = 32).
 * b(r, j) = B[r·ldb + j]; or, when bTransValid >= 0, b(r, j) = B[j·ldb + r] for
 * j < bTransValid and 0 beyond (the operand is then always packed, transposing on the fly).
 * `part` (M × N, leading dimension ldp) holds partial sums when K is split into blocks; it
 * may be the epilogue's own output buffer. `pack` needs packFloats() floats.
 */
template <class Epi>
static void gemm(int M, int N, int K, const float* A, ptrdiff_t rsA, ptrdiff_t csA, const float* B, ptrdiff_t ldb, float* part,
                 ptrdiff_t ldp, const Epi& epi, float* pack, Blocking bl, int bTransValid = -1) {
  if (bTransValid >= 0) bl.packB = true;
  const bool doPackA = N >= bl.packAMinN && !bl.rowsOuter;
  float* packedA = pack + static_cast<size_t>(std::min(bl.kc, K)) * std::min(bl.nc, N) + 64;
  const int nkb = std::max(1, (K + bl.kc - 1) / bl.kc);
  const int kcMax = (K + nkb - 1) / nkb;
  for (int jc = 0; jc < N; jc += bl.nc) {
    const int nc = std::min(bl.nc, N - jc);
    for (int k0 = 0; k0 < K; k0 += kcMax) {
      const int kc = std::min(kcMax, K - k0);
      const bool first = k0 == 0, last = k0 + kc >= K;
      const float* Bb = B + k0 * ldb + jc;
      // column panel j (width nr = NR, or 16 at the end) of the packed operand: pack + j·kc
      if (bTransValid >= 0) {
        for (int j = 0; j < nc; j += NR) {
          const int nr = std::min(NR, nc - j);
          transposePanel(B + (jc + j) * ldb + k0, ldb, kc, nr, std::max(0, std::min(nr, bTransValid - (jc + j))), pack + j * kc);
        }
      } else if (bl.packB) {
        for (int j = 0; j < nc; j += NR) {
          const int nr = std::min(NR, nc - j);
          float* d = pack + j * kc;
          const float* s = Bb + j;
          for (int r = 0; r < kc; r++, d += nr, s += ldb)
            for (int h = 0; h < nr; h += 8) store8(d + h, load8(s + h));
        }
      }
      auto panel = [&](int j) { return bl.packB ? pack + j * kc : Bb + j; };
      auto ldPanel = [&](int nr) { return bl.packB ? static_cast<ptrdiff_t>(nr) : ldb; };
      for (int i0 = 0; i0 < M; i0 += bl.mc) {
        const int mcEnd = std::min(M, i0 + bl.mc);
        if (doPackA) {
          if (rsA == 1)
            packAColumns(A + i0 + k0 * csA, csA, mcEnd - i0, kc, packedA);
          else
            for (int i = i0; i < mcEnd; i += MR)
              packA(A + i * rsA + k0 * csA, rsA, csA, std::min(MR, mcEnd - i), kc, packedA + ((i - i0) / MR) * kc * MR);
          for (int j = 0; j < nc; j += NR) {
            const int nr = std::min(NR, nc - j);
            const float* Bp = panel(j);
            for (int i = i0; i < mcEnd; i += MR)
              tileRow(std::min(MR, mcEnd - i), nr, kc, packedA + ((i - i0) / MR) * kc * MR, 1, MR, Bp, ldPanel(nr), part + i * ldp + jc + j,
                      ldp, first, last, epi, i, jc + j);
          }
        } else if (bl.rowsOuter) {
          for (int i = i0; i < mcEnd; i += MR) {
            const int mr = std::min(MR, mcEnd - i);
            for (int j = 0; j < nc; j += NR) {
              const int nr = std::min(NR, nc - j);
              tileRow(mr, nr, kc, A + i * rsA + k0 * csA, rsA, csA, panel(j), ldPanel(nr), part + i * ldp + jc + j, ldp, first, last, epi,
                      i, jc + j);
            }
          }
        } else {
          for (int j = 0; j < nc; j += NR) {
            const int nr = std::min(NR, nc - j);
            const float* Bp = panel(j);
            for (int i = i0; i < mcEnd; i += MR) {
              const int mr = std::min(MR, mcEnd - i);
              tileRow(mr, nr, kc, A + i * rsA + k0 * csA, rsA, csA, Bp, ldPanel(nr), part + i * ldp + jc + j, ldp, first, last, epi, i,
                      jc + j);
            }
          }
        }
      }
    }
  }
}

// ---------- the named operations (call these, not gemm) ----------
// Operands are row-major matrices: Mat{p, ld} has element (i, j) at p[i·ld + j]. C (M × N, N a
// multiple of 16) goes tile by tile to the epilogue; its buffer `c` (leading dimension ldc) holds
// the partial sums when K is cut into blocks. Scratch: the packing buffer (packFloats floats)
// and the blocking of the product's shape.

/** A row-major matrix operand: element (i, j) at p[i·ld + j]. */
struct Mat {
  const float* p;
  ptrdiff_t ld;
};

/** Packing buffer and blocking of one product. */
struct GemmScratch {
  float* pack;
  const Blocking& bl;
};

/** C = A·B: A (M × K) broadcast by rows, B (K × N). A layer's forward product (A = W, natural;
 *  B = the input, feature-major) and its weight gradient (A = dZ, feature-major; B = the input,
 *  natural). */
template <class Epi>
static inline void gemmAB(int M, int N, int K, Mat A, Mat B, float* c, ptrdiff_t ldc, const Epi& epi, GemmScratch s) {
  gemm(M, N, K, A.p, A.ld, 1, B.p, B.ld, c, ldc, epi, s.pack, s.bl);
}

/** C = Aᵀ·B: A (K × M) read by columns, B (K × N). A layer's input gradient (A = W, natural;
 *  B = dZ, feature-major). */
template <class Epi>
static inline void gemmAtB(int M, int N, int K, Mat A, Mat B, float* c, ptrdiff_t ldc, const Epi& epi, GemmScratch s) {
  gemm(M, N, K, A.p, 1, A.ld, B.p, B.ld, c, ldc, epi, s.pack, s.bl);
}

/** C = A·Bᵀ: A (M × K) by rows, B (N × K), of which only the first `rows` rows exist (the
 *  others count as zero), transposed while packed. Layer 0's forward product on images in
 *  natural layout (B = the batch's images, `rows` = the samples; N = the batch rounded up). */
template <class Epi>
static inline void gemmABt(int M, int N, int K, Mat A, Mat B, int rows, float* c, ptrdiff_t ldc, const Epi& epi, GemmScratch s) {
  gemm(M, N, K, A.p, A.ld, 1, B.p, B.ld, c, ldc, epi, s.pack, s.bl, rows);
}

/** The default blocking for each of the three shapes (tunable via setTuning for experiments). */
struct GemmTuning {
  Blocking fwd{256, 48, 1024, true, false, 128};
  Blocking bwdData{384, 96, 1024, true, false, 128};
  Blocking bwdWeight{512, 1 << 20, 1 << 20, true, true, 1 << 30};
};

inline GemmTuning& tuning() {
  static GemmTuning t;
  return t;
}

/** Floats the pack buffer needs for a call with this blocking on an N-column, K-deep problem. */
static inline size_t packFloats(const Blocking& bl, int N, int K) {
  const size_t kc = std::min(bl.kc, std::max(K, 1));
  const size_t a = N >= bl.packAMinN && !bl.rowsOuter ? ((bl.mc + MR - 1) / MR) * MR * kc + 64 : 0;
  return kc * std::min(bl.nc, N) + 64 + a;
}

#if defined(__AVX__)
/** In registers: col[c][r] = row[r][c] for an 8×8 block (row is clobbered). */
static inline __attribute__((always_inline)) void transpose8x8Regs(__m256 (&row)[8], __m256 (&col)[8]) {
  __m256 t[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(row[i], row[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(row[i], row[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    row[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    row[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    row[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    row[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; i++) {
    col[i] = _mm256_permute2f128_ps(row[i], row[i + 4], 0x20);
    col[i + 4] = _mm256_permute2f128_ps(row[i], row[i + 4], 0x31);
  }
}

/** 8×8 block: dst[c][r] = src[r][c], r, c < 8. */
static inline __attribute__((always_inline)) void transpose8x8(const float* src, ptrdiff_t lds, float* dst, ptrdiff_t ldd) {
  __m256 r[8], c[8];
  for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * lds);
  transpose8x8Regs(r, c);
  for (int i = 0; i < 8; i++) _mm256_storeu_ps(dst + i * ldd, c[i]);
}
#endif

/** d[r·nr + j] = src[j·lds + r] for r < kc, j < nValid; 0 for nValid <= j < nr. */
static void transposePanel(const float* src, ptrdiff_t lds, int kc, int nr, int nValid, float* d) {
  int r0 = 0;
#if defined(__AVX__)
  if (nValid == nr) {
    for (; r0 + 8 <= kc; r0 += 8)
      for (int q = 0; q < nr; q += 8) transpose8x8(src + q * lds + r0, lds, d + r0 * nr + q, nr);
  }
#endif
  for (int r = r0; r < kc; r++)
    for (int j = 0; j < nr; j++) d[r * nr + j] = j < nValid ? src[j * lds + r] : 0.0f;
}

/** d[r·MR + i] = a(i, r) = A[i·rsA + r·csA] for i < mr, r < kc; rows mr..MR-1 are 0.
 *  May write up to 7 floats past the panel (callers leave slack). */
static void packA(const float* A, ptrdiff_t rsA, ptrdiff_t csA, int mr, int kc, float* d) {
  int r0 = 0;
#if defined(__AVX__)
  if (mr == MR && csA == 1) {
    // rows of A, 8 at a time: 8×8 transposes (rows beyond MR are 0), each stored as 8 floats
    // at d + r·MR + 8g; the extra floats of a group land on row r + 1, written next
    constexpr int G = (MR + 7) / 8;
    const __m256 z = _mm256_setzero_ps();
    for (; r0 + 8 <= kc; r0 += 8) {
      __m256 col[G][8];
      for (int g = 0; g < G; g++) {
        __m256 r[8];
        for (int i = 0; i < 8; i++) r[i] = 8 * g + i < MR ? _mm256_loadu_ps(A + (8 * g + i) * rsA + r0) : z;
        transpose8x8Regs(r, col[g]);
      }
      float* o = d + r0 * MR;
      for (int r = 0; r < 8; r++)
        for (int g = 0; g < G; g++) _mm256_storeu_ps(o + r * MR + 8 * g, col[g][r]);
    }
  }
#endif
  for (int r = r0; r < kc; r++)
    for (int i = 0; i < MR; i++) d[r * MR + i] = i < mr ? A[i * rsA + r * csA] : 0.0f;
}

/** Packs a whole mc × kc block with a(i, r) = A[i + r·csA] (the operand is read by columns:
 *  the input gradient's W) into MR-row panels, panel q at d + q·kc·MR. Row by row of A, so
 *  every cache line of A is read once; tile by tile (packA) would revisit rows kc times apart,
 *  which for power-of-two row lengths alias in the caches. */
static void packAColumns(const float* A, ptrdiff_t csA, int mc, int kc, float* d) {
  const int full = mc / MR;
  const int rest = mc - full * MR;
  for (int r = 0; r < kc; r++) {
    const float* row = A + r * csA;
    float* o = d + r * MR;
#if defined(__AVX__)
    if (r + 1 < kc) {
      // MR floats copied 8 at a time: the extra ones land on row r + 1 of the same panel, written next
      for (int q = 0; q < full; q++)
        for (int i = 0; i < MR; i += 8) _mm256_storeu_ps(o + q * kc * MR + i, _mm256_loadu_ps(row + q * MR + i));
    } else
#endif
      for (int q = 0; q < full; q++)
        for (int i = 0; i < MR; i++) o[q * kc * MR + i] = row[q * MR + i];
    if (rest)
      for (int i = 0; i < MR; i++) o[full * kc * MR + i] = i < rest ? row[full * MR + i] : 0.0f;
  }
}

/** dst[c][r] = src[r][c] for r < R, c < C. */
static void transpose(const float* __restrict src, int R, int C, ptrdiff_t lds, float* __restrict dst, ptrdiff_t ldd) {
  constexpr int T = 8;
  for (int r0 = 0; r0 < R; r0 += T) {
    const int r1 = std::min(R, r0 + T);
    for (int c0 = 0; c0 < C; c0 += T) {
      const int c1 = std::min(C, c0 + T);
#if defined(__AVX__)
      if (r1 - r0 == T && c1 - c0 == T) {
        transpose8x8(src + r0 * lds + c0, lds, dst + c0 * ldd + r0, ldd);
        continue;
      }
#endif
      for (int c = c0; c < c1; c++)
        for (int r = r0; r < r1; r++) dst[c * ldd + r] = src[r * lds + c];
    }
  }
}

}  // namespace MENTIA_NS
