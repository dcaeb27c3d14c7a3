#include "historian/codec/bit_stream.h"

#include <gtest/gtest.h>

#include <random>
#include <utility>
#include <vector>

namespace wattline::historian::codec {
namespace {

TEST(BitStreamTest, RoundTripsEveryWidth) {
  std::mt19937_64 rng(7);
  std::vector<std::pair<uint64_t, int>> written;
  std::string out;
  BitWriter w(&out);
  for (int i = 0; i < 2000; ++i) {
    const int width = static_cast<int>(rng() % 65);
    const uint64_t v = width == 64 ? rng() : rng() & ((uint64_t{1} << width) - 1);
    w.Write(v, width);
    written.emplace_back(v, width);
  }
  const uint64_t bits = w.bit_count();
  w.Finish();
  EXPECT_EQ(out.size(), (bits + 7) / 8);
  BitReader r(out);
  for (const auto& [v, width] : written) {
    uint64_t got = 0;
    ASSERT_TRUE(r.Read(width, &got));
    EXPECT_EQ(got, v);
  }
  EXPECT_TRUE(r.AtCleanEnd());
}

TEST(BitStreamTest, WriteKeepsOnlyTheLowBits) {
  std::string out;
  BitWriter w(&out);
  w.Write(~uint64_t{0}, 3);
  w.Finish();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(static_cast<unsigned char>(out[0]), 0b11100000);
}

TEST(BitStreamTest, ReadPastTheEndFailsAndSticks) {
  std::string in("\xAB", 1);
  BitReader r(in);
  uint64_t v = 0;
  ASSERT_TRUE(r.Read(4, &v));
  EXPECT_EQ(v, 0xAu);
  EXPECT_FALSE(r.Read(5, &v));
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.Read(1, &v));
  EXPECT_FALSE(r.AtCleanEnd());
}

TEST(BitStreamTest, CleanEndNeedsZeroPaddingAndNoExtraBytes) {
  {
    std::string in("\x80", 1);  // one 1 bit, zero padding
    BitReader r(in);
    bool bit = false;
    ASSERT_TRUE(r.ReadBit(&bit));
    EXPECT_TRUE(bit);
    EXPECT_TRUE(r.AtCleanEnd());
  }
  {
    std::string in("\x81", 1);  // a set padding bit
    BitReader r(in);
    bool bit = false;
    ASSERT_TRUE(r.ReadBit(&bit));
    EXPECT_FALSE(r.AtCleanEnd());
  }
  {
    std::string in("\x80\x00", 2);  // a whole unread byte
    BitReader r(in);
    bool bit = false;
    ASSERT_TRUE(r.ReadBit(&bit));
    EXPECT_FALSE(r.AtCleanEnd());
  }
}

TEST(BitStreamTest, ReadUnaryStopsAtZeroOrLimit) {
  std::string out;
  BitWriter w(&out);
  w.Write(0b1110, 4);
  w.Write(0b11111, 5);
  w.Finish();
  BitReader r(out);
  int ones = 0;
  ASSERT_TRUE(r.ReadUnary(8, &ones));
  EXPECT_EQ(ones, 3);
  ASSERT_TRUE(r.ReadUnary(5, &ones));
  EXPECT_EQ(ones, 5);
  EXPECT_TRUE(r.AtCleanEnd());
}

}  // namespace
}  // namespace wattline::historian::codec
