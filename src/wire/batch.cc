#include "wire/batch.h"

#include <fmt/format.h>
#include <zstd.h>

#include <cassert>
#include <cstdint>

#include "wire/coding.h"
#include "wire/crc32c.h"

namespace wattline::wire {
namespace {

constexpr int kZstdLevel = 3;  // zstd's default: most of the ratio at a fraction of the CPU

}  // namespace

std::string EncodeBatch(const Batch& batch) {
  assert(batch.connector_id.size() <= kMaxConnectorIdBytes);
  std::string body;
  uint64_t prev = batch.records.empty() ? 0 : batch.records.front().seq;
  for (const auto& r : batch.records) {
    assert(&r == &batch.records.front() || r.seq > prev);
    PutVarint64(&body, r.seq - prev);  // 0 for the first record, >= 1 after
    PutLengthPrefixed(&body, r.reading);
    prev = r.seq;
  }
  std::string compressed(ZSTD_compressBound(body.size()), '\0');
  // ZSTD_compress writes the content size into the frame header; the decoder relies on it.
  size_t n =
      ZSTD_compress(compressed.data(), compressed.size(), body.data(), body.size(), kZstdLevel);
  assert(!ZSTD_isError(n));  // only fails for a too-small destination, which the bound rules out
  compressed.resize(n);

  std::string out;
  out.reserve(32 + batch.connector_id.size() + compressed.size());
  out.append(kBatchMagic);
  out.push_back(static_cast<char>(kBatchVersion));
  out.push_back(static_cast<char>(kBatchFlagZstd));
  PutLengthPrefixed(&out, batch.connector_id);
  PutVarint64(&out, batch.records.size());
  PutVarint64(&out, batch.records.empty() ? 0 : batch.records.front().seq);
  PutLengthPrefixed(&out, compressed);
  PutFixed32(&out, Crc32c(out));
  return out;
}

Result<Batch> DecodeBatch(std::string_view bytes, size_t max_decompressed) {
  Decoder d(bytes, "batch");
  std::string_view magic, id, body;
  uint8_t version = 0, flags = 0;
  uint64_t count = 0, first_seq = 0;
  if (d.ReadBytes(kBatchMagic.size(), &magic, "magic") && magic != kBatchMagic) {
    return Fail(InvalidArgument("batch: bad magic (not a Wattline batch)"));
  }
  if (d.ReadU8(&version, "version") && version != kBatchVersion) {
    return Fail(InvalidArgument("batch: unknown version " + std::to_string(version) +
                                " (this build reads version " + std::to_string(kBatchVersion) +
                                ")"));
  }
  if (d.ReadU8(&flags, "flags") && (flags & ~kBatchKnownFlags) != 0) {
    d.Error(fmt::format("unknown flags {:#04x}", flags));
  }
  d.ReadLengthPrefixed(&id, kMaxConnectorIdBytes, "connector_id");
  d.ReadVarint(&count, "record_count");
  d.ReadVarint(&first_seq, "first_seq");
  d.ReadLengthPrefixed(&body, SIZE_MAX, "body");  // ReadBytes reports truncation
  size_t checked_len = d.offset();
  uint32_t stored_crc = 0;
  d.ReadFixed32(&stored_crc, "checksum");
  if (d.ok() && !d.remaining().empty()) {
    d.Error(std::to_string(d.remaining().size()) + " trailing bytes after the checksum");
  }
  if (!d.ok()) return Fail(d.status());
  if (uint32_t actual = Crc32c(bytes.substr(0, checked_len)); actual != stored_crc) {
    return Fail(InvalidArgument("batch: checksum mismatch"));
  }

  std::string plain;
  std::string_view records = body;
  if (flags & kBatchFlagZstd) {
    // Trust nothing about the frame until zstd has vouched for it: exactly one frame spanning
    // the whole body, with a declared content size within our cap. Only then allocate.
    unsigned long long size = ZSTD_getFrameContentSize(body.data(), body.size());
    if (size == ZSTD_CONTENTSIZE_ERROR)
      return Fail(InvalidArgument("batch: body is not a zstd frame"));
    if (size == ZSTD_CONTENTSIZE_UNKNOWN) {
      return Fail(InvalidArgument("batch: zstd frame does not declare its content size"));
    }
    if (size > max_decompressed) {
      return Fail(InvalidArgument("batch: body decompresses to " + std::to_string(size) +
                                  " bytes, over the limit of " + std::to_string(max_decompressed)));
    }
    size_t frame = ZSTD_findFrameCompressedSize(body.data(), body.size());
    if (ZSTD_isError(frame) || frame != body.size()) {
      return Fail(InvalidArgument("batch: body is not exactly one zstd frame"));
    }
    plain.resize(static_cast<size_t>(size));
    size_t n = ZSTD_decompress(plain.data(), plain.size(), body.data(), body.size());
    if (ZSTD_isError(n)) {
      return Fail(
          InvalidArgument(std::string("batch: corrupt zstd body: ") + ZSTD_getErrorName(n)));
    }
    if (n != plain.size()) return Fail(InvalidArgument("batch: zstd body shorter than declared"));
    records = plain;
  } else if (body.size() > max_decompressed) {
    return Fail(InvalidArgument("batch: body of " + std::to_string(body.size()) +
                                " bytes over the limit of " + std::to_string(max_decompressed)));
  }

  if (count > records.size() / kMinBatchRecordBytes) {
    return Fail(InvalidArgument("batch: truncated body: record_count " + std::to_string(count) +
                                " does not fit in a body of " + std::to_string(records.size()) +
                                " bytes"));
  }
  if (count == 0 && first_seq != 0) {
    return Fail(InvalidArgument("batch: empty batch with first_seq " + std::to_string(first_seq)));
  }
  Batch batch;
  batch.connector_id = id;
  batch.records.reserve(count);
  Decoder rd(records, "batch body");
  uint64_t seq = first_seq;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t delta = 0;
    std::string_view reading;
    if (!rd.ReadVarint(&delta, "seq_delta")) break;
    if (i == 0 && delta != 0) {
      rd.Error("first record's seq differs from the header's first_seq");
      break;
    }
    if (i > 0 && delta == 0) {
      rd.Error("record " + std::to_string(i) + ": seq not increasing");
      break;
    }
    if (delta > UINT64_MAX - seq) {
      rd.Error("record " + std::to_string(i) + ": seq overflows 64 bits");
      break;
    }
    seq += delta;
    if (!rd.ReadLengthPrefixed(&reading, SIZE_MAX, "reading")) break;
    batch.records.push_back(BatchRecord{seq, std::string(reading)});
  }
  if (rd.ok() && !rd.remaining().empty()) {
    rd.Error(std::to_string(rd.remaining().size()) + " trailing bytes after record " +
             std::to_string(count));
  }
  if (!rd.ok()) return Fail(rd.status());
  return batch;
}

}  // namespace wattline::wire
