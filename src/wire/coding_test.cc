#include "wire/coding.h"

#include <gtest/gtest.h>

#include "wire/crc32c.h"

namespace wattline::wire {
namespace {

TEST(Crc32cTest, MatchesStandardCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(Crc32cTest, ContinuesAcrossChunks) {
  EXPECT_EQ(Crc32c("6789", Crc32c("12345")), Crc32c("123456789"));
}

// The crc32 instruction path (on x86-64 with SSE4.2) and the table agree on every length and
// alignment, continued or not.
TEST(Crc32cTest, InstructionAndTableAgree) {
  EXPECT_EQ(internal::Crc32cPortableForTesting("123456789"), 0xE3069283u);
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 37 + 11));
  for (size_t from = 0; from < 9; ++from) {
    for (size_t len = 0; from + len <= data.size(); len += 7) {
      const std::string_view part = std::string_view(data).substr(from, len);
      ASSERT_EQ(Crc32c(part), internal::Crc32cPortableForTesting(part)) << from << " " << len;
      ASSERT_EQ(Crc32c(part, 0x12345678u), internal::Crc32cPortableForTesting(part, 0x12345678u));
    }
  }
}

TEST(CodingTest, VarintRoundTripsBoundaries) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{16383},
                     uint64_t{16384}, uint64_t{1} << 63, UINT64_MAX}) {
    std::string s;
    PutVarint64(&s, v);
    std::string_view in = s;
    uint64_t out = 0;
    ASSERT_EQ(GetVarint64(&in, &out), VarintError::kOk) << v;
    EXPECT_EQ(out, v);
    EXPECT_TRUE(in.empty());
  }
}

TEST(CodingTest, VarintTruncatedLeavesInputUnchanged) {
  std::string_view in("\x80\x80", 2);
  uint64_t v = 0;
  EXPECT_EQ(GetVarint64(&in, &v), VarintError::kTruncated);
  EXPECT_EQ(in.size(), 2u);
}

TEST(CodingTest, VarintOverflowRejected) {
  std::string eleven(10, '\xff');
  eleven.push_back('\x01');
  std::string_view in = eleven;
  uint64_t v = 0;
  EXPECT_EQ(GetVarint64(&in, &v), VarintError::kOverflow);
  std::string tenth_too_big(9, '\xff');
  tenth_too_big.push_back('\x02');
  in = tenth_too_big;
  EXPECT_EQ(GetVarint64(&in, &v), VarintError::kOverflow);
}

TEST(CodingTest, ZigZagRoundTrips) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, INT64_MIN, INT64_MAX}) {
    EXPECT_EQ(ZigZagDecode(ZigZagEncode(v)), v);
  }
  EXPECT_EQ(ZigZagEncode(-1), 1u);
  EXPECT_EQ(ZigZagEncode(1), 2u);
}

TEST(CodingTest, FixedIsLittleEndian) {
  std::string s;
  PutFixed32(&s, 0x04030201u);
  PutFixed64(&s, 0x0807060504030201ull);
  EXPECT_EQ(s, std::string("\x01\x02\x03\x04\x01\x02\x03\x04\x05\x06\x07\x08", 12));
  EXPECT_EQ(DecodeFixed32(s.data()), 0x04030201u);
  EXPECT_EQ(DecodeFixed64(s.data() + 4), 0x0807060504030201ull);
}

}  // namespace
}  // namespace wattline::wire
