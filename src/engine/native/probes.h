// Benchmark probes of one compute variant (not the network): the GEMM's speed on one shape with
// its real epilogue, the core's FMA peak, and the GEMM blocking for tuning experiments. Included
// by net_generic.cc, net_avx2.cc and net_avx512.cc after net_impl.h, inside the same MENTIA_NS.
#pragma once
#include <chrono>

#include "net_impl.h"

namespace MENTIA_NS {

/** Best wall time of `run` over repeated calls for at least `seconds` (and at least 3 calls). */
template <class F>
static double bestSeconds(double seconds, F&& run) {
  using clock = std::chrono::steady_clock;
  double best = 1e30;
  const auto end = clock::now() + std::chrono::duration<double>(seconds);
  int reps = 0;
  do {
    const auto t0 = clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(clock::now() - t0).count());
    reps++;
  } while (clock::now() < end || reps < 3);
  return best;
}

/**
 * GFLOP/s (2·M·N·K per call, best call over `seconds`) of one GEMM shape with its real
 * epilogue: 0 plain sgemm C = A·B (A M×K, B K×N, both row-major); 1 forward (W rows
 * broadcast, bias + ReLU + dropout 0.3); 2 input gradient (W columns broadcast, ReLU/dropout
 * derivative); 3 weight gradient fused with Adam (K = batch, rows outer).
 */
static double gemmGflops(int shape, int M, int N, int K, double seconds) {
  N = round16(N);
  // shape 0 pads the leading dimensions by 16 floats: power-of-two strides (1024 floats = 4 KiB)
  // alias in the L1 cache and would measure the cache, not the kernel
  const int pad = shape == 0 ? 16 : 0;
  const int ldA = (shape == 2 ? M : K) + pad;  // shape 2: A is K×M, read by columns
  const int ldB = N + pad;
  Buf A, B, C, m, v, bias, pack;
  A.reset(static_cast<size_t>(shape == 2 ? K : M) * ldA);
  B.reset(static_cast<size_t>(K) * ldB);
  C.reset(static_cast<size_t>(M) * N);
  m.reset(C.size());
  v.reset(C.size());
  bias.reset(M);
  const GemmTuning& t = tuning();
  const Blocking bl = shape == 2 ? t.bwdData : shape == 3 ? t.bwdWeight : t.fwd;
  pack.reset(packFloats(bl, N, K));
  for (size_t i = 0; i < A.size(); i++) A.get()[i] = static_cast<float>((i * 7919) % 1000) * 1e-3f - 0.5f;
  for (size_t i = 0; i < B.size(); i++) B.get()[i] = static_cast<float>((i * 104729) % 1000) * 1e-3f - 0.5f;
  for (size_t i = 0; i < C.size(); i++) C.get()[i] = static_cast<float>((i * 15485863) % 1000) * 1e-3f - 0.5f;
  MaskSpec mask{true, StreamKey{12345u, 678u}, dropThreshold(0.3), static_cast<uint32_t>(M), 0, static_cast<float>(1.0 / 0.7)};
  AdamStep as{0.9f, 0.999f, 0.1f, 0.001f, 1e-3f, 1.0f, 1e-8f};
  const Mat a{A.get(), ldA}, b{B.get(), ldB};
  const GemmScratch s{pack.get(), bl};
  const double best = bestSeconds(seconds, [&] {
    switch (shape) {
      case 1: gemmAB(M, N, K, a, b, C.get(), N, EpiHidden{C.get(), N, bias.get(), mask}, s); break;
      case 2: gemmAtB(M, N, K, a, b, C.get(), N, EpiBack{m.get(), C.get(), N, 1.4f}, s); break;
      case 3: gemmAB(M, N, K, a, b, v.get(), N, EpiAdam{C.get(), m.get(), v.get(), N, as}, s); break;
      default: gemmAB(M, N, K, a, b, C.get(), N, EpiStore{C.get(), N}, s); break;
    }
  });
  return 2.0 * M * N * K / best / 1e9;
}

static double fmaPeak(double seconds) {
  constexpr int ITERS = 1 << 16;
  // 12 independent accumulators (FMA latency × pipes is 8 on current x86 cores), in registers
  vf c0 = bcastv(1.0f), c1 = c0 + 1e-3f, c2 = c0 + 2e-3f, c3 = c0 + 3e-3f, c4 = c0 + 4e-3f, c5 = c0 + 5e-3f;
  vf c6 = c0 + 6e-3f, c7 = c0 + 7e-3f, c8 = c0 + 8e-3f, c9 = c0 + 9e-3f, c10 = c0 + 1e-2f, c11 = c0 + 1.1e-2f;
  vf a = bcastv(0.999999f), b = bcastv(1e-7f);
  // The timing loop is written out here (not bestSeconds): inside a lambda the twelve
  // accumulators stop living in registers and the probe measures a third of the peak.
  using clock = std::chrono::steady_clock;
  double best = 1e30;
  const auto end = clock::now() + std::chrono::duration<double>(seconds);
  int reps = 0;
  do {
    const auto t0 = clock::now();
    for (int it = 0; it < ITERS; it++) {
      c0 = c0 * a + b, c1 = c1 * a + b, c2 = c2 * a + b, c3 = c3 * a + b, c4 = c4 * a + b, c5 = c5 * a + b;
      c6 = c6 * a + b, c7 = c7 * a + b, c8 = c8 * a + b, c9 = c9 * a + b, c10 = c10 * a + b, c11 = c11 * a + b;
#if defined(__AVX__)
      // keeps every accumulator in a register and the loop from being folded
      asm volatile("" : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5), "+v"(c6), "+v"(c7), "+v"(c8), "+v"(c9), "+v"(c10),
                   "+v"(c11), "+v"(a), "+v"(b));
#endif
    }
    best = std::min(best, std::chrono::duration<double>(clock::now() - t0).count());
    reps++;
  } while (clock::now() < end || reps < 3);
  const vf sum = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
  if (sum[0] == 12345.678f) std::puts("");  // the results are used
  return 2.0 * VL * 12 * ITERS / best / 1e9;
}

static void setTuning(int which, int kc, int mc, int nc, int packB, int rowsOuter, int packAMinN) {
  GemmTuning& t = tuning();
  Blocking& b = which == 0 ? t.fwd : which == 1 ? t.bwdData : t.bwdWeight;
  if (kc > 0) b.kc = kc;
  if (mc > 0) b.mc = ((mc + MR - 1) / MR) * MR;
  if (nc > 0) b.nc = round16(nc);
  if (packB >= 0) b.packB = packB != 0;
  if (rowsOuter >= 0) b.rowsOuter = rowsOuter != 0;
  if (packAMinN >= 0) b.packAMinN = packAMinN;
}

}  // namespace MENTIA_NS
