// Fields shared by the integer-frame codecs (int_codec.cc, rans_int_codec.cc): signed header
// values (anchor, slope, drift, level) as 7 bits of width and then the zigzag value, and the
// rounding that picks predictor parameters. Part of the block format (docs/format/block.md).
// Thread-safety: pure functions.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "historian/codec/bit_stream.h"
#include "wire/coding.h"

namespace wattline::historian::codec::frame {

inline int64_t S(uint64_t v) { return static_cast<int64_t>(v); }

inline int SignedBits(uint64_t v) { return 7 + std::bit_width(wire::ZigZagEncode(S(v))); }

inline void PutSigned(BitWriter* w, uint64_t v) {
  const uint64_t zz = wire::ZigZagEncode(S(v));
  const int width = std::bit_width(zz);
  w->Write(static_cast<uint64_t>(width), 7);
  w->Write(zz, width);
}

inline bool GetSigned(BitReader* r, uint64_t* v) {
  uint64_t width = 0;
  uint64_t zz = 0;
  if (!r->Read(7, &width) || width > 64 || !r->Read(static_cast<int>(width), &zz)) return false;
  *v = static_cast<uint64_t>(wire::ZigZagDecode(zz));
  return true;
}

// Rounds to int64, saturating; NaN gives 0. Only used to pick predictor parameters, so any
// value is correct, just more or less compact.
inline int64_t ClampRound(double x) {
  if (!(std::fabs(x) < 9.0e18)) return std::isnan(x) ? 0 : (x < 0 ? INT64_MIN : INT64_MAX);
  return std::llround(x);
}

// The least-squares line through the offsets x[i] - x[0] of a frame of m >= 2 values whose
// offsets average `mean`: {slope, intercept} (intercept at i = 0), rounded.
struct Line {
  int64_t slope;
  int64_t intercept;
};
inline Line FitLine(const uint64_t* x, size_t m, int64_t mean) {
  const double ibar = static_cast<double>(m - 1) / 2;
  double sxy = 0;
  double sxx = 0;
  for (size_t i = 0; i < m; ++i) {
    const double di = static_cast<double>(i) - ibar;
    sxy += di * static_cast<double>(S(x[i] - x[0]));
    sxx += di * di;
  }
  const int64_t slope = ClampRound(sxy / sxx);
  return {slope, ClampRound(static_cast<double>(mean) - static_cast<double>(slope) * ibar)};
}

}  // namespace wattline::historian::codec::frame
