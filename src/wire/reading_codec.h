// The binary encoding of one MeterReading: the payload of a durable-queue record and of a batch
// record. Layout in docs/format/batch.md ("Reading"). Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "wire/reading.h"

namespace wattline::wire {

// Encodes `reading` (version byte kReadingVersion first). Values keep their exact bits (NaN too).
// REQUIRES: every string is at most kMaxReadingStringBytes, at most kMaxReadingValues values,
// enums hold declared values. A reading that breaks these encodes but does not decode.
std::string EncodeReading(const MeterReading& reading);

// Decodes what EncodeReading produced. Every malformed input -- unknown version, truncation, bad
// varint, unknown kind or quality, a string or value count over the limits, trailing bytes -- is
// kInvalidArgument with a message naming the field and the byte offset. Never reads out of bounds.
Result<MeterReading> DecodeReading(std::string_view bytes);

}  // namespace wattline::wire
