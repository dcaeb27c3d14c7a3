// Integer sequences in frames of kIntFrameSize values whose residuals are entropy-coded with a
// static rANS table for the whole column (docs/format/block.md, "rANS integer frames").
// Each frame picks the predictor that gives it the fewest bits: frame mean, linear fit, previous
// value, previous value plus the frame's mean step, or two means with a split point (a step in
// the level). A residual is zigzag-coded and split into a symbol (its bit width and the two bits
// below its leading one), coded with rANS at 12-bit precision, and the remaining low bits, stored
// as they are. Values are uint64 and all arithmetic is modulo 2^64, so any sequence round-trips.
// Used by the kOrderedRans value codec (float bit patterns in sort order).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace wattline::historian::codec {

// Appends the column for `values` to `*out`; nothing for an empty span.
void EncodeRansIntColumn(std::span<const uint64_t> values, std::string* out);

// Decodes exactly `n` values from all of `in`, replacing `*out`. Never reads outside `in` and
// allocates at most n values plus fixed-size tables. kDataLoss, with `codec` and the problem in
// the message, when the column is truncated, its table or a frame header is invalid, or bytes
// are left over. REQUIRES: n <= kMaxBlockSamples.
Status DecodeRansIntColumn(std::string_view in, size_t n, std::string_view codec,
                           std::vector<uint64_t>* out);

}  // namespace wattline::historian::codec
