#include "wire/batch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zstd.h>

#include "wire/coding.h"
#include "wire/crc32c.h"
#include "wire/reading_codec.h"

namespace wattline::wire {
namespace {

using ::testing::HasSubstr;

// Builds batch bytes field by field, so that tests can break any one of them.
struct RawBatch {
  std::string magic = "WLB";
  uint8_t version = 1;
  uint8_t flags = kBatchFlagZstd;
  std::string connector_id = "edge-7";
  uint64_t count = 0;
  uint64_t first_seq = 0;
  std::string body;  // plain records; compressed below when flags say so
  bool declare_content_size = true;

  std::string Compressed() const {
    if (!(flags & kBatchFlagZstd)) return body;
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, declare_content_size ? 1 : 0);
    std::string out(ZSTD_compressBound(body.size()), '\0');
    size_t n = ZSTD_compress2(cctx, out.data(), out.size(), body.data(), body.size());
    ZSTD_freeCCtx(cctx);
    out.resize(n);
    return out;
  }

  std::string Encode() const {
    std::string out = magic;
    out.push_back(static_cast<char>(version));
    out.push_back(static_cast<char>(flags));
    PutLengthPrefixed(&out, connector_id);
    PutVarint64(&out, count);
    PutVarint64(&out, first_seq);
    PutLengthPrefixed(&out, Compressed());
    PutFixed32(&out, Crc32c(out));
    return out;
  }

  // Appends a record with the given seq delta.
  RawBatch& Add(uint64_t delta, std::string_view reading) {
    PutVarint64(&body, delta);
    PutLengthPrefixed(&body, reading);
    ++count;
    return *this;
  }
};

Batch SampleBatch() {
  Batch b;
  b.connector_id = "edge-7";
  MeterReading r;
  r.device = "meter-01";
  r.model = "UMG 96RM";
  uint64_t seq = 1000;
  for (uint64_t i = 0; i < 50; ++i) {
    seq += i % 3;  // gaps of 0..2: seqs skipped by the queue after corruption
    r.ts_ms = 1763766000000 + static_cast<int64_t>(i) * 1000;
    r.values = {{"active_power_total", "W", SignalKind::kInstant, 1000.0 + i, Quality::kGood}};
    b.records.push_back({seq++, EncodeReading(r)});
  }
  return b;
}

Status DecodeError(std::string_view bytes, size_t max = kDefaultMaxDecompressedBytes) {
  auto b = DecodeBatch(bytes, max);
  if (b) return Status::Ok();
  return b.error();
}

void ExpectInvalid(std::string_view bytes, std::string_view fragment,
                   size_t max = kDefaultMaxDecompressedBytes) {
  Status s = DecodeError(bytes, max);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(std::string(fragment)));
}

TEST(BatchTest, RoundTrips) {
  Batch b = SampleBatch();
  auto back = DecodeBatch(EncodeBatch(b));
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, b);
  auto reading = DecodeReading(back->records[3].reading);
  ASSERT_TRUE(reading);
  EXPECT_EQ(reading->ts_ms, 1763766003000);
}

TEST(BatchTest, RoundTripsEmptyBatch) {
  Batch b;
  b.connector_id = "edge-7";
  auto back = DecodeBatch(EncodeBatch(b));
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, b);
}

TEST(BatchTest, RoundTripsExtremeSeqs) {
  Batch b;
  b.records = {{0, ""}, {1, "a"}, {UINT64_MAX, "z"}};
  auto back = DecodeBatch(EncodeBatch(b));
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, b);
}

TEST(BatchTest, CompressesRepetitiveReadings) {
  Batch b = SampleBatch();
  size_t raw = 0;
  for (const auto& r : b.records) raw += r.reading.size();
  EXPECT_LT(EncodeBatch(b).size(), raw / 2);
}

TEST(BatchTest, AcceptsUncompressedBody) {
  RawBatch raw;
  raw.flags = 0;
  raw.first_seq = 5;
  raw.Add(0, "a").Add(2, "b");
  auto back = DecodeBatch(raw.Encode());
  ASSERT_TRUE(back) << back.error().ToString();
  ASSERT_EQ(back->records.size(), 2u);
  EXPECT_EQ(back->records[1].seq, 7u);
  EXPECT_EQ(back->records[1].reading, "b");
}

TEST(BatchTest, BadMagic) {
  std::string bytes = EncodeBatch(SampleBatch());
  bytes[0] = 'X';
  ExpectInvalid(bytes, "bad magic");
}

TEST(BatchTest, UnknownVersion) {
  RawBatch raw;
  raw.version = 2;
  ExpectInvalid(raw.Encode(), "unknown version 2");
}

TEST(BatchTest, UnknownFlags) {
  RawBatch raw;
  raw.flags = 0x81;
  ExpectInvalid(raw.Encode(), "unknown flags 0x81");
}

TEST(BatchTest, ChecksumMismatch) {
  std::string bytes = EncodeBatch(SampleBatch());
  bytes[bytes.size() / 2] ^= 0x10;
  ExpectInvalid(bytes, "checksum mismatch");
  bytes = EncodeBatch(SampleBatch());
  bytes.back() ^= 0x01;
  ExpectInvalid(bytes, "checksum mismatch");
}

TEST(BatchTest, Truncated) {
  std::string bytes = EncodeBatch(SampleBatch());
  for (size_t n = 0; n < bytes.size(); ++n) {
    ExpectInvalid(std::string_view(bytes).substr(0, n), "truncated");
  }
}

TEST(BatchTest, TrailingBytes) {
  ExpectInvalid(EncodeBatch(SampleBatch()) + "junk", "4 trailing bytes after the checksum");
}

TEST(BatchTest, ConnectorIdTooLong) {
  RawBatch raw;
  raw.connector_id.assign(256, 'c');
  ExpectInvalid(raw.Encode(), "'connector_id' too long");
}

TEST(BatchTest, BadHeaderVarint) {
  std::string bytes = "WLB\x01\x01";
  bytes += std::string(1, '\x02') + "id";
  bytes.append(11, '\xff');  // record_count
  ExpectInvalid(bytes, "bad varint in 'record_count'");
}

TEST(BatchTest, NonIncreasingSeq) {
  RawBatch raw;
  raw.first_seq = 10;
  raw.Add(0, "a").Add(1, "b").Add(0, "c");
  ExpectInvalid(raw.Encode(), "record 2: seq not increasing");
}

TEST(BatchTest, FirstSeqMismatch) {
  RawBatch raw;
  raw.first_seq = 10;
  raw.Add(3, "a");
  ExpectInvalid(raw.Encode(), "first record's seq differs");
}

TEST(BatchTest, SeqOverflow) {
  RawBatch raw;
  raw.first_seq = UINT64_MAX - 1;
  raw.Add(0, "a").Add(2, "b");
  ExpectInvalid(raw.Encode(), "seq overflows");
}

TEST(BatchTest, EmptyBatchWithFirstSeq) {
  RawBatch raw;
  raw.first_seq = 3;
  ExpectInvalid(raw.Encode(), "empty batch");
}

TEST(BatchTest, RecordCountLargerThanBody) {
  RawBatch raw;
  raw.Add(0, "a");
  raw.count = 1000;
  ExpectInvalid(raw.Encode(), "does not fit");
}

TEST(BatchTest, RecordCountSmallerThanBody) {
  RawBatch raw;
  raw.Add(0, "a").Add(1, "b");
  raw.count = 1;
  ExpectInvalid(raw.Encode(), "trailing bytes after record 1");
}

TEST(BatchTest, TruncatedRecordInBody) {
  RawBatch raw;
  raw.Add(0, "abc");
  raw.body.pop_back();
  ExpectInvalid(raw.Encode(), "truncated in 'reading'");
}

TEST(BatchTest, BadRecordVarint) {
  RawBatch raw;
  raw.body.append(11, '\xff');
  raw.count = 1;
  ExpectInvalid(raw.Encode(), "bad varint in 'seq_delta'");
}

TEST(BatchTest, OversizedBody) {
  RawBatch raw;
  raw.Add(0, std::string(100000, 'x'));
  ExpectInvalid(raw.Encode(), "over the limit of 4096", 4096);
  raw.flags = 0;
  ExpectInvalid(raw.Encode(), "over the limit of 4096", 4096);
}

TEST(BatchTest, RefusesDecompressionBombAtDefaultLimit) {
  RawBatch raw;
  raw.Add(0, std::string(kDefaultMaxDecompressedBytes, '\0'));
  std::string bytes = raw.Encode();
  EXPECT_LT(bytes.size(), 10000u);  // a few KB that would expand to 64 MiB
  ExpectInvalid(bytes, "over the limit");
}

TEST(BatchTest, UnknownContentSize) {
  RawBatch raw;
  raw.Add(0, "a");
  raw.declare_content_size = false;
  ExpectInvalid(raw.Encode(), "does not declare its content size");
}

TEST(BatchTest, NotAZstdFrame) {
  RawBatch raw;
  raw.flags = 0;
  raw.Add(0, "hello");
  std::string bytes = raw.Encode();
  bytes[4] = static_cast<char>(kBatchFlagZstd);  // claim zstd for a plain body
  // Re-seal the checksum so that the zstd check is what fails.
  bytes.resize(bytes.size() - 4);
  PutFixed32(&bytes, Crc32c(bytes));
  ExpectInvalid(bytes, "not a zstd frame");
}

TEST(BatchTest, TwoZstdFrames) {
  RawBatch raw;
  raw.Add(0, "a");
  std::string frame = raw.Compressed();
  std::string bytes = "WLB\x01\x01";
  PutLengthPrefixed(&bytes, "id");
  PutVarint64(&bytes, 1);
  PutVarint64(&bytes, 0);
  PutLengthPrefixed(&bytes, frame + frame);
  PutFixed32(&bytes, Crc32c(bytes));
  ExpectInvalid(bytes, "not exactly one zstd frame");
}

TEST(BatchTest, CorruptZstdBody) {
  RawBatch raw;
  for (int i = 0; i < 20; ++i) raw.Add(i == 0 ? 0 : 1, "reading " + std::to_string(i * 7919));
  std::string frame = raw.Compressed();
  frame[frame.size() - 3] ^= 0x55;  // inside the compressed block / content checksum
  std::string bytes = "WLB\x01\x01";
  PutLengthPrefixed(&bytes, "id");
  PutVarint64(&bytes, raw.count);
  PutVarint64(&bytes, 0);
  PutLengthPrefixed(&bytes, frame);
  PutFixed32(&bytes, Crc32c(bytes));
  Status s = DecodeError(bytes);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
}

}  // namespace
}  // namespace wattline::wire
