// Cache-blocked SIMD GEMM with fused epilogues, for the three shapes one layer needs.
//
// Everything is stored so that no weight matrix is ever transposed or packed: weights stay
// in their natural layout W[out][in]; activations and their gradients are kept feature-major
// ("transposed", T[unit][sample], samples contiguous). Then
//   forward          Zᵀ[n][b]   = Σ_k W[n][k] · Aᵀ[k][b]       broadcast W rows,     vector Aᵀ
//   input gradient   dAᵀ[k][b]  = Σ_n W[n][k] · dZᵀ[n][b]      broadcast W columns,  vector dZᵀ
//   weight gradient  dW[n][k]   = Σ_b dZᵀ[n][b] · A[b][k]      broadcast dZᵀ,        vector A
// (A = the layer input in natural layout, a cheap transpose of Aᵀ). One micro-kernel serves
// all three: C[i][j] (MR × 16) = Σ_r a(i, r) · b(r, j), with a(i, r) = A[i·rsA + r·csA]
// broadcast and b(r, ·) = 16 contiguous floats. The result goes to an epilogue functor
// (bias + ReLU + dropout, dropout/ReLU derivative, Adam update, ...) while it is still in
// registers.
//
// This header is compiled once per instruction set (see net_impl.h), inside MENTIA_NS.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "simd.h"

namespace MENTIA_NS {
using namespace mentia_simd;

constexpr int MR = 6;   // rows per micro-tile
constexpr int NR = 16;  // columns per micro-tile (two 8-lane vectors)

struct GemmTuning {
  int kc = 256;      // reduction block
  int mc = 96;       // rows per block (multiple of MR)
  int nc = 256;      // columns per block (multiple of NR)
  bool packB = true; // copy the vector operand into contiguous kc×16 panels
  int packMinK = 0;  // pack only when the reduction is at least this long
};

inline GemmTuning& tuning() {
  static GemmTuning t;
  return t;
}

template <int R, class Epi>
static inline __attribute__((always_inline)) void microTile(int kc, const float* __restrict A, ptrdiff_t rsA, ptrdiff_t csA,
                                                            const float* __restrict B, ptrdiff_t ldb, float* part, ptrdiff_t ldp,
                                                            bool first, bool last, const Epi& epi, int i0, int j0) {
  v8f c[R][2];
#pragma GCC unroll 6
  for (int i = 0; i < R; i++) c[i][0] = c[i][1] = zero8();
#pragma GCC unroll 2
  for (int r = 0; r < kc; r++) {
    const v8f b0 = load8(B), b1 = load8(B + 8);
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
      const v8f a = bcast(A[i * rsA]);
      c[i][0] += a * b0;
      c[i][1] += a * b1;
    }
    A += csA;
    B += ldb;
  }
  if (!first) {
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
      c[i][0] += load8(part + i * ldp);
      c[i][1] += load8(part + i * ldp + 8);
    }
  }
  if (last) {
    epi.template apply<R>(i0, j0, c);
  } else {
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
      store8(part + i * ldp, c[i][0]);
      store8(part + i * ldp + 8, c[i][1]);
    }
  }
}

template <class Epi>
static __attribute__((noinline)) void tileRow(int mr, int kc, const float* A, ptrdiff_t rsA, ptrdiff_t csA, const float* B,
                                              ptrdiff_t ldb, float* part, ptrdiff_t ldp, bool first, bool last, const Epi& epi,
                                              int i0, int j0) {
  switch (mr) {
    case 6: microTile<6>(kc, A, rsA, csA, B, ldb, part, ldp, first, last, epi, i0, j0); break;
    case 5: microTile<5>(kc, A, rsA, csA, B, ldb, part, ldp, first, last, epi, i0, j0); break;
    case 4: microTile<4>(kc, A, rsA, csA, B, ldb, part, ldp, first, last, epi, i0, j0); break;
    case 3: microTile<3>(kc, A, rsA, csA, B, ldb, part, ldp, first, last, epi, i0, j0); break;
    case 2: microTile<2>(kc, A, rsA, csA, B, ldb, part, ldp, first, last, epi, i0, j0); break;
    default: microTile<1>(kc, A, rsA, csA, B, ldb, part, ldp, first, last, epi, i0, j0); break;
  }
}

/**
 * C (M × N, N a multiple of 16) = Σ_{r<K} a(i, r) · B[r][j], handed to `epi` tile by tile.
 * `part` (M × N, leading dimension ldp) holds partial sums when K is split into blocks; it
 * may be the epilogue's own output buffer. `pack` needs kc·nc floats.
 */
template <class Epi>
static void gemm(int M, int N, int K, const float* A, ptrdiff_t rsA, ptrdiff_t csA, const float* B, ptrdiff_t ldb, float* part,
                 ptrdiff_t ldp, const Epi& epi, float* pack) {
  const GemmTuning& t = tuning();
  const int nkb = std::max(1, (K + t.kc - 1) / t.kc);
  const int kcMax = (K + nkb - 1) / nkb;
  const bool doPack = t.packB && K >= t.packMinK;
  for (int jc = 0; jc < N; jc += t.nc) {
    const int nc = std::min(t.nc, N - jc);
    for (int k0 = 0; k0 < K; k0 += kcMax) {
      const int kc = std::min(kcMax, K - k0);
      const bool first = k0 == 0, last = k0 + kc >= K;
      const float* Bb = B + k0 * ldb + jc;
      if (doPack) {
        for (int j = 0; j < nc; j += NR) {
          float* d = pack + (j / NR) * kc * NR;
          const float* s = Bb + j;
          for (int r = 0; r < kc; r++, d += NR, s += ldb) {
            store8(d, load8(s));
            store8(d + 8, load8(s + 8));
          }
        }
      }
      for (int i0 = 0; i0 < M; i0 += t.mc) {
        const int mcEnd = std::min(M, i0 + t.mc);
        for (int j = 0; j < nc; j += NR) {
          const float* Bp = doPack ? pack + (j / NR) * kc * NR : Bb + j;
          const ptrdiff_t lb = doPack ? NR : ldb;
          for (int i = i0; i < mcEnd; i += MR) {
            const int mr = std::min(MR, mcEnd - i);
            tileRow(mr, kc, A + i * rsA + k0 * csA, rsA, csA, Bp, lb, part + i * ldp + jc + j, ldp, first, last, epi, i,
                    jc + j);
          }
        }
      }
    }
  }
}

/** dst[c][r] = src[r][c] for r < R, c < C. */
static void transpose(const float* __restrict src, int R, int C, ptrdiff_t lds, float* __restrict dst, ptrdiff_t ldd) {
  constexpr int T = 8;
  for (int r0 = 0; r0 < R; r0 += T) {
    const int r1 = std::min(R, r0 + T);
    for (int c0 = 0; c0 < C; c0 += T) {
      const int c1 = std::min(C, c0 + T);
      for (int c = c0; c < c1; c++)
        for (int r = r0; r < r1; r++) dst[c * ldd + r] = src[r * lds + c];
    }
  }
}

}  // namespace MENTIA_NS
