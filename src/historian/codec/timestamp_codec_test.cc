#include "historian/codec/timestamp_codec.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <vector>

#include "historian/codec/block_format.h"

namespace wattline::historian::codec {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

std::vector<int64_t> RoundTrip(const std::vector<int64_t>& ts, size_t* bytes = nullptr) {
  std::string col;
  EncodeTimestamps(ts, &col);
  if (bytes) *bytes = col.size();
  std::vector<int64_t> out;
  Status s = DecodeTimestamps(col, ts.size(), &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::vector<int64_t> Regular(size_t n, int64_t start, int64_t step) {
  std::vector<int64_t> ts(n);
  for (size_t i = 0; i < n; ++i) ts[i] = start + static_cast<int64_t>(i) * step;
  return ts;
}

TEST(TimestampCodecTest, EmptyAndSingle) {
  EXPECT_TRUE(RoundTrip({}).empty());
  for (int64_t t : {int64_t{0}, int64_t{1735689600000}, kMin, kMax, int64_t{-1}}) {
    EXPECT_EQ(RoundTrip({t}), std::vector<int64_t>{t});
  }
}

TEST(TimestampCodecTest, RegularSeriesCostsAFewBytes) {
  const auto ts = Regular(kMaxBlockSamples, 1735689600000, 1000);
  size_t bytes = 0;
  EXPECT_EQ(RoundTrip(ts, &bytes), ts);
  // First timestamp, first delta and one run: far below Gorilla's 1 bit per sample.
  EXPECT_LT(bytes, 20u);
}

TEST(TimestampCodecTest, RoundTripsJitterGapsAndDuplicates) {
  std::mt19937_64 rng(1);
  std::vector<int64_t> ts;
  int64_t t = 1735689600000;
  for (int i = 0; i < 10000; ++i) {
    switch (rng() % 8) {
      case 0:
        break;  // duplicate
      case 1:
        t += static_cast<int64_t>(rng() % 100000000);  // gap
        break;
      case 2:
        t += 1000 + static_cast<int64_t>(rng() % 41) - 20;  // jitter
        break;
      default:
        t += 1000;
    }
    ts.push_back(t);
  }
  EXPECT_EQ(RoundTrip(ts), ts);
}

TEST(TimestampCodecTest, RoundTripsDecreasingTimestamps) {
  const auto ts = Regular(1000, 1735689600000, -1000);
  EXPECT_EQ(RoundTrip(ts), ts);
  std::vector<int64_t> zigzag = {5, 3, 9, -7, -7, 100, 0};
  EXPECT_EQ(RoundTrip(zigzag), zigzag);
}

TEST(TimestampCodecTest, RoundTripsExtremesWithoutOverflow) {
  const std::vector<std::vector<int64_t>> cases = {
      {kMin, kMax, kMin, kMax, 0, kMin},       {kMax - 2, kMax - 1, kMax, kMax},
      {kMin, kMin + 1, kMin + 2, kMin + 1000}, {0, kMax, -1, kMin, 1},
      Regular(100, kMax - 99 * 7, 7),          Regular(100, kMin + 99 * 7, -7),
  };
  for (const auto& ts : cases) EXPECT_EQ(RoundTrip(ts), ts);
}

TEST(TimestampCodecTest, RoundTripsEveryBucketBoundary) {
  std::vector<int64_t> ts = {0, 1000};
  int64_t t = 1000;
  int64_t delta = 1000;
  for (int64_t dod :
       {int64_t{63}, int64_t{-64}, int64_t{64}, int64_t{-65}, int64_t{2047}, int64_t{-2048},
        int64_t{2048}, int64_t{524287}, int64_t{-524288}, int64_t{524288}, int64_t{2147483647},
        int64_t{-2147483648}, int64_t{2147483648}, int64_t{1} << 40}) {
    delta += dod;
    t += delta;
    ts.push_back(t);
  }
  EXPECT_EQ(RoundTrip(ts), ts);
}

TEST(TimestampCodecTest, RandomSequencesRoundTrip) {
  std::mt19937_64 rng(3);
  for (int round = 0; round < 50; ++round) {
    std::vector<int64_t> ts(rng() % 300);
    for (auto& t : ts) t = static_cast<int64_t>(rng()) >> (rng() % 64);
    EXPECT_EQ(RoundTrip(ts), ts);
  }
}

TEST(TimestampCodecTest, TruncatedColumnIsDataLoss) {
  std::vector<int64_t> ts = {1, 5, 2000, 2001, 99999, 100000, 100001};
  std::string col;
  EncodeTimestamps(ts, &col);
  std::vector<int64_t> out;
  for (size_t len = 0; len < col.size(); ++len) {
    Status s = DecodeTimestamps(col.substr(0, len), ts.size(), &out);
    EXPECT_EQ(s.code(), Code::kDataLoss) << len;
  }
}

TEST(TimestampCodecTest, TrailingBytesAreRefused) {
  std::string col;
  EncodeTimestamps(Regular(10, 0, 1000), &col);
  col.push_back('\0');
  std::vector<int64_t> out;
  EXPECT_EQ(DecodeTimestamps(col, 10, &out).code(), Code::kDataLoss);
}

TEST(TimestampCodecTest, RunPastTheSampleCountIsRefused) {
  std::string col;
  EncodeTimestamps(Regular(100, 0, 1000), &col);
  std::vector<int64_t> out;
  Status s = DecodeTimestamps(col, 50, &out);
  EXPECT_EQ(s.code(), Code::kDataLoss);
  EXPECT_NE(s.message().find("run past"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace wattline::historian::codec
