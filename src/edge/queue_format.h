// Constants of the connector's durable queue directory. Part of the on-disk format: never change.
// Byte diagrams and the recovery rules in docs/format/queue.md.
//
// <dir>/000000000001.seg ...  segments: records back to back, no file header
//   record  := crc32c:u32 | length:u32 | type:u8 | seq:u64 | payload[length]
//              (little-endian; the CRC-32C covers length, type, seq and payload)
// <dir>/ack                   ack file, version 2:
//                               crc32c:u32 | version:u8 | acked_seq:u64 | evicted_records:u64
//                             (version 1, still read: crc32c:u32 | version:u8 | acked_seq:u64)
// <dir>/ack.tmp               an ack being written; ignored and removed at open
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wattline::edge {

// The version/type byte of a record. A future layout gets a new value; readers refuse unknown
// ones as corruption.
enum class QueueRecordType : uint8_t {
  kFull = 1,  // one whole payload
};

inline constexpr size_t kQueueRecordHeaderBytes = 4 + 4 + 1 + 8;
inline constexpr size_t kQueueRecordCrcBytes = 4;
inline constexpr uint32_t kMaxQueuePayloadBytes = 16u << 20;

inline constexpr std::string_view kSegmentSuffix = ".seg";
inline constexpr size_t kSegmentNumberDigits = 12;

inline constexpr std::string_view kAckFileName = "ack";
inline constexpr std::string_view kAckTmpFileName = "ack.tmp";
inline constexpr uint8_t kAckVersion1 = 1;
inline constexpr size_t kAckFileBytes1 = 4 + 1 + 8;
inline constexpr uint8_t kAckVersion = 2;  // the version written
inline constexpr size_t kAckFileBytes = 4 + 1 + 8 + 8;

}  // namespace wattline::edge
