// The timestamp column of a sealed block: int64 milliseconds as delta-of-delta with
// variable-width buckets and run lengths for repeated deltas (docs/format/block.md).
// Any int64 sequence round-trips: decreasing, duplicate and extreme values included (the
// differences are taken modulo 2^64). Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace wattline::historian::codec {

// Appends the column for `ts_ms` to `*out`.
void EncodeTimestamps(std::span<const int64_t> ts_ms, std::string* out);

// Decodes exactly `n` timestamps from all of `in` into `*out` (replacing its contents).
// kDataLoss when `in` is truncated, malformed or has bytes left over.
Status DecodeTimestamps(std::string_view in, size_t n, std::vector<int64_t>* out);

}  // namespace wattline::historian::codec
