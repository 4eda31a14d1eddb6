// The deformed-MNIST generator (src/data/deformed.ts defines the stream; src/data/deform.ts is
// this file's TypeScript twin, and test/data-deformed.test.ts checks that they agree byte for
// byte). Integer arithmetic only, with every product below 2^53 and every division a floor by a
// power of two, so the result is the same on every instruction set and compiler, and the
// TypeScript twin (plain numbers) computes exactly the same bytes. Compiled once, outside the
// per-ISA variants of the engine.
#include <napi.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "deform_core.h"

namespace {

using namespace mentia_deform;

uint32_t u32(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0 && v <= 4294967295.0) || v != static_cast<double>(static_cast<uint32_t>(v))) throw Napi::RangeError::New(info.Env(), std::string(what) + " must be an integer in [0, 2^32)");
  return static_cast<uint32_t>(v);
}

/** deformBank(seed, weights Int32Array (2R+1, Q16), first, out Int32Array (count×784)): fields first.. of the job's bank. */
Napi::Value DeformBank(const Napi::CallbackInfo& info) {
  const uint32_t seed = u32(info, 0, "seed");
  const auto w = info[1].As<Napi::Int32Array>();
  const uint32_t first = u32(info, 2, "first");
  auto out = info[3].As<Napi::Int32Array>();
  const int R = static_cast<int>(w.ElementLength() / 2);
  if (w.ElementLength() % 2 != 1 || R > S) throw Napi::RangeError::New(info.Env(), "weights must have odd length ≤ 57");
  if (out.ElementLength() % P != 0) throw Napi::RangeError::New(info.Env(), "out must hold whole fields");
  const size_t count = out.ElementLength() / P;
  for (size_t b = 0; b < count; b++) makeField(seed, first + static_cast<uint32_t>(b), w.Data(), R, out.Data() + b * P);
  return info.Env().Undefined();
}

/** deformSamples(seed, ids Int32Array, base Uint8Array (B×784), displacement bank Int32Array, params Float64Array(5), out Uint8Array, slots?
 *  Int32Array): sample ids[j] into image j of out, or image slots[j] when slots are given (out must hold them). */
Napi::Value DeformSamples(const Napi::CallbackInfo& info) {
  const uint32_t seed = u32(info, 0, "seed");
  const auto ids = info[1].As<Napi::Int32Array>();
  const auto base = info[2].As<Napi::Uint8Array>();
  const auto bank = info[3].As<Napi::Int32Array>();
  const auto pa = info[4].As<Napi::Float64Array>();
  auto out = info[5].As<Napi::Uint8Array>();
  const size_t nBase = base.ElementLength() / P, nBank = bank.ElementLength() / P;
  if (nBase == 0 || base.ElementLength() % P != 0) throw Napi::RangeError::New(info.Env(), "base must hold whole images");
  if (nBank == 0 || bank.ElementLength() % P != 0) throw Napi::RangeError::New(info.Env(), "bank must hold whole fields");
  if (pa.ElementLength() != 5) throw Napi::RangeError::New(info.Env(), "params must have 5 entries");
  const bool slotted = info.Length() > 6 && !info[6].IsUndefined();
  const Napi::Int32Array slots = slotted ? info[6].As<Napi::Int32Array>() : Napi::Int32Array();
  const size_t room = out.ElementLength() / P;
  if (slotted ? slots.ElementLength() != ids.ElementLength() : out.ElementLength() != ids.ElementLength() * P)
    throw Napi::RangeError::New(info.Env(), slotted ? "slots must have ids.length entries" : "out must hold ids.length images");
  const Params p{static_cast<int64_t>(pa[0]), static_cast<int64_t>(pa[1]), static_cast<int64_t>(pa[2]), static_cast<int64_t>(pa[3]), static_cast<int64_t>(pa[4])};
  for (size_t j = 0; j < ids.ElementLength(); j++) {
    const int32_t id = ids[j];
    if (id < 0) throw Napi::RangeError::New(info.Env(), "ids must be ≥ 0");
    const size_t to = slotted ? static_cast<size_t>(slots[j]) : j;
    if (slotted && (slots[j] < 0 || to >= room)) throw Napi::RangeError::New(info.Env(), "slot out of range");
    deformOne(seed, static_cast<uint32_t>(id), base.Data() + (static_cast<size_t>(id) % nBase) * P, bank.Data(), static_cast<uint32_t>(nBank), p, out.Data() + to * P);
  }
  return info.Env().Undefined();
}

/** deformGather(bytes Uint8Array, images Int32Array, out Float32Array, slots Int32Array): out image slots[j] = bytes image images[j] as v/255 (float32, as loadIdxPair). */
Napi::Value DeformGather(const Napi::CallbackInfo& info) {
  static const auto lut = [] {
    std::vector<float> t(256);
    for (int v = 0; v < 256; v++) t[v] = static_cast<float>(v / 255.0);
    return t;
  }();
  const auto bytes = info[0].As<Napi::Uint8Array>();
  const auto images = info[1].As<Napi::Int32Array>();
  auto out = info[2].As<Napi::Float32Array>();
  const auto slots = info[3].As<Napi::Int32Array>();
  const size_t n = images.ElementLength(), have = bytes.ElementLength() / P, room = out.ElementLength() / P;
  if (slots.ElementLength() != n) throw Napi::RangeError::New(info.Env(), "slots must have images.length entries");
  for (size_t j = 0; j < n; j++) {
    const int32_t i = images[j], o = slots[j];
    if (i < 0 || static_cast<size_t>(i) >= have || o < 0 || static_cast<size_t>(o) >= room) throw Napi::RangeError::New(info.Env(), "image or slot index out of range");
    const uint8_t* src = bytes.Data() + static_cast<size_t>(i) * P;
    float* dst = out.Data() + static_cast<size_t>(o) * P;
    for (int k = 0; k < P; k++) dst[k] = lut[src[k]];
  }
  return info.Env().Undefined();
}

}  // namespace

namespace mentia {
/** Adds deformBank, deformSamples and deformGather to the addon's exports (called from addon.cc's Init). */
void registerDeform(Napi::Env env, Napi::Object exports) {
  exports.Set("deformBank", Napi::Function::New(env, DeformBank));
  exports.Set("deformSamples", Napi::Function::New(env, DeformSamples));
  exports.Set("deformGather", Napi::Function::New(env, DeformGather));
}
}  // namespace mentia
