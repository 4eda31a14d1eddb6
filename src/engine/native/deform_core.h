// The deformed-MNIST generator's arithmetic, free of N-API so that a test can compile it alone
// with other compilers and flags (test/data-deformed.test.ts) — see deform.cc.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include "hash.h"

namespace mentia_deform {
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
inline void makeField(uint32_t seed, uint32_t b, const int32_t* w, int R, int32_t* out) {
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
inline const uint16_t* symTable(int g) {
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
inline void deformOne(uint32_t seed, uint32_t id, const uint8_t* image, const int32_t* bank, uint32_t bankSize, const Params& p, uint8_t* out) {
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

}  // namespace mentia_deform
