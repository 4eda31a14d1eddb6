// The AVX-512 variant (compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma; used only
// when the CPU reports all of them): 16-lane vectors, 6 × 32 micro-tiles. Same numbers as the
// AVX2 variant (see kernels.h).
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512DQ__) || !defined(__AVX512VL__) || !defined(__FMA__)
#error "net_avx512.cc must be compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma"
#endif
#include <immintrin.h>
#define MENTIA_NS mentia_avx512
// 6 × 32 tiles (12 zmm accumulators): on Zen 4 (512-bit FMAs issued as two 256-bit halves)
// within a few % of 8 × 16, 12 × 16 and 16 × 16, and the best on the small-batch shapes
#define MENTIA_MR 6
#define MENTIA_NV 2
#include "net_impl.h"
#include "probes.h"

namespace mentia {
extern const NetOps avx512Ops = {"avx512",
                                 mentia_avx512::create,
                                 mentia_avx512::destroy,
                                 mentia_avx512::paramCount,
                                 mentia_avx512::getParams,
                                 mentia_avx512::setParams,
                                 mentia_avx512::train,
                                 mentia_avx512::lossAndGradient,
                                 mentia_avx512::evaluate,
                                 mentia_avx512::evaluateAll,
                                 mentia_avx512::gemmGflops,
                                 mentia_avx512::setTuning,
                                 mentia_avx512::fmaPeak,
                           mentia_avx512::setLayer0Sparse};
}
