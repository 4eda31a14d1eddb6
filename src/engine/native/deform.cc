// The deformed-MNIST generator (src/data/deformed.ts defines the stream; src/data/deform.ts is
// this file's TypeScript twin, and test/data-deformed.test.ts checks that they agree byte for
// byte). Integer arithmetic only, with every product below 2^53 and every division a floor by a
// power of two, so the result is the same on every instruction set and compiler, and the
// TypeScript twin (plain numbers) computes exactly the same bytes. Compiled once, outside the
// per-ISA variants of the engine.
#include <napi.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "hash.h"

namespace {

using mentia_hash::bits24;
using mentia_hash::streamKey;

constexpr int S = 28;           // image side
constexpr int P = S * S;        // pixels
constexpr uint32_t STREAM_DEFORM_FIELD = 0x64666c64u;   // = DEFORM_FIELD_STREAM in deform.ts
constexpr uint32_t STREAM_DEFORM_SAMPLE = 0x64736d70u;  // = DEFORM_SAMPLE_STREAM in deform.ts

/** floor(a / 2^k) (arithmetic shift of a signed value: floor on every compiler mentia builds with). */
static inline int64_t fl(int64_t a, int k) { return a >> k; }

/**
 * Bank field b of a job: uniform noise in [-2^23, 2^23) per pixel, smoothed by the separable
 * quantised Gaussian `w` (Q16, radius R, zero outside the image: scipy's mode="constant").
 * Output in Q23 (a smoothed field of unit-amplitude noise).
 */
void makeField(uint32_t seed, uint32_t b, const int32_t* w, int R, int32_t* out) {
  const auto key = streamKey(seed, STREAM_DEFORM_FIELD, b, 0);
  int64_t noise[P], rowPass[P];
  for (int j = 0; j < P; j++) noise[j] = static_cast<int64_t>(bits24(key, static_cast<uint32_t>(j))) - (1 << 23);
  for (int r = 0; r < S; r++)
    for (int c = 0; c < S; c++) {
      int64_t acc = 0;
      for (int k = -R; k <= R; k++) {
        const int cc = c + k;
        if (cc >= 0 && cc < S) acc += w[k + R] * noise[r * S + cc];
      }
      rowPass[r * S + c] = fl(acc, 16);
    }
  for (int r = 0; r < S; r++)
    for (int c = 0; c < S; c++) {
      int64_t acc = 0;
      for (int k = -R; k <= R; k++) {
        const int rr = r + k;
        if (rr >= 0 && rr < S) acc += w[k + R] * rowPass[rr * S + c];
      }
      out[r * S + c] = static_cast<int32_t>(fl(acc, 16));
    }
}

/** Index of pixel (r, c) under symmetry g of the square (bit 2: transpose, bit 0: flip rows, bit 1: flip columns). */
static inline int symIndex(int g, int r, int c) {
  int rr = (g & 4) ? c : r, cc = (g & 4) ? r : c;
  if (g & 1) rr = S - 1 - rr;
  if (g & 2) cc = S - 1 - cc;
  return rr * S + cc;
}

/** symIndex for every pixel, per symmetry (built once). */
const uint16_t* symTable(int g) {
  static const auto table = [] {
    std::vector<uint16_t> t(8 * P);
    for (int h = 0; h < 8; h++)
      for (int r = 0; r < S; r++)
        for (int c = 0; c < S; c++) t[h * P + r * S + c] = static_cast<uint16_t>(symIndex(h, r, c));
    return t;
  }();
  return table.data() + g * P;
}

/** Integer parameters (deform.ts: quantiseDeformation): alphaQ8 (already applied to the displacement bank), rotationQ24 (radians), scaleQ24, shearQ24, translationQ16. */
struct Params {
  int64_t alphaQ8, rotQ24, scaleQ24, shearQ24, transQ16;
};

/** Sample `id` (a deformation of `image`) into out[784]; `bank` holds displacements in Q16 pixels (deform.ts: displacementBank). */
void deformOne(uint32_t seed, uint32_t id, const uint8_t* image, const int32_t* bank, uint32_t bankSize, const Params& p, uint8_t* out) {
  const auto key = streamKey(seed, STREAM_DEFORM_SAMPLE, id, 0);
  const uint32_t u0 = bits24(key, 0), u1 = bits24(key, 1);
  const int32_t* fx = bank + static_cast<size_t>((u0 >> 3) % bankSize) * P;
  const int32_t* fy = bank + static_cast<size_t>((u1 >> 3) % bankSize) * P;
  const int gx = static_cast<int>(u0 & 7), gy = static_cast<int>(u1 & 7);
  // Five symmetric uniforms in (-1, 1), Q24: odd integers in (-2^24, 2^24).
  int64_t s[5];
  for (int j = 0; j < 5; j++) s[j] = 2 * static_cast<int64_t>(bits24(key, static_cast<uint32_t>(2 + j))) - (1 << 24) + 1;
  const int64_t one = int64_t(1) << 24;
  const int64_t th = fl(s[0] * p.rotQ24, 24);
  // cos and sin by their Taylor series to θ^8 / θ^7 (|θ| ≤ π/4: error < 4e-7), Q24.
  const int64_t p1 = fl(th * th, 24), p2 = fl(p1 * p1, 24), p3 = fl(p2 * p1, 24), p4 = fl(p3 * p1, 24);
  const int64_t cs = one - fl(p1, 1) + fl(p2 * 699051, 24) - fl(p3 * 23302, 24) + fl(p4 * 416, 24);
  const int64_t t3 = fl(th * p1, 24), t5 = fl(t3 * p1, 24), t7 = fl(t5 * p1, 24);
  const int64_t sn = th - fl(t3 * 2796203, 24) + fl(t5 * 139810, 24) - fl(t7 * 3329, 24);
  const int64_t k = one + fl(s[1] * p.scaleQ24, 24);
  const int64_t h = fl(s[2] * p.shearQ24, 24);
  const int64_t tx = fl(s[3] * p.transQ16, 24), ty = fl(s[4] * p.transQ16, 24);
  // Source = centre + R(θ)·[[1, h], [0, 1]]·k·(output − centre) + t + d(output).
  const int64_t m00 = fl(cs * k, 24), m01 = fl((fl(cs * h, 24) - sn) * k, 24);
  const int64_t m10 = fl(sn * k, 24), m11 = fl((fl(sn * h, 24) + cs) * k, 24);
  const int64_t centre = 27 << 15;  // 13.5 in Q16
  // The image inside a zero border of one pixel: a source square with x0, y0 in [-1, 27]
  // reads its four pixels without bounds checks; any other lies wholly outside (value 0).
  constexpr int W = S + 2;
  uint8_t pad[W * W];
  std::memset(pad, 0, sizeof pad);
  for (int r = 0; r < S; r++) std::memcpy(pad + (r + 1) * W + 1, image + r * S, S);
  const uint16_t* sx = symTable(gx);
  const uint16_t* sy = symTable(gy);
  for (int r = 0; r < S; r++) {
    // The affine part of the source position, Q25, stepped along the row (exact integers).
    int64_t ax25 = m00 * -27 + m01 * (2 * r - 27), ay25 = m10 * -27 + m11 * (2 * r - 27);
    for (int c = 0; c < S; c++, ax25 += 2 * m00, ay25 += 2 * m10) {
      const int j = r * S + c;
      const int64_t x = centre + fl(ax25, 9) + tx + fx[sx[j]];
      const int64_t y = centre + fl(ay25, 9) + ty + fy[sy[j]];
      const int64_t x0 = fl(x, 16), y0 = fl(y, 16);
      if (static_cast<uint64_t>(x0 + 1) > S || static_cast<uint64_t>(y0 + 1) > S) {
        out[j] = 0;
        continue;
      }
      // Bilinear weights in 1/256 pixel: every product fits 32 bits.
      const int32_t wx = static_cast<int32_t>((x >> 8) & 255), wy = static_cast<int32_t>((y >> 8) & 255);
      const uint8_t* q = pad + (y0 + 1) * W + (x0 + 1);
      const int32_t top = q[0] * (256 - wx) + q[1] * wx;
      const int32_t bot = q[W] * (256 - wx) + q[W + 1] * wx;
      out[j] = static_cast<uint8_t>((top * (256 - wy) + bot * wy + (1 << 15)) >> 16);
    }
  }
}

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

/** deformSamples(seed, ids Int32Array, base Uint8Array (B×784), displacement bank Int32Array, params Float64Array(5), out Uint8Array (ids×784)). */
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
  if (out.ElementLength() != ids.ElementLength() * P) throw Napi::RangeError::New(info.Env(), "out must hold ids.length images");
  const Params p{static_cast<int64_t>(pa[0]), static_cast<int64_t>(pa[1]), static_cast<int64_t>(pa[2]), static_cast<int64_t>(pa[3]), static_cast<int64_t>(pa[4])};
  for (size_t j = 0; j < ids.ElementLength(); j++) {
    const int32_t id = ids[j];
    if (id < 0) throw Napi::RangeError::New(info.Env(), "ids must be ≥ 0");
    deformOne(seed, static_cast<uint32_t>(id), base.Data() + (static_cast<size_t>(id) % nBase) * P, bank.Data(), static_cast<uint32_t>(nBank), p, out.Data() + j * P);
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
