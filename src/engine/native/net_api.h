// The instruction-set independent face of the native engine: addon.cc talks to one of the
// compiled variants (generic, AVX2+FMA, AVX-512) only through this table of functions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace mentia {

struct NetConfig {
  int width = 0;
  int depth = 0;
  bool adam = true;
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, momentum = 0.9;
  uint32_t seed = 0;
};

struct DataView {
  const float* x = nullptr;    // n × 784
  const uint8_t* y = nullptr;  // n
  int64_t n = 0;
};

struct TrainResult {
  double lossSum = 0;  // Σ per-sample cross-entropy over visited samples
  int64_t steps = 0;
  int64_t samples = 0;
};

struct EvalDraw {
  double lossSum = 0;  // Σ per-sample CE
  int64_t correct = 0;
};

struct EvalConfig {
  double pEval = 0;
  bool maskMode = false;  // false: independent per sample ("sample"), true: one mask per draw
  bool rescale = true;
  int batch = 1000;
  // Layer 0 from each sample's nonzero pixels even when the network keeps layer 0 dense (the
  // same numbers as the GEMM): for networks whose first-layer weights change per evaluation
  // (the pruning modes), where layer 0's product cannot be shared.
  bool sparseInput = false;
  // Evaluate the rows rows[0..nRows) of the data, in this order (sample i of the evaluation is
  // row rows[i]); nullptr: all rows 0..n.
  const int32_t* rows = nullptr;
  int64_t nRows = 0;
  // The same rows of the same data as the previous call with rows (the caller guarantees it):
  // the network may reuse what it kept of them (their nonzero pixels).
  bool reuseRows = false;
};

/** Thrown (as std::runtime_error) for invalid input: bad row index, label > 9, ... */

struct NetOps {
  const char* isa;  // "avx512", "avx2+fma" or "generic"
  void* (*create)(const NetConfig& cfg, const float* params);
  void (*destroy)(void* net);
  int64_t (*paramCount)(void* net);
  void (*getParams)(void* net, float* out);
  void (*setParams)(void* net, const float* in);
  /** Training over order[0..count) in mini-batches; step of the k-th batch = firstStep + k.
   *  reuseRows: d is the same data (same array, same contents) as the previous train call's, so
   *  what the network kept of its rows (their nonzero pixels) may be reused. */
  TrainResult (*train)(void* net, const DataView& d, const int32_t* order, int64_t count, int batch, double pTrain,
                       uint32_t firstStep, int64_t maxSteps, bool reuseRows);
  /** Mean loss and gradient (flat parameter layout) for rows as one batch; no update. */
  double (*lossAndGradient)(void* net, const DataView& d, const int32_t* rows, int64_t count, double pTrain, uint32_t step,
                            float* gradOut);
  /** Fills draws[0..K); when given, sampleLoss/sampleCorrect (n each) get the per-sample
   *  values of the last draw. */
  void (*evaluate)(void* net, const DataView& d, const EvalConfig& cfg, int K, EvalDraw* draws, double* sampleLoss,
                   uint8_t* sampleCorrect);
  /** evaluate() at nP removal rates in one pass (cfg.pEval unused): draws[p·K + k] (K_p = 1 when
   *  pEvals[p] = 0); sampleLoss/sampleCorrect (nP·n each, when given) get p's last draw at p·n. */
  void (*evaluateAll)(void* net, const DataView& d, const EvalConfig& cfg, int nP, const double* pEvals, int K, EvalDraw* draws,
                      double* sampleLoss, uint8_t* sampleCorrect);
  /** GFLOP/s of this variant's GEMM on an M×N×K problem of one shape (see net_impl.h). */
  double (*gemmGflops)(int shape, int M, int N, int K, double seconds);
  /** Set the blocking of one GEMM shape (0 forward, 1 input gradient, 2 weight gradient), for
   *  tuning experiments; values < 0 (kc, mc, nc: <= 0) keep the current setting. */
  void (*setTuning)(int which, int kc, int mc, int nc, int packB, int rowsOuter, int packAMinN);
  /** GFLOP/s of a plain loop of independent FMAs on this variant's vectors (2·lanes flops per
   *  FMA; mul + add where the variant has no FMA), best of repeated runs over `seconds`: the
   *  CPU's arithmetic peak at this vector width on one core. */
  double (*fmaPeak)(double seconds);
  /** Layer 0 from each batch's nonzero pixels (true) or as a dense GEMM (false), in training and
   *  evaluation; the same numbers either way. Changes the layout layer 0 is kept in. */
  void (*setLayer0Sparse)(void* net, bool sparse);
};

extern const NetOps genericOps;
extern const NetOps avx2Ops;    // only built on x86-64 (MENTIA_HAVE_X86)
extern const NetOps avx512Ops;  // only built on x86-64 (MENTIA_HAVE_X86)

}  // namespace mentia
