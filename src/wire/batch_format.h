// Constants of the connector-to-server batch format and of the reading encoding it carries.
// Part of the wire format: never change. A new layout gets a new version byte; see
// docs/format/batch.md for the byte diagrams and the rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wattline::wire {

// ---- Batch (batch.h) ----
inline constexpr std::string_view kBatchMagic = "WLB";
inline constexpr uint8_t kBatchVersion = 1;
// Flags byte: bit 0 set = the body is one zstd frame (with its content size); clear = plain.
// Every other bit is reserved and must be 0.
inline constexpr uint8_t kBatchFlagZstd = 0x01;
inline constexpr uint8_t kBatchKnownFlags = kBatchFlagZstd;
inline constexpr size_t kMaxConnectorIdBytes = 255;
inline constexpr size_t kBatchChecksumBytes = 4;  // CRC-32C, little-endian, last field
inline constexpr size_t kDefaultMaxDecompressedBytes = size_t{64} << 20;
// Smallest record in the body: a 1-byte seq delta and a 1-byte length of an empty reading.
inline constexpr size_t kMinBatchRecordBytes = 2;

// ---- Reading (reading_codec.h) ----
inline constexpr uint8_t kReadingVersion = 1;
// device, model, signal and unit names.
inline constexpr size_t kMaxReadingStringBytes = 1024;
inline constexpr size_t kMaxReadingValues = 65536;
// Smallest value: empty signal and unit (1 + 1), kind, quality, float64.
inline constexpr size_t kMinReadingValueBytes = 1 + 1 + 1 + 1 + 8;

}  // namespace wattline::wire
