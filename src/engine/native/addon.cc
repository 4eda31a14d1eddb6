// N-API binding of the native engine. Thin: argument checks, zero-copy views of the typed
// arrays, and a call into a compute variant: by default the one chosen once at load time
// (AVX-512 when the CPU has it, else AVX2+FMA, else the portable build; MENTIA_ISA =
// generic|avx2|avx512 forces one), or the one a network was created with (for tests and the
// bench, which compare variants in one process).
#include <napi.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "net_api.h"

using mentia::DataView;
using mentia::EvalConfig;
using mentia::EvalDraw;
using mentia::NetConfig;
using mentia::NetOps;

namespace mentia {
void registerDeform(Napi::Env env, Napi::Object exports);  // deform.cc: the deformed-MNIST generator
}

namespace {

/** The variants this build has, best first, and what the CPU must report to run each. */
struct Variant {
  const char* name;  // MENTIA_ISA's value
  const NetOps* ops;
  const char* needs[6];
};

const Variant VARIANTS[] = {
#if defined(MENTIA_HAVE_X86)
    {"avx512", &mentia::avx512Ops, {"avx512f", "avx512bw", "avx512dq", "avx512vl", "fma", "avx2"}},
    {"avx2", &mentia::avx2Ops, {"avx2", "fma"}},
#endif
    {"generic", &mentia::genericOps, {}},
};

/** The first CPU feature `v` needs that this CPU lacks, or nullptr. */
const char* lacking(const Variant& v) {
#if defined(MENTIA_HAVE_X86)
  __builtin_cpu_init();
  for (const char* f : v.needs) {
    if (!f) break;
    // __builtin_cpu_supports needs a literal
    const bool ok = !std::strcmp(f, "avx512f")    ? __builtin_cpu_supports("avx512f")
                    : !std::strcmp(f, "avx512bw") ? __builtin_cpu_supports("avx512bw")
                    : !std::strcmp(f, "avx512dq") ? __builtin_cpu_supports("avx512dq")
                    : !std::strcmp(f, "avx512vl") ? __builtin_cpu_supports("avx512vl")
                    : !std::strcmp(f, "fma")      ? __builtin_cpu_supports("fma")
                    : !std::strcmp(f, "avx2")     ? __builtin_cpu_supports("avx2")
                                                  : false;
    if (!ok) return f;
  }
#else
  (void)v;
#endif
  return nullptr;
}

/** The variant named `name` if this build has it and the CPU runs it; else nullptr and `why`. */
const NetOps* variantOps(const std::string& name, std::string& why) {
  for (const Variant& v : VARIANTS) {
    if (name != v.name) continue;
    if (const char* f = lacking(v)) {
      why = "the " + name + " variant needs " + f + ", which this CPU lacks";
      return nullptr;
    }
    return v.ops;
  }
  std::string names;
  for (const Variant& v : VARIANTS) names += std::string(names.empty() ? "" : ", ") + v.name;
  why = "'" + name + "' is not an instruction set of this build (" + names + ")";
  return nullptr;
}

const NetOps* ops = nullptr;  // the default variant (nullptr when MENTIA_ISA asks for one that cannot run)
std::string opsError;         // why ops is nullptr

void chooseOps() {
  const char* force = std::getenv("MENTIA_ISA");
  if (!force || !*force) force = std::getenv("MENTIA_NATIVE_ISA");  // its name before mentia 0.2
  if (force && *force) {
    ops = variantOps(force, opsError);
    if (!ops) opsError = "MENTIA_ISA=" + std::string(force) + ": " + opsError;
    return;
  }
  for (const Variant& v : VARIANTS)
    if (!lacking(v)) {
      ops = v.ops;
      return;
    }
}

constexpr int64_t IN = 784;

double num(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

int64_t integer(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t lo, int64_t hi) {
  const double v = num(info, i, what);
  if (!(v >= static_cast<double>(lo) && v <= static_cast<double>(hi)) || v != static_cast<double>(static_cast<int64_t>(v)))
    throw Napi::RangeError::New(info.Env(), std::string(what) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<int64_t>(v);
}

template <class A>
A typed(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* what) {
  if (i >= info.Length() || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type)
    throw Napi::TypeError::New(info.Env(), std::string(what) + " has the wrong type");
  return info[i].As<A>();
}

/** (x: Float32Array, y: Uint8Array, n) at info[i..i+2]. */
DataView dataView(const Napi::CallbackInfo& info, size_t i) {
  auto x = typed<Napi::Float32Array>(info, i, napi_float32_array, "dataset x");
  auto y = typed<Napi::Uint8Array>(info, i + 1, napi_uint8_array, "dataset y");
  const int64_t n = integer(info, i + 2, "dataset n", 0, INT32_MAX);
  if (static_cast<int64_t>(x.ElementLength()) < n * IN || static_cast<int64_t>(y.ElementLength()) < n)
    throw Napi::RangeError::New(info.Env(), "dataset arrays are shorter than n rows");
  DataView d;
  d.x = x.Data();
  d.y = y.Data();
  d.n = n;
  return d;
}

template <class F>
auto guarded(const Napi::Env& env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

class NativeNet : public Napi::ObjectWrap<NativeNet> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "NativeNet",
                       {InstanceMethod("paramCount", &NativeNet::ParamCount), InstanceMethod("getParams", &NativeNet::GetParams),
                        InstanceMethod("setParams", &NativeNet::SetParams),
                        InstanceMethod("saveSnapshot", &NativeNet::SaveSnapshot),
                        InstanceMethod("restoreSnapshot", &NativeNet::RestoreSnapshot), InstanceMethod("train", &NativeNet::Train),
                        InstanceMethod("lossAndGradient", &NativeNet::LossAndGradient),
                        InstanceMethod("evaluate", &NativeNet::Evaluate), InstanceMethod("evaluateAll", &NativeNet::EvaluateAll),
                        InstanceMethod("setLayer0Sparse", &NativeNet::SetLayer0Sparse), InstanceMethod("dispose", &NativeNet::Dispose)});
  }

  /** new NativeNet(width, depth, adam, lr, beta1, beta2, eps, momentum, seed, params, isa?): isa (a MENTIA_ISA
   *  value) picks the variant of this network; default: the variant chosen at load time. */
  explicit NativeNet(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeNet>(info) {
    std::string why = opsError;
    ops_ = ops;
    if (info.Length() > 10 && !info[10].IsUndefined()) {
      if (!info[10].IsString()) throw Napi::TypeError::New(info.Env(), "isa must be a string");
      ops_ = variantOps(info[10].As<Napi::String>().Utf8Value(), why);
    }
    if (!ops_) throw Napi::Error::New(info.Env(), why);
    NetConfig c;
    c.width = static_cast<int>(integer(info, 0, "width", 1, 1 << 16));
    c.depth = static_cast<int>(integer(info, 1, "depth", 0, 1 << 10));
    if (info.Length() < 3 || !info[2].IsBoolean()) throw Napi::TypeError::New(info.Env(), "adam must be a boolean");
    c.adam = info[2].As<Napi::Boolean>().Value();
    c.lr = num(info, 3, "lr");
    c.beta1 = num(info, 4, "beta1");
    c.beta2 = num(info, 5, "beta2");
    c.eps = num(info, 6, "eps");
    c.momentum = num(info, 7, "momentum");
    c.seed = static_cast<uint32_t>(integer(info, 8, "seed", 0, UINT32_MAX));
    auto params = typed<Napi::Float32Array>(info, 9, napi_float32_array, "params");
    int64_t expected = 0, in = IN;
    for (int l = 0; l <= c.depth; l++) {
      const int64_t out = l < c.depth ? c.width : 10;
      expected += in * out + out;
      in = out;
    }
    if (static_cast<int64_t>(params.ElementLength()) != expected)
      throw Napi::RangeError::New(info.Env(), "params has " + std::to_string(params.ElementLength()) + " values, expected " + std::to_string(expected));
    net_ = guarded(info.Env(), [&] { return ops_->create(c, params.Data()); });
    count_ = expected;
  }

  ~NativeNet() override { release(); }

 private:
  const NetOps* ops_ = nullptr;
  void* net_ = nullptr;
  int64_t count_ = 0;
  std::vector<float> snapshot_;  // early stopping's best weights, kept here: no copy through JS

  void release() {
    if (net_) ops_->destroy(net_);
    net_ = nullptr;
  }

  void* live(const Napi::Env& env) {
    if (!net_) throw Napi::Error::New(env, "network has been disposed");
    return net_;
  }

  Napi::Value ParamCount(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(count_)); }

  Napi::Value GetParams(const Napi::CallbackInfo& info) {
    void* n = live(info.Env());
    auto out = Napi::Float32Array::New(info.Env(), count_);
    ops_->getParams(n, out.Data());
    return out;
  }

  Napi::Value SetParams(const Napi::CallbackInfo& info) {
    void* n = live(info.Env());
    auto p = typed<Napi::Float32Array>(info, 0, napi_float32_array, "params");
    if (static_cast<int64_t>(p.ElementLength()) != count_) throw Napi::RangeError::New(info.Env(), "params has the wrong length");
    ops_->setParams(n, p.Data());
    return info.Env().Undefined();
  }

  Napi::Value SaveSnapshot(const Napi::CallbackInfo& info) {
    void* n = live(info.Env());
    snapshot_.resize(static_cast<size_t>(count_));
    ops_->getParams(n, snapshot_.data());
    return info.Env().Undefined();
  }

  Napi::Value RestoreSnapshot(const Napi::CallbackInfo& info) {
    void* n = live(info.Env());
    if (snapshot_.empty()) throw Napi::Error::New(info.Env(), "restoreSnapshot: no snapshot saved");
    ops_->setParams(n, snapshot_.data());
    return info.Env().Undefined();
  }

  /** train(x, y, n, order, batch, pTrain, firstStep, maxSteps, reuseRows?) → Float64Array [lossSum, steps, samples] */
  Napi::Value Train(const Napi::CallbackInfo& info) {
    void* n = live(info.Env());
    const DataView d = dataView(info, 0);
    auto order = typed<Napi::Int32Array>(info, 3, napi_int32_array, "order");
    const int batch = static_cast<int>(integer(info, 4, "batch", 1, 1 << 24));
    const double p = num(info, 5, "pTrain");
    const uint32_t firstStep = static_cast<uint32_t>(integer(info, 6, "firstStep", 0, UINT32_MAX));
    const int64_t maxSteps = integer(info, 7, "maxSteps", -1, INT64_C(1) << 52);
    const bool reuse = info.Length() > 8 && info[8].IsBoolean() && info[8].As<Napi::Boolean>().Value();
    const mentia::TrainResult r =
        guarded(info.Env(), [&] { return ops_->train(n, d, order.Data(), order.ElementLength(), batch, p, firstStep, maxSteps, reuse); });
    auto out = Napi::Float64Array::New(info.Env(), 3);
    out[0] = r.lossSum;
    out[1] = static_cast<double>(r.steps);
    out[2] = static_cast<double>(r.samples);
    return out;
  }

  /** lossAndGradient(x, y, n, rows, pTrain, step, gradOut) → loss */
  Napi::Value LossAndGradient(const Napi::CallbackInfo& info) {
    void* n = live(info.Env());
    const DataView d = dataView(info, 0);
    auto rows = typed<Napi::Int32Array>(info, 3, napi_int32_array, "rows");
    const double p = num(info, 4, "pTrain");
    const uint32_t step = static_cast<uint32_t>(integer(info, 5, "step", 0, UINT32_MAX));
    auto grad = typed<Napi::Float32Array>(info, 6, napi_float32_array, "gradOut");
    if (static_cast<int64_t>(grad.ElementLength()) != count_) throw Napi::RangeError::New(info.Env(), "gradOut has the wrong length");
    const double loss =
        guarded(info.Env(), [&] { return ops_->lossAndGradient(n, d, rows.Data(), rows.ElementLength(), p, step, grad.Data()); });
    return Napi::Number::New(info.Env(), loss);
  }

  /** evaluate(x, y, n, pEval, maskMode, rescale, batch, K, sampleLoss?, sampleCorrect?) → Float64Array [lossSum, correct] × K;
   *  sampleLoss (Float64Array n) / sampleCorrect (Uint8Array n), when given, receive the last draw's per-sample values. */
  Napi::Value Evaluate(const Napi::CallbackInfo& info) {
    void* n = live(info.Env());
    const DataView d = dataView(info, 0);
    EvalConfig c;
    c.pEval = num(info, 3, "pEval");
    if (info.Length() < 6 || !info[4].IsBoolean() || !info[5].IsBoolean())
      throw Napi::TypeError::New(info.Env(), "maskMode and rescale must be booleans");
    c.maskMode = info[4].As<Napi::Boolean>().Value();
    c.rescale = info[5].As<Napi::Boolean>().Value();
    c.batch = static_cast<int>(integer(info, 6, "batch", 1, 1 << 24));
    const int K = static_cast<int>(integer(info, 7, "masks", 1, 1 << 24));
    double* sampleLoss = nullptr;
    uint8_t* sampleCorrect = nullptr;
    if (info.Length() > 9 && !info[8].IsUndefined()) {
      auto sl = typed<Napi::Float64Array>(info, 8, napi_float64_array, "sampleLoss");
      auto sc = typed<Napi::Uint8Array>(info, 9, napi_uint8_array, "sampleCorrect");
      if (static_cast<int64_t>(sl.ElementLength()) < d.n || static_cast<int64_t>(sc.ElementLength()) < d.n)
        throw Napi::RangeError::New(info.Env(), "per-sample outputs are shorter than n");
      sampleLoss = sl.Data();
      sampleCorrect = sc.Data();
    }
    auto out = Napi::Float64Array::New(info.Env(), static_cast<size_t>(K) * 2);
    EvalDraw* draws = new EvalDraw[K];
    try {
      guarded(info.Env(), [&] { ops_->evaluate(n, d, c, K, draws, sampleLoss, sampleCorrect); });
    } catch (...) {
      delete[] draws;
      throw;
    }
    for (int k = 0; k < K; k++) {
      out[2 * k] = draws[k].lossSum;
      out[2 * k + 1] = static_cast<double>(draws[k].correct);
    }
    delete[] draws;
    return out;
  }

  /** evaluateAll(x, y, n, pEvals: Float64Array, maskMode, rescale, batch, K, sampleLoss: Float64Array, sampleCorrect: Uint8Array, sparseInput?, rows?, reuseRows?)
   *  → Float64Array [lossSum, correct] × K per p_eval (entries k >= 1 unused where p_eval = 0); sampleLoss/sampleCorrect
   *  (nP·m) receive each p_eval's last draw per sample at offset p·m, m = rows.length (rows: Int32Array, evaluate
   *  these rows in this order) or n; reuseRows: the same rows and data as the previous call with rows. */
  Napi::Value EvaluateAll(const Napi::CallbackInfo& info) {
    void* n = live(info.Env());
    const DataView d = dataView(info, 0);
    auto pe = typed<Napi::Float64Array>(info, 3, napi_float64_array, "pEvals");
    const int nP = static_cast<int>(pe.ElementLength());
    if (info.Length() < 6 || !info[4].IsBoolean() || !info[5].IsBoolean())
      throw Napi::TypeError::New(info.Env(), "maskMode and rescale must be booleans");
    EvalConfig c;
    c.maskMode = info[4].As<Napi::Boolean>().Value();
    c.rescale = info[5].As<Napi::Boolean>().Value();
    c.batch = static_cast<int>(integer(info, 6, "batch", 1, 1 << 24));
    const int K = static_cast<int>(integer(info, 7, "masks", 1, 1 << 24));
    auto sl = typed<Napi::Float64Array>(info, 8, napi_float64_array, "sampleLoss");
    auto sc = typed<Napi::Uint8Array>(info, 9, napi_uint8_array, "sampleCorrect");
    c.sparseInput = info.Length() > 10 && info[10].IsBoolean() && info[10].As<Napi::Boolean>().Value();
    int64_t m = d.n;
    if (info.Length() > 11 && !info[11].IsUndefined()) {
      auto rows = typed<Napi::Int32Array>(info, 11, napi_int32_array, "rows");
      c.rows = rows.Data();
      c.nRows = m = static_cast<int64_t>(rows.ElementLength());
      c.reuseRows = info.Length() > 12 && info[12].IsBoolean() && info[12].As<Napi::Boolean>().Value();
    }
    if (static_cast<int64_t>(sl.ElementLength()) < nP * m || static_cast<int64_t>(sc.ElementLength()) < nP * m)
      throw Napi::RangeError::New(info.Env(), "per-sample outputs are shorter than pEvals.length · n");
    const size_t nd = static_cast<size_t>(nP) * K;
    std::unique_ptr<EvalDraw[]> draws(new EvalDraw[nd]);
    guarded(info.Env(), [&] { ops_->evaluateAll(n, d, c, nP, pe.Data(), K, draws.get(), sl.Data(), sc.Data()); });
    auto out = Napi::Float64Array::New(info.Env(), nd * 2);
    for (size_t i = 0; i < nd; i++) {
      out[2 * i] = draws[i].lossSum;
      out[2 * i + 1] = static_cast<double>(draws[i].correct);
    }
    return out;
  }

  /** setLayer0Sparse(sparse: boolean): layer 0 from the nonzero pixels (same numbers, another layout). */
  Napi::Value SetLayer0Sparse(const Napi::CallbackInfo& info) {
    void* n = live(info.Env());
    if (info.Length() < 1 || !info[0].IsBoolean()) throw Napi::TypeError::New(info.Env(), "sparse must be a boolean");
    guarded(info.Env(), [&] { ops_->setLayer0Sparse(n, info[0].As<Napi::Boolean>().Value()); });
    return info.Env().Undefined();
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    release();
    return info.Env().Undefined();
  }
};

/** The variant named by the optional string argument i, else the default one. */
const NetOps* opsArg(const Napi::CallbackInfo& info, size_t i) {
  std::string why = opsError;
  const NetOps* o = ops;
  if (info.Length() > i && !info[i].IsUndefined()) {
    if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), "isa must be a string");
    o = variantOps(info[i].As<Napi::String>().Utf8Value(), why);
  }
  if (!o) throw Napi::Error::New(info.Env(), why);
  return o;
}

/** gemmGflops(shape, M, N, K, seconds, isa?): a variant's GEMM speed on one problem (shapes: net_impl.h). */
Napi::Value GemmGflops(const Napi::CallbackInfo& info) {
  const int shape = static_cast<int>(integer(info, 0, "shape", 0, 3));
  const int M = static_cast<int>(integer(info, 1, "M", 1, 1 << 14));
  const int N = static_cast<int>(integer(info, 2, "N", 1, 1 << 14));
  const int K = static_cast<int>(integer(info, 3, "K", 1, 1 << 14));
  const double s = num(info, 4, "seconds");
  const NetOps* o = opsArg(info, 5);
  return Napi::Number::New(info.Env(), guarded(info.Env(), [&] { return o->gemmGflops(shape, M, N, K, s); }));
}

/** whyNot(isa): "" when this build and CPU run the variant, else why not (one line). */
Napi::Value WhyNot(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "isa must be a string");
  std::string why;
  variantOps(info[0].As<Napi::String>().Utf8Value(), why);
  return Napi::String::New(info.Env(), why);
}

/** fmaPeak(seconds, isa?): GFLOP/s of independent FMAs on a variant's vectors (one core). */
Napi::Value FmaPeak(const Napi::CallbackInfo& info) {
  const double s = num(info, 0, "seconds");
  const NetOps* o = opsArg(info, 1);
  return Napi::Number::New(info.Env(), o->fmaPeak(s));
}

/** setTuning(which, kc, mc, nc, packB, rowsOuter, packAMinN): GEMM blocking of one shape (default variant), for
 *  tuning experiments only. */
Napi::Value SetTuning(const Napi::CallbackInfo& info) {
  if (!ops) throw Napi::Error::New(info.Env(), opsError);
  ops->setTuning(static_cast<int>(num(info, 0, "which")), static_cast<int>(num(info, 1, "kc")), static_cast<int>(num(info, 2, "mc")),
                 static_cast<int>(num(info, 3, "nc")), static_cast<int>(num(info, 4, "packB")), static_cast<int>(num(info, 5, "rowsOuter")),
                 static_cast<int>(num(info, 6, "packAMinN")));
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  chooseOps();
  // isa: the default variant's name ("" when MENTIA_ISA cannot be honoured; isaError says why);
  // isas: the MENTIA_ISA values this build and CPU can run, best first
  exports.Set("isa", Napi::String::New(env, ops ? ops->isa : ""));
  exports.Set("isaError", Napi::String::New(env, opsError));
  auto isas = Napi::Array::New(env);
  for (const Variant& v : VARIANTS)
    if (!lacking(v)) isas.Set(isas.Length(), Napi::String::New(env, v.name));
  exports.Set("isas", isas);
  exports.Set("NativeNet", NativeNet::Init(env));
  exports.Set("gemmGflops", Napi::Function::New(env, GemmGflops));
  exports.Set("fmaPeak", Napi::Function::New(env, FmaPeak));
  exports.Set("whyNot", Napi::Function::New(env, WhyNot));
  exports.Set("setTuning", Napi::Function::New(env, SetTuning));
  mentia::registerDeform(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(mentia_native, Init)
