// Integer sequences in frames of kIntFrameSize values (docs/format/block.md, "Integer frames").
// Each frame picks the predictor (frame mean, linear fit, previous value, previous value plus
// the frame's mean step) and the residual coder (Rice with escapes, or plain bit packing) that
// give it the fewest bits. Values are uint64 and all arithmetic is modulo 2^64, so any sequence
// round-trips; signed values pass through their two's complement.
// Used by the kIntDelta value codec (integers), kAlp (scaled decimals) and kOrderedInt (float bit
// patterns in sort order). Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "historian/codec/bit_stream.h"

namespace wattline::historian::codec {

// Appends the frames for `values` to `*w`.
void EncodeIntFrames(std::span<const uint64_t> values, BitWriter* w);

// Reads frames for exactly `n` values from `*r`, appending them to `*out`. Returns false when
// the stream is truncated or a frame header is invalid. REQUIRES: n <= kMaxBlockSamples.
bool DecodeIntFrames(BitReader* r, size_t n, std::vector<uint64_t>* out);

// The kIntDelta value column: int64 values as frames, padded to a whole byte.
void EncodeIntColumn(std::span<const int64_t> values, std::string* out);
// Decodes exactly `n` values from all of `in`. kDataLoss when truncated, malformed or followed by
// bytes left over.
Status DecodeIntColumn(std::string_view in, size_t n, std::vector<int64_t>* out);

}  // namespace wattline::historian::codec
