// The portable variant (whatever the compiler's baseline target is: SSE2 on x86-64, NEON on arm64).
#define MENTIA_NS mentia_generic
#include "net_impl.h"
#include "probes.h"

namespace mentia {
extern const NetOps genericOps = {"generic",
                           mentia_generic::create,
                           mentia_generic::destroy,
                           mentia_generic::paramCount,
                           mentia_generic::getParams,
                           mentia_generic::setParams,
                           mentia_generic::train,
                           mentia_generic::lossAndGradient,
                           mentia_generic::evaluate,
                           mentia_generic::evaluateAll,
                           mentia_generic::gemmGflops,
                           mentia_generic::setTuning,
                           mentia_generic::fmaPeak,
                           mentia_generic::setLayer0Sparse};
}
