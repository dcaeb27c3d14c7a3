#include "wire/reading_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>

#include "wire/coding.h"

namespace wattline::wire {
namespace {

using ::testing::HasSubstr;

MeterReading SampleReading() {
  MeterReading r;
  r.device = "meter-01";
  r.model = "Janitza UMG 96RM-E";
  r.ts_ms = 1763766000123;
  r.values.push_back({"active_power_total", "W", SignalKind::kInstant, 12345.6, Quality::kGood});
  r.values.push_back({"energy_import", "Wh", SignalKind::kCounter, 9.87e9, Quality::kManual});
  r.values.push_back({"voltage_l1", "V", SignalKind::kInstant, -0.0, Quality::kInvalid});
  return r;
}

void ExpectEqual(const MeterReading& a, const MeterReading& b) {
  EXPECT_EQ(a.device, b.device);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.ts_ms, b.ts_ms);
  ASSERT_EQ(a.values.size(), b.values.size());
  for (size_t i = 0; i < a.values.size(); ++i) {
    EXPECT_EQ(a.values[i].signal, b.values[i].signal);
    EXPECT_EQ(a.values[i].unit, b.values[i].unit);
    EXPECT_EQ(a.values[i].kind, b.values[i].kind);
    EXPECT_EQ(a.values[i].quality, b.values[i].quality);
    EXPECT_EQ(std::bit_cast<uint64_t>(a.values[i].value),
              std::bit_cast<uint64_t>(b.values[i].value));
  }
}

Status DecodeError(std::string_view bytes) {
  auto r = DecodeReading(bytes);
  if (r) return Status::Ok();
  return r.error();
}

// version, device "d", model "", ts 0, then `count` as given.
std::string HeaderWithCount(uint64_t count) {
  std::string s;
  s.push_back(1);
  PutLengthPrefixed(&s, "d");
  PutLengthPrefixed(&s, "");
  PutVarint64(&s, 0);
  PutVarint64(&s, count);
  return s;
}

TEST(ReadingCodecTest, RoundTrips) {
  MeterReading r = SampleReading();
  auto back = DecodeReading(EncodeReading(r));
  ASSERT_TRUE(back) << back.error().ToString();
  ExpectEqual(*back, r);
}

TEST(ReadingCodecTest, RoundTripsEmptyAndExtremes) {
  MeterReading r;
  r.ts_ms = std::numeric_limits<int64_t>::min();
  r.values.push_back(
      {"", "", SignalKind::kInstant, std::numeric_limits<double>::quiet_NaN(), Quality::kGood});
  r.values.push_back(
      {"x", "", SignalKind::kCounter, std::numeric_limits<double>::infinity(), Quality::kGood});
  auto back = DecodeReading(EncodeReading(r));
  ASSERT_TRUE(back) << back.error().ToString();
  ExpectEqual(*back, r);
  EXPECT_TRUE(std::isnan(back->values[0].value));
}

TEST(ReadingCodecTest, StartsWithVersionByte) { EXPECT_EQ(EncodeReading(SampleReading())[0], 1); }

TEST(ReadingCodecTest, EmptyInput) {
  Status s = DecodeError("");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("truncated in 'version'"));
}

TEST(ReadingCodecTest, UnknownVersion) {
  std::string bytes = EncodeReading(SampleReading());
  bytes[0] = 2;
  Status s = DecodeError(bytes);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("unknown version 2"));
}

TEST(ReadingCodecTest, EveryTruncationIsInvalidArgument) {
  std::string bytes = EncodeReading(SampleReading());
  for (size_t n = 0; n < bytes.size(); ++n) {
    Status s = DecodeError(std::string_view(bytes).substr(0, n));
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << n;
    EXPECT_THAT(s.message(), HasSubstr("truncated")) << n;
  }
}

TEST(ReadingCodecTest, TrailingBytes) {
  std::string bytes = EncodeReading(SampleReading()) + "x";
  Status s = DecodeError(bytes);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("1 trailing bytes"));
}

TEST(ReadingCodecTest, BadReadingVarint) {
  std::string bytes;
  bytes.push_back(1);
  bytes.append(10, '\xff');  // device length: an 11-byte varint
  bytes.push_back('\x01');
  Status s = DecodeError(bytes);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("bad varint in 'device'"));
}

TEST(ReadingCodecTest, StringTooLong) {
  std::string bytes;
  bytes.push_back(1);
  PutVarint64(&bytes, UINT64_MAX);  // absurd device length
  Status s = DecodeError(bytes);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("'device' too long"));
}

TEST(ReadingCodecTest, AbsurdValueCount) {
  Status s = DecodeError(HeaderWithCount(uint64_t{1} << 40));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("over the limit"));
}

TEST(ReadingCodecTest, ValueCountLargerThanInput) {
  Status s = DecodeError(HeaderWithCount(1000));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("does not fit"));
}

TEST(ReadingCodecTest, BadKind) {
  std::string bytes = HeaderWithCount(1);
  PutLengthPrefixed(&bytes, "s");
  PutLengthPrefixed(&bytes, "W");
  bytes.push_back(7);  // kind
  bytes.push_back(0);  // quality
  PutFixed64(&bytes, 0);
  Status s = DecodeError(bytes);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("unknown signal kind 7"));
}

TEST(ReadingCodecTest, BadQuality) {
  std::string bytes = HeaderWithCount(1);
  PutLengthPrefixed(&bytes, "s");
  PutLengthPrefixed(&bytes, "W");
  bytes.push_back(0);
  bytes.push_back(3);
  PutFixed64(&bytes, 0);
  Status s = DecodeError(bytes);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("unknown quality 3"));
}

}  // namespace
}  // namespace wattline::wire
