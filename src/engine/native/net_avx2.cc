// The AVX2 + FMA variant (compiled with -mavx2 -mfma; used only when the CPU reports both).
#if !defined(__AVX2__) || !defined(__FMA__)
#error "net_avx2.cc must be compiled with -mavx2 -mfma"
#endif
#include <immintrin.h>
#define MENTIA_NS mentia_avx2
#include "net_impl.h"
#include "probes.h"

namespace mentia {
extern const NetOps avx2Ops = {"avx2+fma",
                        mentia_avx2::create,
                        mentia_avx2::destroy,
                        mentia_avx2::paramCount,
                        mentia_avx2::getParams,
                        mentia_avx2::setParams,
                        mentia_avx2::train,
                        mentia_avx2::lossAndGradient,
                        mentia_avx2::evaluate,
                        mentia_avx2::evaluateAll,
                        mentia_avx2::gemmGflops,
                        mentia_avx2::setTuning,
                        mentia_avx2::fmaPeak,
                           mentia_avx2::setLayer0Sparse};
}
