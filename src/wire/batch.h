// Batch: what the connector's uplink sends to the server's ingest in one request -- a run of
// queue records, each an encoded reading with its queue sequence number. Layout, limits and the
// decoder's rules in docs/format/batch.md; constants in batch_format.h.
// Thread-safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "wire/batch_format.h"

namespace wattline::wire {

struct BatchRecord {
  uint64_t seq = 0;     // the connector's queue sequence number
  std::string reading;  // EncodeReading() bytes; opaque to the batch format
  bool operator==(const BatchRecord&) const = default;
};

struct Batch {
  std::string connector_id;
  std::vector<BatchRecord> records;
  bool operator==(const Batch&) const = default;
};

// Encodes `batch` with a zstd-compressed body and a CRC-32C.
// REQUIRES: connector_id.size() <= kMaxConnectorIdBytes; record seqs strictly increasing.
std::string EncodeBatch(const Batch& batch);

// Decodes and verifies EncodeBatch() output. Every failure is kInvalidArgument with a message
// naming what is wrong: bad magic, unknown version or flags, truncation, trailing bytes, checksum
// mismatch, a body whose declared decompressed size is missing or above `max_decompressed`
// (decompression bombs are refused before anything is allocated), corrupt zstd data, a record
// count that does not match the body, seqs that do not strictly increase or do not start at the
// header's first seq. The readings themselves are not decoded (see DecodeReading).
Result<Batch> DecodeBatch(std::string_view bytes,
                          size_t max_decompressed = kDefaultMaxDecompressedBytes);

}  // namespace wattline::wire
