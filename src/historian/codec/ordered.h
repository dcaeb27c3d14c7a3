// Float bit patterns in sort order (docs/format/block.md, "ordered-int"): positive patterns get
// the sign bit set, negative ones are inverted, so the unsigned order of the results is the
// numeric order of the values (-0.0 just below +0.0, NaNs at the ends). Used by the ordered
// value codecs (float_codec.cc) and the prediction residuals (reference.cc).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

namespace wattline::historian::codec {

inline uint64_t WidthMask(int width) {
  return width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
}
// REQUIRES: width is 32 or 64 and w fits it.
inline uint64_t ToOrdered(uint64_t w, int width) {
  const uint64_t sign = uint64_t{1} << (width - 1);
  return (w & sign) ? (~w & WidthMask(width)) : (w | sign);
}
inline uint64_t FromOrdered(uint64_t u, int width) {
  const uint64_t sign = uint64_t{1} << (width - 1);
  return (u & sign) ? (u & ~sign) : (~u & WidthMask(width));
}

}  // namespace wattline::historian::codec
