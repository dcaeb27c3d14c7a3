// Signal codec: one signal's registers <-> its value, applying everything the profile says
// (type, word order, scale, offset, scale register, sign inversion, invalid sentinels). The
// connector decodes; the simulator encodes, so one profile drives both sides.
// Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/sample.h"
#include "core/status.h"
#include "profiles/profile.h"

namespace wattline::profiles {

struct DecodedNumber {
  double value = 0;  // 0 when invalid
  Quality quality = Quality::kGood;
};

// Decodes a kNumber or kBitfield signal from `regs` (at least spec.RegisterCount() registers):
// value = raw * scale * 10^scale_factor + offset, negated when spec.invert. A raw pattern listed
// in spec.invalid, a NaN/infinite float or a non-finite result gives kInvalid with value 0.
// kInvalidArgument when `regs` is too short or the spec is a string.
Result<DecodedNumber> DecodeNumber(const SignalSpec& spec, std::span<const uint16_t> regs,
                                   int16_t scale_factor = 0);

// Decodes a kString signal: two characters per register, high byte first (byte-swapped for the
// word orders BADC and DCBA); stops at the first NUL, trailing spaces are dropped. Non-string
// signals are decoded with DecodeNumber and printed ("12345678", "1.5").
Result<std::string> DecodeText(const SignalSpec& spec, std::span<const uint16_t> regs,
                               int16_t scale_factor = 0);

// The inverse of DecodeNumber: the spec.RegisterCount() registers that decode to `value`
// (integers rounded and clamped to the type's range; a bitfield sets bit `bit` when value != 0).
// REQUIRES: spec.format != kString.
std::vector<uint16_t> EncodeNumber(const SignalSpec& spec, double value, int16_t scale_factor = 0);

// The inverse of DecodeText for strings (padded with NULs, cut to spec.length registers).
std::vector<uint16_t> EncodeText(const SignalSpec& spec, std::string_view text);

}  // namespace wattline::profiles
