// Sealed blocks: one signal's samples (timestamps and values) compressed column-wise, with a
// version byte and a CRC-32C (docs/format/block.md). This is the lowest layer of the historian's
// storage engine: the head encodes a block when it seals it, queries decode it.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "historian/codec/block_format.h"

namespace wattline::historian::codec {

// What the values are. Part of the format (the kind byte): never renumber.
enum class ValueKind : uint8_t {
  // Any double; every bit pattern round-trips.
  kFloat64 = 0,
  // Exact float32s held in doubles (meters deliver float32 registers): the codecs work on the
  // 32-bit patterns and the decoder returns the same doubles.
  kFloat32 = 1,
  // Integers held in doubles (counters, scaled registers) within +-2^53; -0.0 is not allowed.
  kInteger = 2,
};

// How the value column is coded. Part of the format (the codec byte): never renumber.
enum class ValueCodec : uint8_t {
  kRaw = 0,          // the bit patterns, 4 (kFloat32) or 8 bytes each
  kGorilla = 1,      // XOR with the previous value (Gorilla)
  kChimp = 2,        // XOR with the previous value (Chimp)
  kChimp128 = 3,     // XOR with one of the previous 128 values (Chimp128)
  kAlp = 4,          // decimal integers with one exponent, exceptions raw (ALP-like)
  kIntDelta = 5,     // integer frames over the values (kInteger only)
  kOrderedInt = 6,   // integer frames over the bit patterns in sort order
  kOrderedRans = 7,  // as kOrderedInt, residuals entropy-coded with rANS
};
inline constexpr uint8_t kMaxValueCodec = 7;

// "gorilla", "ordered-int", ...; "unknown" for a value outside the enum.
std::string_view ValueCodecName(ValueCodec codec);
std::string_view ValueKindName(ValueKind kind);
// Parses a name from ValueCodecName.
std::optional<ValueCodec> ParseValueCodec(std::string_view name);

// The codecs the automatic choice tries for `kind`, every one that applies.
std::span<const ValueCodec> CandidateCodecs(ValueKind kind);

struct BlockStats {
  ValueCodec codec = ValueCodec::kRaw;
  size_t ts_bytes = 0;     // the timestamp column, without its length prefix
  size_t value_bytes = 0;  // the value column, without its length prefix
  size_t total_bytes = 0;  // the whole block, header and checksum included
};

// Encodes n samples: `ts_ms` (int64 Unix milliseconds, any order, though normally increasing)
// and `values`, of the given kind. `codec` nullopt tries every candidate for the kind and keeps
// the smallest. Fills `*stats` when given.
// kInvalidArgument when: the spans differ in length; n > kMaxBlockSamples; a value does not fit
// the kind (not an exact float32 for kFloat32; not an integer within +-2^53, or -0.0, for
// kInteger); kIntDelta is asked for with a kind other than kInteger; the codec is unknown.
Result<std::string> EncodeBlock(std::span<const int64_t> ts_ms, std::span<const double> values,
                                ValueKind kind, std::optional<ValueCodec> codec = std::nullopt,
                                BlockStats* stats = nullptr);

struct DecodedBlock {
  ValueKind kind = ValueKind::kFloat64;
  ValueCodec codec = ValueCodec::kRaw;
  std::vector<int64_t> ts_ms;
  std::vector<double> values;
};

// Decodes a block written by EncodeBlock. Never reads outside `bytes`, allocates at most what
// kMaxBlockSamples samples need, and refuses trailing bytes.
// kDataLoss (the stored block is damaged: raise an alarm) with a message naming the problem:
// too short, checksum mismatch, unknown version, kind or codec, a sample count over the limit,
// a truncated or malformed column, bytes left over in a column or after the checksum, values
// that do not fit the kind.
Result<DecodedBlock> DecodeBlock(std::string_view bytes);

}  // namespace wattline::historian::codec
