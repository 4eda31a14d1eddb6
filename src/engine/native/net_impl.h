// The native network: whole training steps (gather, forward with dropout, softmax
// cross-entropy, backward, optimiser update) and evaluation under p_eval, over buffers that are
// allocated once and only grow when a larger batch arrives. Semantics: see
// src/engine/types.ts and src/engine/reference.ts; masks: hash.h (= src/engine/rng.ts).
//
// Included by net_generic.cc, net_avx2.cc and net_avx512.cc with MENTIA_NS set, so one source
// gives one variant per instruction set; addon.cc picks one at run time.
#pragma once
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#if defined(__AVX__)
#include <immintrin.h>
#endif

#include "hash.h"
#include "kernels.h"
#include "net_api.h"

namespace MENTIA_NS {
using namespace mentia_hash;
using mentia::DataView;
using mentia::EvalConfig;
using mentia::EvalDraw;
using mentia::NetConfig;
using mentia::TrainResult;

constexpr int IN = 784;
constexpr int CLASSES = 10;

static inline int round16(int n) { return (n + 15) & ~15; }

/** A zero-initialised, 64-byte aligned float array. */
class Buf {
 public:
  Buf() = default;
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  Buf(Buf&& o) noexcept : p_(o.p_), n_(o.n_) {
    o.p_ = nullptr;
    o.n_ = 0;
  }
  Buf& operator=(Buf&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  ~Buf() { std::free(p_); }
  void reset(size_t n) {
    std::free(p_);
    p_ = nullptr;
    n_ = n;
    // + 64 bytes of slack: packing may read a few floats past the end of a weight matrix
    const size_t bytes = ((std::max<size_t>(n, 1) * sizeof(float) + 63) / 64) * 64 + 64;
    p_ = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!p_) throw std::bad_alloc();
    std::memset(p_, 0, bytes);
  }
  void zero() { std::memset(p_, 0, n_ * sizeof(float)); }
  /** Grows to n floats, keeping the first `keep`; the others are left uninitialised (for
   *  buffers only ever read where written). */
  void grow(size_t n, size_t keep) {
    const size_t bytes = ((std::max<size_t>(n, 1) * sizeof(float) + 63) / 64) * 64 + 64;
    float* q = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!q) throw std::bad_alloc();
    if (keep) std::memcpy(q, p_, keep * sizeof(float));
    std::free(p_);
    p_ = q;
    n_ = n;
  }
  float* get() const { return p_; }
  size_t size() const { return n_; }

 private:
  float* p_ = nullptr;
  size_t n_ = 0;
};

/** A small owned array of plain values. Kept inside MENTIA_NS (rather than std::vector<int>)
 *  so that no out-of-line template code is shared between the per-ISA variants. */
template <class T>
class Arr {
 public:
  Arr() = default;
  Arr(const Arr&) = delete;
  Arr& operator=(const Arr&) = delete;
  ~Arr() { std::free(p_); }
  void reset(size_t n) {
    std::free(p_);
    p_ = static_cast<T*>(std::calloc(std::max<size_t>(n, 1), sizeof(T)));
    if (!p_) throw std::bad_alloc();
  }
  /** Grows to n values, keeping the first `keep`; the others are left uninitialised (for
   *  arrays only ever read where written). */
  void grow(size_t n, size_t keep) {
    T* q = static_cast<T*>(std::malloc(std::max<size_t>(n, 1) * sizeof(T)));
    if (!q) throw std::bad_alloc();
    if (keep) std::memcpy(q, p_, keep * sizeof(T));
    std::free(p_);
    p_ = q;
  }
  T* get() const { return p_; }
  T& operator[](size_t i) const { return p_[i]; }

 private:
  T* p_ = nullptr;
};

[[noreturn]] static void fail(const char* fmt, long long a, long long b = 0) {
  char msg[200];
  std::snprintf(msg, sizeof msg, fmt, a, b);
  throw std::runtime_error(msg);
}

/** One linear layer. Weights are stored W[out][ld] ("natural": a row per output unit) with
 *  ld = in rounded up to 16 (the pad columns are zero, receive zero gradient and stay zero), so
 *  the weight-gradient tiles never need edge handling. Layer 0 of a network in sparse mode is
 *  instead kept "pixel-major": W[c][ldT] (IN × ldT, a row per input pixel c, ldT = out rounded
 *  up to 16, pad columns zero), so that a nonzero pixel's weights are one contiguous row.
 *  gW, mW, vW have W's shape and layout; b, gb, mb, vb are out floats (mW/mb: Adam's first
 *  moment or SGD's momentum buffer; vW/vb: Adam's second moment, only with Adam). */
struct Layer {
  int in = 0, out = 0, ld = 0;
  bool pixelMajor = false;
  int ldT = 0;  // pixelMajor: row length of W (out rounded up to 16)
  Buf W, b, gW, gb, mW, mb, vW, vb;
};

/** Dropout for one hidden layer of one forward pass. */
struct MaskSpec {
  bool drop = false;
  StreamKey key;
  uint32_t threshold = 0;
  uint32_t colMul = 0, colBase = 0;  // element index = sample·colMul + colBase + unit
  float scale = 1;                   // survivors are multiplied by this
};

// ---------- epilogues ----------
// Each gets a tile c[i][h] (R rows × NV vectors of VL lanes) of the result at rows i0 + i,
// columns j0 + VL·h, and works lane by lane (the same numbers on every vector width).

#if defined(__AVX512F__)
static const vu LANES = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
#else
static const vu LANES = {0, 1, 2, 3, 4, 5, 6, 7};
#endif

/** Hidden layer forward: bias, ReLU, dropout. */
struct EpiHidden {
  float* out;
  ptrdiff_t ld;
  const float* bias;
  MaskSpec m;
  template <int R, int NV>
  inline __attribute__((always_inline)) void apply(int i0, int j0, vf (&c)[R][NV]) const {
#pragma GCC unroll 16
    for (int i = 0; i < R; i++) {
      const vf bi = bcastv(bias[i0 + i]);
#pragma GCC unroll 2
      for (int h = 0; h < NV; h++) {
        vf z = vmaxv(c[i][h] + bi, zerov());
        if (m.drop) {
          const vu idx = (LANES + static_cast<uint32_t>(j0 + VL * h)) * m.colMul + (m.colBase + static_cast<uint32_t>(i0 + i));
          const vi rm = removedV<vu, vi>(m.key, idx, m.threshold);
          z = rm ? zerov() : z * bcastv(m.scale);
        }
        storev(out + (i0 + i) * ld + j0 + VL * h, z);
      }
    }
  }
};

/** Output layer forward: bias only. */
struct EpiLogits {
  float* out;
  ptrdiff_t ld;
  const float* bias;
  template <int R, int NV>
  inline __attribute__((always_inline)) void apply(int i0, int j0, vf (&c)[R][NV]) const {
#pragma GCC unroll 16
    for (int i = 0; i < R; i++) {
      const vf bi = bcastv(bias[i0 + i]);
#pragma GCC unroll 2
      for (int h = 0; h < NV; h++) storev(out + (i0 + i) * ld + j0 + VL * h, c[i][h] + bi);
    }
  }
};

/** Input gradient through dropout and ReLU: dZ = (a > 0) ? dA·scale : 0, where a is the
 *  stored post-dropout activation (a > 0 exactly when the unit survived and Z > 0). */
struct EpiBack {
  float* out;
  const float* act;
  ptrdiff_t ld;
  float scale;
  template <int R, int NV>
  inline __attribute__((always_inline)) void apply(int i0, int j0, vf (&c)[R][NV]) const {
#pragma GCC unroll 16
    for (int i = 0; i < R; i++) {
#pragma GCC unroll 2
      for (int h = 0; h < NV; h++) {
        const ptrdiff_t o = (i0 + i) * ld + j0 + VL * h;
        const vf a = loadv(act + o);
        storev(out + o, a > zerov() ? c[i][h] * bcastv(scale) : zerov());
      }
    }
  }
};

/** Weight gradient stored (lossAndGradient, or an optimiser applied afterwards). */
struct EpiStore {
  float* out;
  ptrdiff_t ld;
  template <int R, int NV>
  inline __attribute__((always_inline)) void apply(int i0, int j0, vf (&c)[R][NV]) const {
#pragma GCC unroll 16
    for (int i = 0; i < R; i++)
#pragma GCC unroll 2
      for (int h = 0; h < NV; h++) storev(out + (i0 + i) * ld + j0 + VL * h, c[i][h]);
  }
};

static inline vf vsqrt(vf x) {
#if defined(__AVX512F__)
  return (vf)_mm512_maskz_sqrt_ps(static_cast<__mmask16>(0xFFFF), (__m512)x);  // (maskz: no "undefined" source operand)
#elif defined(__AVX__)
  return (vf)_mm256_sqrt_ps((__m256)x);
#else
  vf r;
  for (int k = 0; k < VL; k++) r[k] = std::sqrt(x[k]);
  return r;
#endif
}

/** Adam constants of one step (PyTorch's formulation). */
struct AdamStep {
  float b1, b2, omb1, omb2, stepSize, invSqrtBc2, eps;
};

static inline __attribute__((always_inline)) void adamV(float* p, float* m, float* v, vf g, const AdamStep& s) {
  const vf mm = bcastv(s.b1) * loadv(m) + bcastv(s.omb1) * g;
  const vf vv = bcastv(s.b2) * loadv(v) + bcastv(s.omb2) * (g * g);
  storev(m, mm);
  storev(v, vv);
  const vf denom = vsqrt(vv) * bcastv(s.invSqrtBc2) + bcastv(s.eps);
  storev(p, loadv(p) - bcastv(s.stepSize) * (mm / denom));
}

static inline void adam1(float* p, float* m, float* v, float g, const AdamStep& s) {
  const float mm = s.b1 * *m + s.omb1 * g;
  const float vv = s.b2 * *v + s.omb2 * (g * g);
  *m = mm;
  *v = vv;
  const float denom = std::sqrt(vv) * s.invSqrtBc2 + s.eps;
  *p = *p - s.stepSize * (mm / denom);
}

/** Weight gradient fused with the Adam update of the same tile. */
struct EpiAdam {
  float *W, *m, *v;
  ptrdiff_t ld;
  AdamStep s;
  template <int R, int NV>
  inline __attribute__((always_inline)) void apply(int i0, int j0, vf (&c)[R][NV]) const {
#pragma GCC unroll 16
    for (int i = 0; i < R; i++) {
#pragma GCC unroll 2
      for (int h = 0; h < NV; h++) {
        const ptrdiff_t o = (i0 + i) * ld + j0 + VL * h;
        adamV(W + o, m + o, v + o, c[i][h], s);
      }
    }
  }
};

struct SgdStep {
  float lr, momentum;
  bool first;
};

static inline __attribute__((always_inline)) void sgdV(float* p, float* buf, vf g, const SgdStep& s) {
  const vf bb = s.first ? g : bcastv(s.momentum) * loadv(buf) + g;
  storev(buf, bb);
  storev(p, loadv(p) - bcastv(s.lr) * bb);
}

static inline void sgd1(float* p, float* buf, float g, const SgdStep& s) {
  *buf = s.first ? g : s.momentum * *buf + g;
  *p -= s.lr * *buf;
}

/** Weight gradient fused with the SGD(momentum) update. */
struct EpiSgd {
  float *W, *buf;
  ptrdiff_t ld;
  SgdStep s;
  template <int R, int NV>
  inline __attribute__((always_inline)) void apply(int i0, int j0, vf (&c)[R][NV]) const {
#pragma GCC unroll 16
    for (int i = 0; i < R; i++) {
#pragma GCC unroll 2
      for (int h = 0; h < NV; h++) {
        const ptrdiff_t o = (i0 + i) * ld + j0 + VL * h;
        sgdV(W + o, buf + o, c[i][h], s);
      }
    }
  }
};

/** Runs an epilogue over a stored M × N result (N a multiple of 16), row by row, 16 columns
 *  at a time. */
template <class Epi>
static void applyTiles(int M, int N, const float* src, ptrdiff_t ld, const Epi& epi) {
  constexpr int NV = 16 / VL;
  for (int i = 0; i < M; i++) {
    for (int j0 = 0; j0 < N; j0 += 16) {
      vf c[1][NV];
      for (int h = 0; h < NV; h++) c[0][h] = loadv(src + i * ld + j0 + VL * h);
      epi.template apply<1, NV>(i, j0, c);
    }
  }
}

// ---------- the network ----------

class Net {
 public:
  Net(const NetConfig& cfg, const float* params) : cfg_(cfg) {
    if (cfg.width < 1 || cfg.depth < 0) throw std::runtime_error("invalid network shape");
    int in = IN;
    for (int l = 0; l <= cfg.depth; l++) {
      Layer& L = layers_.emplace_back();
      L.in = in;
      L.out = l < cfg.depth ? cfg.width : CLASSES;
      L.ld = round16(L.in);
      const size_t nw = static_cast<size_t>(L.out) * L.ld;
      L.W.reset(nw);
      L.b.reset(L.out);
      L.gW.reset(nw);
      L.gb.reset(L.out);
      L.mW.reset(nw);
      L.mb.reset(L.out);
      if (cfg.adam) {
        L.vW.reset(nw);
        L.vb.reset(L.out);
      }
      in = L.out;
    }
    setParams(params);
  }

  int64_t paramCount() const {
    int64_t n = 0;
    for (const Layer& L : layers_) n += static_cast<int64_t>(L.out) * L.in + L.out;
    return n;
  }

  void getParams(float* out) const {
    for (const Layer& L : layers_) {
      copyOut(L, L.W.get(), out);
      out += static_cast<size_t>(L.out) * L.in;
      std::memcpy(out, L.b.get(), L.out * sizeof(float));
      out += L.out;
    }
  }

  void setParams(const float* in) {
    for (Layer& L : layers_) {
      if (L.pixelMajor) {
        for (int o = 0; o < L.out; o++)
          for (int c = 0; c < L.in; c++) L.W.get()[static_cast<size_t>(c) * L.ldT + o] = in[static_cast<size_t>(o) * L.in + c];
      } else {
        for (int o = 0; o < L.out; o++) std::memcpy(L.W.get() + static_cast<size_t>(o) * L.ld, in + static_cast<size_t>(o) * L.in, L.in * sizeof(float));
      }
      in += static_cast<size_t>(L.out) * L.in;
      std::memcpy(L.b.get(), in, L.out * sizeof(float));
      in += L.out;
    }
  }

  /**
   * Sparse (true) or dense (false) layer 0 from now on, in training and evaluation: moves layer
   * 0's weights and optimiser state between the natural and the pixel-major layout (see Layer).
   * Both paths compute the same numbers. Networks without hidden layers stay dense.
   */
  void setLayer0Sparse(bool on) {
    on = on && cfg_.depth > 0;
    Layer& L = layers_[0];
    if (on == L.pixelMajor) return;
    const int ldT = round16(L.out);
    auto convert = [&](Buf& buf) {
      if (!buf.get()) return;
      Buf t;
      t.reset(on ? static_cast<size_t>(L.in) * ldT : static_cast<size_t>(L.out) * L.ld);
      for (size_t o = 0; o < static_cast<size_t>(L.out); o++)
        for (size_t c = 0; c < static_cast<size_t>(L.in); c++) {
          const size_t nat = o * L.ld + c, pix = c * ldT + o;
          if (on)
            t.get()[pix] = buf.get()[nat];
          else
            t.get()[nat] = buf.get()[pix];
        }
      buf = std::move(t);
    };
    convert(L.W);
    convert(L.mW);
    convert(L.vW);
    L.gW.reset(on ? static_cast<size_t>(L.in) * ldT : static_cast<size_t>(L.out) * L.ld);
    L.pixelMajor = on;
    L.ldT = ldT;
    if (on) {
      // A pixel's optimiser state is quiet while every bit of it is zero (see quiet_)
      quiet_.reset(IN);
      auto zero = [&](const Buf& b, int c) {
        if (!b.get()) return true;
        for (int o = 0; o < ldT; o++)
          if (std::signbit(b.get()[static_cast<size_t>(c) * ldT + o]) || b.get()[static_cast<size_t>(c) * ldT + o] != 0) return false;
        return true;
      };
      for (int c = 0; c < IN; c++) quiet_[c] = zero(L.mW, c) && zero(L.vW, c);
    }
  }

  /** reuseRows: d is the same data as the previous call's (the caller guarantees it), so the
   *  nonzero pixels kept of its rows (sparse layer 0) are still theirs. */
  TrainResult train(const DataView& d, const int32_t* order, int64_t count, int batch, double pTrain, uint32_t firstStep,
                    int64_t maxSteps, bool reuseRows) {
    checkP(pTrain, "pTrain");
    if (batch < 1) throw std::runtime_error("batch must be >= 1");
    if (!(reuseRows && trRows_ == d.n)) trStale_ = true;
    if (layers_[0].pixelMajor && trStale_) {
      forgetTrainRows(d.n);
      // room for the rows of this call at MNIST's density (~150 nonzero pixels; grows if more)
      reserveTrainRows(std::min<int64_t>(count, d.n) * 160 + static_cast<int64_t>(batch) * IN);
    }
    TrainResult res;
    const int64_t nBatches = (count + batch - 1) / batch;
    const int64_t steps = maxSteps >= 0 ? std::min(nBatches, maxSteps) : nBatches;
    for (int64_t s = 0; s < steps; s++) {
      const int64_t start = s * batch;
      const int B = static_cast<int>(std::min<int64_t>(batch, count - start));
      const uint32_t step = firstStep + static_cast<uint32_t>(s);
      gather(d, order + start, B, true);
      trainMasks(pTrain, step);
      forwardBatch(B);
      res.lossSum += lossAndDlogits(B);
      ++t_;
      backward(B, true);
      res.samples += B;
      res.steps++;
    }
    return res;
  }

  double lossAndGradient(const DataView& d, const int32_t* rows, int64_t count, double pTrain, uint32_t step, float* gradOut) {
    checkP(pTrain, "pTrain");
    if (count < 1) throw std::runtime_error("lossAndGradient needs at least one row");
    if (count > (1 << 24)) throw std::runtime_error("too many rows for one batch");
    const int B = static_cast<int>(count);
    gather(d, rows, B, false);
    trainMasks(pTrain, step);
    forwardBatch(B);
    const double loss = lossAndDlogits(B) / B;
    backward(B, false);
    for (const Layer& L : layers_) {
      copyOut(L, L.gW.get(), gradOut);
      gradOut += static_cast<size_t>(L.out) * L.in;
      std::memcpy(gradOut, L.gb.get(), L.out * sizeof(float));
      gradOut += L.out;
    }
    return loss;
  }

  void evaluate(const DataView& d, const EvalConfig& ec, int K, EvalDraw* draws, double* sampleLoss, uint8_t* sampleCorrect) {
    evaluateAll(d, ec, 1, &ec.pEval, K, draws, sampleLoss, sampleCorrect);
  }

  /**
   * Evaluation at nP removal rates pEvals[0..nP) (ec.pEval unused) in one pass over the data:
   * draws[p·K + k] gets draw k at pEvals[p] (K_p = 1 draw when pEvals[p] = 0, else K); when
   * given, sampleLoss/sampleCorrect + p·n get the per-sample values of p's last draw. Each
   * (p, k) gets exactly the numbers of a separate evaluate() at pEvals[p] (same masks, same
   * operations in the same order).
   */
  void evaluateAll(const DataView& d, const EvalConfig& ec, int nP, const double* pEvals, int K, EvalDraw* draws, double* sampleLoss,
                   uint8_t* sampleCorrect) {
    if (nP < 1) throw std::runtime_error("at least one p_eval is needed");
    for (int p = 0; p < nP; p++) checkP(pEvals[p], "pEval");
    if (K < 1) throw std::runtime_error("masks must be >= 1");
    const int64_t n = ec.rows ? ec.nRows : d.n;  // samples evaluated
    const int Be = std::max(1, static_cast<int>(std::min<int64_t>(ec.batch, std::max<int64_t>(n, 1))));
    for (int64_t i = 0; i < n; i++) {
      const int64_t r = ec.rows ? ec.rows[i] : i;
      if (r < 0 || r >= d.n) fail("row index %lld is out of range [0, %lld)", r, d.n);
      if (d.y[r] >= CLASSES) fail("label %lld of row %lld is not in 0..9", d.y[r], r);
    }
    ensureCapacity(Be);
    int passes = 0;  // forward passes per chunk
    for (int p = 0; p < nP; p++) passes += pEvals[p] > 0 ? K : 1;
    for (int i = 0; i < nP * K; i++) draws[i] = EvalDraw{};
    // Layer 0's pre-activations do not depend on the masks: with several passes per chunk they
    // are computed once and each (p_eval, draw) applies its own masks to them (the same
    // operations in the same order as the fused path, so the same numbers).
    const Layer& L0 = layers_[0];
    const bool sparse = (L0.pixelMajor || ec.sparseInput) && cfg_.depth > 0;
    const bool share = (passes > 1 || sparse) && cfg_.depth > 0;
    const float* w0t = L0.W.get();  // sparse: layer 0's weights, pixel-major (IN × ldT)
    int ldT = L0.ldT;
    const bool cached = sparse && ec.rows;
    if (sparse) {
      ensureSparse();
      if (cached && !(ec.reuseRows && rcRows_ == n)) cacheRows(d, ec.rows, n);
      if (!L0.pixelMajor) {
        transposeW0();
        w0t = w0t_.get();
        ldT = round16(L0.out);
      }
    }
    for (int64_t r0 = 0; r0 < n; r0 += Be) {
      const int B = static_cast<int>(std::min<int64_t>(Be, n - r0));
      Bp_ = round16(B);
      const int32_t* rows = ec.rows ? ec.rows + r0 : nullptr;
      if (rows) {
        for (int b = 0; b < B; b++) labels_[b] = d.y[rows[b]];
        lab_ = labels_.get();
      } else {
        lab_ = d.y + r0;
      }
      const float* x0 = d.x + r0 * IN;  // the chunk's images in natural layout (dense path)
      if (sparse) {
        if (cached)
          cachedPixels(r0, B);
        else
          nonzeroPixels(d, rows, r0, B);
        layer0SparseForward(B, w0t, ldT);
      } else {
        if (rows) {
          for (int b = 0; b < B; b++) {
            if (b + ROW_AHEAD < B) prefetchRow(d.x + static_cast<int64_t>(rows[b + ROW_AHEAD]) * IN);
            std::memcpy(xNat_.get() + static_cast<size_t>(b) * IN, d.x + static_cast<int64_t>(rows[b]) * IN, IN * sizeof(float));
          }
          x0 = xNat_.get();
        }
        if (share) {
          forwardProduct(L0, x0, B, z0_.get(), EpiStore{z0_.get(), Bp_});
        }
      }
      for (int p = 0; p < nP; p++) {
        const double pEval = pEvals[p];
        const uint32_t thr = dropThreshold(pEval);
        const float scale = ec.rescale ? static_cast<float>(1.0 / (1.0 - pEval)) : 1.0f;
        const int Kp = pEval > 0 ? K : 1;
        for (int k = 0; k < Kp; k++) {
          for (int l = 0; l < cfg_.depth; l++) {
            MaskSpec& m = masks_[l];
            m.drop = thr > 0;
            m.threshold = thr;
            m.scale = scale;
            if (ec.maskMode) {
              m.key = streamKey(cfg_.seed, STREAM_EVAL_MASK, static_cast<uint32_t>(k), static_cast<uint32_t>(l));
              m.colMul = 0;
              m.colBase = 0;
            } else {
              m.key = streamKey(cfg_.seed, STREAM_EVAL_SAMPLE, static_cast<uint32_t>(k), static_cast<uint32_t>(l));
              m.colMul = static_cast<uint32_t>(cfg_.width);
              m.colBase = static_cast<uint32_t>(r0) * static_cast<uint32_t>(cfg_.width);
            }
          }
          if (share) {
            applyTiles(cfg_.width, Bp_, z0_.get(), Bp_, EpiHidden{act_[0].get(), Bp_, layers_[0].b.get(), masks_[0]});
            forward(B, act_[0].get(), 1);
          } else {
            forward(B, x0);
          }
          scoreBatch(B, draws[p * K + k], sampleLoss ? sampleLoss + p * n + r0 : nullptr,
                     sampleCorrect ? sampleCorrect + p * n + r0 : nullptr);
        }
      }
    }
  }

 private:
  NetConfig cfg_;
  std::vector<Layer> layers_;
  std::vector<MaskSpec> masks_;  // dropout of hidden layer l in the current forward pass
  int64_t t_ = 0;  // optimiser steps taken
  int cap_ = 0;    // batch capacity (multiple of 16)
  int Bp_ = 0;     // current batch rounded up to 16 (leading dimension of feature-major buffers)
  const uint8_t* lab_ = nullptr;  // labels of the current batch
  // Layouts: "natural" = a row per sample, X[b][k] (how images arrive); "feature-major" =
  // a row per unit, T[k][b] with the batch's samples contiguous (row length Bp_, pad columns
  // b >= B hold whatever the pad samples compute and are never read as results).
  Buf xNat_;     // cap × IN, natural: the batch's images (dense path only)
  Buf z0_;       // width × cap, feature-major: layer 0's pre-activations (evaluation, sparse path)
  Buf logits_;   // CLASSES × cap, feature-major
  Buf dCur_, dNext_;  // max(width, CLASSES) × cap, feature-major: dLoss/d(pre-activation) of the current / next lower layer
  Buf aNat_;     // cap × round16(width), natural: a hidden layer's output transposed (weight-gradient operand)
  Buf pack_;     // GEMM packing scratch (packFloats of the largest problem)
  std::vector<Buf> act_;  // depth × (width × cap), feature-major: hidden outputs after ReLU and dropout
  Arr<uint8_t> labels_;   // cap: the batch's labels

  // ---------- sparse layer 0 ----------
  // z0 = W0·x and dW0 = dz0·xᵀ from the batch's nonzero pixels. Every sum is the dense GEMM's
  // sum without its zero terms, over the remaining terms in the same order and with the same
  // blocking of the reduction into partial sums (kernels.h: gemm): a zero pixel only adds
  // fma(w, 0, acc) = acc there, so both paths give the same numbers (for finite weights; at
  // most the sign of an exact zero can differ, which no later operation sees).
  //
  // The batch's nonzero pixels, both ways round (filled by nonzeroPixels / nonzeroColumns):
  Arr<int32_t> nzIdx_;    // cap × NZ_LD: sample b's nonzero pixel indices, ascending, at b·NZ_LD
  Buf nzVal_;             // cap × NZ_LD: their values
  Arr<int32_t> nzCount_;  // cap: how many sample b has
  Arr<const int32_t*> nzIdxOf_;  // cap: where sample b's list starts (in nzIdx_, or in the rows cache)
  Arr<const float*> nzValOf_;    // cap: where its values start
  // Evaluation rows (EvalConfig.rows) kept as their nonzero pixels between calls (reuseRows):
  // row i's entries are rcIdx_/rcVal_[rcStart_[i] .. rcStart_[i+1]). Early stopping validates
  // on the same rows dozens of times: read once from the scattered images, then sequentially.
  Arr<int64_t> rcStart_;  // nRows + 1
  Arr<int32_t> rcIdx_;    // total + 16 (the AVX-512 compress stores 16 at a time)
  Buf rcVal_;             // total + 16
  int64_t rcRows_ = -1;   // rows cached (-1: none)
  // The training rows' nonzero pixels, kept between the steps and calls of a job (train with
  // reuseRows): each row is read from its scattered image once, when first trained on. Row r
  // (of the data, trRows_ rows) has trLen_[r] entries at trIdx_/trVal_[trStart_[r] ...); -1: not yet.
  Arr<int64_t> trStart_;  // trRows_
  Arr<int32_t> trLen_;    // trRows_
  Arr<int32_t> trIdx_;    // trCap_ (grows by doubling while rows are added)
  Buf trVal_;             // trCap_
  int64_t trRows_ = -1, trUsed_ = 0, trCap_ = 0;
  bool trStale_ = true;   // the store may hold rows of other data (emptied before its next use)
  Arr<int32_t> colStart_; // IN + 1: pixel c's entries are colIdx_/colVal_[colStart_[c] .. colStart_[c+1])
  Arr<int32_t> colIdx_;   // cap × IN: the samples with pixel c nonzero, ascending
  Buf colVal_;            // cap × IN: their values of pixel c
  Buf dzNat_;             // cap × ldT, natural: dLoss/dz0 transposed (pad columns zero)
  Buf w0t_;               // IN × round16(width): a dense-layout network's W0 transposed (EvalConfig.sparseInput)
  Buf acc_;               // SPARSE_S × ldT: layer 0's outputs for SPARSE_S samples, natural
  int sparseCap_ = 0;     // capacity of the buffers above
  // IN: pixel c's optimiser state (its row of mW, vW) is all +0, as it is until the first batch
  // in which pixel c is nonzero. Then an update with its gradient, +0 (no nonzero in the
  // batch), leaves everything as it is, bit for bit: Adam's m' = β1·(+0) + (1−β1)·(+0) = +0,
  // v' = +0, w' = w − lr·(+0/denom) = w; SGD's buffer stays +0 and w too. So such pixels
  // are skipped: most of the 784 in a small training set (MNIST: 565 of them are ever nonzero
  // in 250 images, 715 in 50,000).
  Arr<uint8_t> quiet_;

  static constexpr int NZ_LD = IN + 16;  // the AVX-512 compress stores 16 floats at a time
  static constexpr int SPARSE_NB = 8;    // accumulator vectors per block of outputs
  static constexpr int SPARSE_S = 16;    // samples whose outputs are transposed into z0 together

  void ensureSparse() {
    if (sparseCap_ >= cap_) return;
    const size_t ldT = static_cast<size_t>(round16(layers_[0].out)), cap = static_cast<size_t>(cap_);
    nzIdx_.reset(cap * NZ_LD);
    nzVal_.reset(cap * NZ_LD);
    nzCount_.reset(cap);
    nzIdxOf_.reset(cap);
    nzValOf_.reset(cap);
    colStart_.reset(IN + 1);
    colIdx_.reset(cap * IN);
    colVal_.reset(cap * IN);
    dzNat_.reset(cap * ldT);
    acc_.reset(SPARSE_S * ldT);
    sparseCap_ = cap_;
  }

  void transposeW0() {
    const Layer& L = layers_[0];
    const size_t W = static_cast<size_t>(L.out), ld = static_cast<size_t>(round16(L.out));
    if (w0t_.size() < IN * ld) w0t_.reset(IN * ld);
    float* t = w0t_.get();
    for (size_t o = 0; o < W; o++)
      for (size_t c = 0; c < static_cast<size_t>(IN); c++) t[c * ld + o] = L.W.get()[o * L.ld + c];
  }

  /** Rows are scattered over the data set: a later row's cache lines are fetched while this one is read. */
  static constexpr int ROW_AHEAD = 2;
  static void prefetchRow(const float* x) {
    for (int k = 0; k < IN; k += 16) __builtin_prefetch(x + k);
  }

  /** The nonzero pixels of one image, ascending: idx[0..n), val[0..n); returns n. May write up to
   *  16 entries past n (NZ_LD leaves room). */
  static int nonzeros(const float* x, int32_t* idx, float* val) {
    int n = 0;
#if defined(__AVX512F__)
    const __m512 zero = _mm512_setzero_ps();
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    static_assert(IN % 16 == 0, "whole vectors of pixels");
    for (int c = 0; c < IN; c += 16) {
      const __m512 v = _mm512_loadu_ps(x + c);
      const __mmask16 m = _mm512_cmp_ps_mask(v, zero, _CMP_NEQ_UQ);  // NaN counts as nonzero, as in the GEMM
      _mm512_storeu_ps(val + n, _mm512_maskz_compress_ps(m, v));
      _mm512_storeu_si512(idx + n, _mm512_maskz_compress_epi32(m, _mm512_add_epi32(lanes, _mm512_set1_epi32(c))));
      n += __builtin_popcount(m);
    }
#elif defined(__AVX__)
    const __m256 zero = _mm256_setzero_ps();
    for (int c = 0; c < IN; c += 8) {
      unsigned m = static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + c), zero, _CMP_NEQ_UQ)));
      while (m) {
        const int k = __builtin_ctz(m);
        idx[n] = c + k;
        val[n] = x[c + k];
        n++;
        m &= m - 1;
      }
    }
#else
    for (int c = 0; c < IN; c++) {  // without a branch per pixel
      idx[n] = c;
      val[n] = x[c];
      n += x[c] != 0;
    }
#endif
    return n;
  }

  /** Fills nzIdx_/nzVal_/nzCount_ for B samples: sample b is row rows[b] (or r0 + b without rows). */
  void nonzeroPixels(const DataView& d, const int32_t* rows, int64_t r0, int B) {
    for (int b = 0; b < B; b++) {
      if (b + ROW_AHEAD < B) prefetchRow(d.x + (rows ? rows[b + ROW_AHEAD] : r0 + b + ROW_AHEAD) * IN);
      const int64_t r = rows ? rows[b] : r0 + b;
      nzIdxOf_[b] = nzIdx_.get() + static_cast<size_t>(b) * NZ_LD;
      nzValOf_[b] = nzVal_.get() + static_cast<size_t>(b) * NZ_LD;
      nzCount_[b] = nonzeros(d.x + r * IN, nzIdx_.get() + static_cast<size_t>(b) * NZ_LD, nzVal_.get() + static_cast<size_t>(b) * NZ_LD);
    }
  }

  /** The nonzero pixels of all n evaluation rows into the rows cache (two passes: count, fill). */
  void cacheRows(const DataView& d, const int32_t* rows, int64_t n) {
    rcStart_.reset(static_cast<size_t>(n) + 1);
    int32_t* scratchIdx = nzIdx_.get();
    float* scratchVal = nzVal_.get();
    for (int64_t i = 0; i < n; i++) rcStart_[i + 1] = rcStart_[i] + nonzeros(d.x + static_cast<int64_t>(rows[i]) * IN, scratchIdx, scratchVal);
    const size_t total = static_cast<size_t>(rcStart_[n]);
    rcIdx_.reset(total + 16);
    rcVal_.reset(total + 16);
    for (int64_t i = 0; i < n; i++) nonzeros(d.x + static_cast<int64_t>(rows[i]) * IN, rcIdx_.get() + rcStart_[i], rcVal_.get() + rcStart_[i]);
    rcRows_ = n;
  }

  /** Empties the training rows' store, for data of n rows. */
  void forgetTrainRows(int64_t n) {
    if (trRows_ != n) {
      trStart_.reset(static_cast<size_t>(n));
      trLen_.reset(static_cast<size_t>(n));
    }
    std::fill(trStart_.get(), trStart_.get() + n, int64_t{-1});
    trRows_ = n;
    trUsed_ = 0;
    trStale_ = false;
  }

  void reserveTrainRows(int64_t entries) {
    entries += 16;  // the AVX-512 compress stores 16 at a time
    if (entries <= trCap_) return;
    trIdx_.grow(static_cast<size_t>(entries), static_cast<size_t>(trUsed_));
    trVal_.grow(static_cast<size_t>(entries), static_cast<size_t>(trUsed_));
    trCap_ = entries;
  }

  /** Points the batch's lists at the training rows' store, adding the rows not in it yet
   *  (rows already checked by gather). */
  void keptPixels(const DataView& d, const int32_t* rows, int B) {
    for (int b = 0; b < B; b++) {
      const int64_t r = rows[b];
      if (trStart_[r] >= 0) continue;
      if (trUsed_ + IN + 16 > trCap_) reserveTrainRows(std::max<int64_t>(2 * trCap_, trUsed_ + IN));  // room for one more image
      const int n = nonzeros(d.x + r * IN, trIdx_.get() + trUsed_, trVal_.get() + trUsed_);
      trStart_[r] = trUsed_;
      trLen_[r] = n;
      trUsed_ += n;
    }
    for (int b = 0; b < B; b++) {
      const int64_t s0 = trStart_[rows[b]];
      nzIdxOf_[b] = trIdx_.get() + s0;
      nzValOf_[b] = trVal_.get() + s0;
      nzCount_[b] = trLen_[rows[b]];
    }
  }

  /** Points the batch's lists at cached rows r0 .. r0 + B. */
  void cachedPixels(int64_t r0, int B) {
    for (int b = 0; b < B; b++) {
      const int64_t s0 = rcStart_[r0 + b];
      nzIdxOf_[b] = rcIdx_.get() + s0;
      nzValOf_[b] = rcVal_.get() + s0;
      nzCount_[b] = static_cast<int32_t>(rcStart_[r0 + b + 1] - s0);
    }
  }

  /** The same pixels by column (colStart_/colIdx_/colVal_), samples ascending: a counting sort. */
  void nonzeroColumns(int B) {
    int32_t* start = colStart_.get();
    std::memset(start, 0, (IN + 1) * sizeof(int32_t));
    for (int b = 0; b < B; b++) {
      const int32_t* idx = nzIdxOf_[b];
      for (int i = 0; i < nzCount_[b]; i++) start[idx[i] + 1]++;
    }
    for (int c = 0; c < IN; c++) start[c + 1] += start[c];
    int32_t pos[IN];
    std::memcpy(pos, start, IN * sizeof(int32_t));
    for (int b = 0; b < B; b++) {
      const int32_t* idx = nzIdxOf_[b];
      const float* val = nzValOf_[b];
      for (int i = 0; i < nzCount_[b]; i++) {
        const int p = pos[idx[i]]++;
        colIdx_[p] = b;
        colVal_.get()[p] = val[i];
      }
    }
  }

  /**
   * tot[h] (NB vectors) = Σ_i val[i] · rows[idx[i]·ld + VL·h ...] over the sparse entries
   * (idx ascending), summed as the dense GEMM sums a reduction of length K cut into nBlocks
   * blocks of blockLen: each block from zero, in index order, and each block's sum added to
   * the running total (kernels.h: gemm's k0 loop).
   */
  template <int NB>
  static inline __attribute__((always_inline)) void sparseSum(const int32_t* idx, const float* val, int n, int blockLen, int nBlocks,
                                                              const float* rows, ptrdiff_t ld, vf (&tot)[NB]) {
    int i = 0;
    for (int q = 0; q < nBlocks; q++) {
      const int end = (q + 1) * blockLen;
      vf c[NB];
      for (int h = 0; h < NB; h++) c[h] = zerov();
      for (; i < n && idx[i] < end; i++) {
        const vf v = bcastv(val[i]);
        const float* r = rows + static_cast<ptrdiff_t>(idx[i]) * ld;
        asm("" : "+r"(r));  // one base register, constant offsets (else GCC keeps an index register per vector)
#pragma GCC unroll 8
        for (int h = 0; h < NB; h++) c[h] += v * loadv(r + VL * h);
      }
      for (int h = 0; h < NB; h++) tot[h] = q == 0 ? c[h] : c[h] + tot[h];
    }
  }

  /** sparseSum over a whole row of ld floats (a multiple of 16), SPARSE_NB vectors at a time;
   *  sink(o0, tot) gets the NB-vector result for outputs o0 .. o0 + NB·VL. */
  template <class Sink>
  static inline void sparseRow(const int32_t* idx, const float* val, int n, int blockLen, int nBlocks, const float* rows, int ld,
                               Sink&& sink) {
    for (int o0 = 0; o0 < ld; o0 += SPARSE_NB * VL) {
      switch (std::min(SPARSE_NB, (ld - o0) / VL)) {
#define MENTIA_SPARSE_CASE(NB)                                        \
  case NB: {                                                          \
    vf tot[NB] = {};                                                  \
    sparseSum<NB>(idx, val, n, blockLen, nBlocks, rows + o0, ld, tot); \
    sink(o0, tot);                                                    \
    break;                                                            \
  }
        MENTIA_SPARSE_CASE(1)
        MENTIA_SPARSE_CASE(2)
        MENTIA_SPARSE_CASE(3)
        MENTIA_SPARSE_CASE(4)
        MENTIA_SPARSE_CASE(5)
        MENTIA_SPARSE_CASE(6)
        MENTIA_SPARSE_CASE(7)
        MENTIA_SPARSE_CASE(8)
#undef MENTIA_SPARSE_CASE
      }
    }
  }

  /** How gemm cuts a reduction of length K with this blocking: nBlocks blocks of blockLen. */
  static void reductionBlocks(const Blocking& bl, int K, int& blockLen, int& nBlocks) {
    nBlocks = std::max(1, (K + bl.kc - 1) / bl.kc);
    blockLen = (K + nBlocks - 1) / nBlocks;
  }

  /** z0 (width × Bp_, feature-major) = W0·x for the B samples of nzIdx_/nzVal_, from the
   *  pixel-major weights w0t (IN × ldT); pad samples get 0 (as in the GEMM, whose pad columns
   *  are zero images). The forward GEMM's reduction over the 784 pixels, without its zeros. */
  void layer0SparseForward(int B, const float* w0t, int ldT) {
    const int W = layers_[0].out;
    int blockLen, nBlocks;
    reductionBlocks(tuning().fwd, IN, blockLen, nBlocks);
    float* acc = acc_.get();
    float* z = z0_.get();
    for (int b0 = 0; b0 < Bp_; b0 += SPARSE_S) {
      for (int s = 0; s < SPARSE_S; s++) {
        float* a = acc + static_cast<size_t>(s) * ldT;
        const int b = b0 + s;
        if (b >= B) {
          std::memset(a, 0, static_cast<size_t>(ldT) * sizeof(float));
          continue;
        }
        sparseRow(nzIdxOf_[b], nzValOf_[b], nzCount_[b], blockLen, nBlocks, w0t, ldT, [&](int o0, const auto& tot) {
          constexpr int NB = sizeof(tot) / sizeof(vf);
          for (int h = 0; h < NB; h++) storev(a + o0 + VL * h, tot[h]);
        });
      }
      transpose(acc, SPARSE_S, W, ldT, z + b0, Bp_);
    }
  }

  /** Layer 0's weight gradient dW0ᵀ[c][o] = Σ_b x[b][c]·dz0[o][b] over the batch's nonzero
   *  pixels (the weight-gradient GEMM's reduction over the B samples, without its zeros),
   *  handed with the pixel-major offset of each block to the same update the dense path fuses:
   *  Adam, SGD, or a plain store into gW (update = false). */
  void layer0SparseWeightGradient(int B, const float* dz0, bool update, const AdamStep& as, const SgdStep& ss) {
    Layer& L = layers_[0];
    const int ldT = L.ldT;
    transpose(dz0, L.out, B, Bp_, dzNat_.get(), ldT);
    nonzeroColumns(B);
    int blockLen, nBlocks;
    reductionBlocks(tuning().bwdWeight, B, blockLen, nBlocks);
    float *W = L.W.get(), *m = L.mW.get(), *v = L.vW.get(), *gW = L.gW.get();
    // one loop per update rule, so that no rule is chosen per vector
    auto each = [&](auto&& apply) {
      for (int c = 0; c < IN; c++) {
        const int s0 = colStart_[c], n = colStart_[c + 1] - s0;
        if (update) {
          if (n == 0 && quiet_[c]) continue;  // the update would change nothing (see quiet_)
          quiet_[c] = 0;
        }
        sparseRow(colIdx_.get() + s0, colVal_.get() + s0, n, blockLen, nBlocks, dzNat_.get(), ldT, [&](int o0, const auto& tot) {
          constexpr int NB = sizeof(tot) / sizeof(vf);
          const ptrdiff_t o = static_cast<ptrdiff_t>(c) * ldT + o0;
#pragma GCC unroll 8
          for (int h = 0; h < NB; h++) apply(o + VL * h, tot[h]);
        });
      }
    };
    if (update && cfg_.adam)
      each([&](ptrdiff_t e, vf g) { adamV(W + e, m + e, v + e, g, as); });
    else if (update)
      each([&](ptrdiff_t e, vf g) { sgdV(W + e, m + e, g, ss); });
    else
      each([&](ptrdiff_t e, vf g) { storev(gW + e, g); });
  }

  // ---------- the three products of a dense layer (kernels.h: gemm), on the current batch ----------

  /** Forward: out (L.out × Bp_, feature-major) = W·in, each tile handed to epi. `in` is
   *  feature-major (L.in × Bp_), or, when natural >= 0, the first `natural` images in natural
   *  layout (rows of IN floats; layer 0), transposed while they are packed. */
  template <class Epi>
  void forwardProduct(const Layer& L, const float* in, int natural, float* out, const Epi& epi) {
    const GemmScratch s{pack_.get(), tuning().fwd};
    if (natural >= 0)
      gemmABt(L.out, Bp_, L.in, Mat{L.W.get(), L.ld}, Mat{in, IN}, natural, out, Bp_, epi, s);
    else
      gemmAB(L.out, Bp_, L.in, Mat{L.W.get(), L.ld}, Mat{in, Bp_}, out, Bp_, epi, s);
  }

  /** Input gradient: dIn (L.in × Bp_) = Wᵀ·dOut (dOut: L.out × Bp_, feature-major), each tile
   *  handed to epi (W read by columns). */
  template <class Epi>
  void inputGradientProduct(const Layer& L, const float* dOut, float* dIn, const Epi& epi) {
    gemmAtB(L.in, Bp_, L.out, Mat{L.W.get(), L.ld}, Mat{dOut, Bp_}, dIn, Bp_, epi, GemmScratch{pack_.get(), tuning().bwdData});
  }

  /** Weight gradient: dW (L.out × L.ld) = Σ over the B samples of dOut (feature-major) × aNat
   *  (the layer input, natural: B × L.ld), each tile handed to epi; L.gW holds partial sums. */
  template <class Epi>
  void weightGradientProduct(Layer& L, int B, const float* dOut, const float* aNat, const Epi& epi) {
    gemmAB(L.out, L.ld, B, Mat{dOut, Bp_}, Mat{aNat, L.ld}, L.gW.get(), L.ld, epi, GemmScratch{pack_.get(), tuning().bwdWeight});
  }

  /** A layer's weight-shaped buffer (W or gW) out in the flat layout (out × in, row-major). */
  static void copyOut(const Layer& L, const float* w, float* out) {
    for (int o = 0; o < L.out; o++, out += L.in) {
      if (L.pixelMajor)
        for (int c = 0; c < L.in; c++) out[c] = w[static_cast<size_t>(c) * L.ldT + o];
      else
        std::memcpy(out, w + static_cast<size_t>(o) * L.ld, L.in * sizeof(float));
    }
  }

  static void checkP(double p, const char* what) {
    if (!(p >= 0 && p < 1)) {
      char msg[120];
      std::snprintf(msg, sizeof msg, "%s must be in [0, 1), got %g", what, p);
      throw std::runtime_error(msg);
    }
  }

  void ensureCapacity(int B) {
    if (masks_.size() != static_cast<size_t>(cfg_.depth)) masks_.assign(cfg_.depth, MaskSpec{});
    const int cap = std::max(cap_, round16(B));
    const GemmTuning& t = tuning();
    const int maxN = std::max({cap, IN, round16(cfg_.width)}), maxK = std::max({cap, IN, cfg_.width});
    const size_t packNeed = std::max({packFloats(t.fwd, maxN, maxK), packFloats(t.bwdData, maxN, maxK), packFloats(t.bwdWeight, maxN, maxK)});
    if (pack_.size() < packNeed) pack_.reset(packNeed);
    if (B <= cap_) return;
    const int wMax = std::max(cfg_.width, CLASSES);
    const int ldH = round16(cfg_.width);
    xNat_.reset(static_cast<size_t>(cap) * IN);
    logits_.reset(static_cast<size_t>(CLASSES) * cap);
    dCur_.reset(static_cast<size_t>(wMax) * cap);
    dNext_.reset(static_cast<size_t>(wMax) * cap);
    aNat_.reset(static_cast<size_t>(cap) * ldH);
    z0_.reset(static_cast<size_t>(cfg_.width) * cap);
    act_.clear();
    act_ = std::vector<Buf>(cfg_.depth);
    for (Buf& a : act_) a.reset(static_cast<size_t>(cfg_.width) * cap);
    labels_.reset(cap);
    cap_ = cap;
  }

  /** The batch's labels into labels_, and its images: copied into xNat_ (dense layer 0), or
   *  their nonzero pixels listed (sparse layer 0; kept: from the training rows' store). */
  void gather(const DataView& d, const int32_t* rows, int B, bool kept) {
    ensureCapacity(B);
    Bp_ = round16(B);
    const bool sparse = layers_[0].pixelMajor;
    float* xn = xNat_.get();
    for (int b = 0; b < B; b++) {
      const int64_t r = rows[b];
      if (r < 0 || r >= d.n) fail("row index %lld is out of range [0, %lld)", r, d.n);
      const uint8_t y = d.y[r];
      if (y >= CLASSES) fail("label %lld of row %lld is not in 0..9", y, r);
      labels_[b] = y;
      if (!sparse) std::memcpy(xn + static_cast<size_t>(b) * IN, d.x + r * IN, IN * sizeof(float));
    }
    if (sparse) {
      ensureSparse();
      if (kept)
        keptPixels(d, rows, B);
      else
        nonzeroPixels(d, rows, 0, B);
    }
    lab_ = labels_.get();
  }

  /** Forward pass of the gathered batch. */
  void forwardBatch(int B) {
    if (!layers_[0].pixelMajor) return forward(B, xNat_.get());
    layer0SparseForward(B, layers_[0].W.get(), layers_[0].ldT);
    applyTiles(cfg_.width, Bp_, z0_.get(), Bp_, EpiHidden{act_[0].get(), Bp_, layers_[0].b.get(), masks_[0]});
    forward(B, act_[0].get(), 1);
  }

  void trainMasks(double p, uint32_t step) {
    const uint32_t thr = dropThreshold(p);
    const float scale = static_cast<float>(1.0 / (1.0 - p));
    for (int l = 0; l < cfg_.depth; l++) {
      MaskSpec& m = masks_[l];
      m.drop = thr > 0;
      m.threshold = thr;
      m.scale = m.drop ? scale : 1.0f;
      m.key = streamKey(cfg_.seed, STREAM_TRAIN_DROPOUT, step, static_cast<uint32_t>(l));
      m.colMul = static_cast<uint32_t>(cfg_.width);
      m.colBase = 0;
    }
  }

  /** Forward pass of B samples whose inputs are the rows x0[b·784 ...] (natural layout); or,
   *  from layer `from` > 0 on, whose layer-`from` input is the feature-major `in`. */
  void forward(int B, const float* in, int from = 0) {
    for (int l = from; l <= cfg_.depth; l++) {
      const Layer& L = layers_[l];
      if (l < cfg_.depth) {
        float* out = act_[l].get();
        forwardProduct(L, in, l == 0 ? B : -1, out, EpiHidden{out, Bp_, L.b.get(), masks_[l]});
        in = out;
      } else {
        forwardProduct(L, in, l == 0 ? B : -1, logits_.get(), EpiLogits{logits_.get(), Bp_, L.b.get()});
      }
    }
  }

  /**
   * Softmax cross-entropy of sample b of the feature-major logits z (CLASSES × ld), label y:
   * returns −log softmax(z)_y, computed in double as log Σ_c exp(z_c − max) − (z_y − max);
   * e[c] = exp(z_c − max), *sum = Σ_c e[c], *arg = the first class of the largest logit.
   */
  static double softmaxCE(const float* z, ptrdiff_t ld, int b, int y, double (&e)[CLASSES], double* sum, int* arg) {
    double mx = -INFINITY;
    *arg = 0;
    for (int c = 0; c < CLASSES; c++) {
      e[c] = z[c * ld + b];
      if (e[c] > mx) {
        mx = e[c];
        *arg = c;
      }
    }
    double s = 0;
    for (int c = 0; c < CLASSES; c++) {
      e[c] = std::exp(e[c] - mx);
      s += e[c];
    }
    *sum = s;
    return std::log(s) - (z[y * ld + b] - mx);
  }

  /** Σ per-sample CE of the batch; writes dLogits = (softmax − onehot)/B into dCur (pad 0). */
  double lossAndDlogits(int B) {
    const float* z = logits_.get();
    float* dz = dCur_.get();
    std::memset(dz, 0, static_cast<size_t>(CLASSES) * Bp_ * sizeof(float));
    double total = 0;
    const double invB = 1.0 / B;
    for (int b = 0; b < B; b++) {
      double e[CLASSES], sum;
      int arg;
      const int y = lab_[b];
      total += softmaxCE(z, Bp_, b, y, e, &sum, &arg);
      for (int c = 0; c < CLASSES; c++) dz[c * Bp_ + b] = static_cast<float>((e[c] / sum - (c == y ? 1.0 : 0.0)) * invB);
    }
    return total;
  }

  void scoreBatch(int B, EvalDraw& dr, double* sampleLoss, uint8_t* sampleCorrect) {
    for (int b = 0; b < B; b++) {
      double e[CLASSES], sum;
      int arg;
      const int y = lab_[b];
      const double loss = softmaxCE(logits_.get(), Bp_, b, y, e, &sum, &arg);
      dr.lossSum += loss;
      dr.correct += arg == y;
      if (sampleLoss) sampleLoss[b] = loss;
      if (sampleCorrect) sampleCorrect[b] = arg == y;
    }
  }

  /** Backward from dCur = dLogits. update: fused optimiser step; else gradients into gW/gb. */
  void backward(int B, bool update) {
    AdamStep as{};
    SgdStep ss{};
    if (update) {
      if (cfg_.adam) {
        const double bc1 = 1.0 - std::pow(cfg_.beta1, static_cast<double>(t_));
        const double bc2 = 1.0 - std::pow(cfg_.beta2, static_cast<double>(t_));
        as = AdamStep{static_cast<float>(cfg_.beta1), static_cast<float>(cfg_.beta2), static_cast<float>(1.0 - cfg_.beta1),
                      static_cast<float>(1.0 - cfg_.beta2), static_cast<float>(cfg_.lr / bc1),
                      static_cast<float>(1.0 / std::sqrt(bc2)), static_cast<float>(cfg_.eps)};
      } else {
        ss = SgdStep{static_cast<float>(cfg_.lr), static_cast<float>(cfg_.momentum), t_ == 1};
      }
    }
    float* dcur = dCur_.get();
    float* dnext = dNext_.get();
    const int ldH = round16(cfg_.width);
    for (int l = cfg_.depth; l >= 0; l--) {
      Layer& L = layers_[l];
      // 1. gradient w.r.t. the layer input (before W changes), through dropout and ReLU
      if (l > 0) {
        inputGradientProduct(L, dcur, dnext, EpiBack{dnext, act_[l - 1].get(), Bp_, masks_[l - 1].scale});
      }
      // 2. the layer input in natural layout
      const float* aNat;
      if (l == 0 && L.pixelMajor) {
        aNat = nullptr;  // sparse: the nonzero pixels (step 4)
      } else if (l == 0) {
        aNat = xNat_.get();
      } else {
        transpose(act_[l - 1].get(), cfg_.width, B, Bp_, aNat_.get(), ldH);
        aNat = aNat_.get();
      }
      // 3. bias gradient
      float* gb = L.gb.get();
      for (int o = 0; o < L.out; o++) {
        const float* row = dcur + static_cast<size_t>(o) * Bp_;
        v8f s0 = zero8(), s1 = zero8();
        for (int b = 0; b < Bp_; b += 16) {
          s0 += load8(row + b);
          s1 += load8(row + b + 8);
        }
        s0 += s1;
        float s = 0;
        for (int k = 0; k < 8; k++) s += s0[k];
        gb[o] = s;
      }
      // 4. weight gradient, fused with the update
      float* gW = L.gW.get();
      if (l == 0 && L.pixelMajor) {
        layer0SparseWeightGradient(B, dcur, update, as, ss);
        if (update && cfg_.adam) {
          for (int o = 0; o < L.out; o++) adam1(L.b.get() + o, L.mb.get() + o, L.vb.get() + o, gb[o], as);
        } else if (update) {
          for (int o = 0; o < L.out; o++) sgd1(L.b.get() + o, L.mb.get() + o, gb[o], ss);
        }
      } else if (update && cfg_.adam) {
        weightGradientProduct(L, B, dcur, aNat, EpiAdam{L.W.get(), L.mW.get(), L.vW.get(), L.ld, as});
        for (int o = 0; o < L.out; o++) adam1(L.b.get() + o, L.mb.get() + o, L.vb.get() + o, gb[o], as);
      } else if (update) {
        weightGradientProduct(L, B, dcur, aNat, EpiSgd{L.W.get(), L.mW.get(), L.ld, ss});
        for (int o = 0; o < L.out; o++) sgd1(L.b.get() + o, L.mb.get() + o, gb[o], ss);
      } else {
        weightGradientProduct(L, B, dcur, aNat, EpiStore{gW, L.ld});
      }
      std::swap(dcur, dnext);
    }
  }
};

// ---------- C entry points ----------

static void* create(const NetConfig& cfg, const float* params) { return new Net(cfg, params); }
static void destroy(void* n) { delete static_cast<Net*>(n); }
static int64_t paramCount(void* n) { return static_cast<Net*>(n)->paramCount(); }
static void getParams(void* n, float* out) { static_cast<Net*>(n)->getParams(out); }
static void setParams(void* n, const float* in) { static_cast<Net*>(n)->setParams(in); }
static TrainResult train(void* n, const DataView& d, const int32_t* order, int64_t count, int batch, double pTrain,
                         uint32_t firstStep, int64_t maxSteps, bool reuseRows) {
  return static_cast<Net*>(n)->train(d, order, count, batch, pTrain, firstStep, maxSteps, reuseRows);
}
static double lossAndGradient(void* n, const DataView& d, const int32_t* rows, int64_t count, double pTrain, uint32_t step,
                              float* gradOut) {
  return static_cast<Net*>(n)->lossAndGradient(d, rows, count, pTrain, step, gradOut);
}
static void evaluate(void* n, const DataView& d, const EvalConfig& cfg, int K, EvalDraw* draws, double* sampleLoss,
                     uint8_t* sampleCorrect) {
  static_cast<Net*>(n)->evaluate(d, cfg, K, draws, sampleLoss, sampleCorrect);
}
static void setLayer0Sparse(void* n, bool sparse) { static_cast<Net*>(n)->setLayer0Sparse(sparse); }
static void evaluateAll(void* n, const DataView& d, const EvalConfig& cfg, int nP, const double* pEvals, int K, EvalDraw* draws,
                        double* sampleLoss, uint8_t* sampleCorrect) {
  static_cast<Net*>(n)->evaluateAll(d, cfg, nP, pEvals, K, draws, sampleLoss, sampleCorrect);
}

}  // namespace MENTIA_NS
