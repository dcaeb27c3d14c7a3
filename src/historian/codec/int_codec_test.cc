#include "historian/codec/int_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "historian/codec/block_format.h"

namespace wattline::historian::codec {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

std::vector<int64_t> RoundTrip(const std::vector<int64_t>& v, size_t* bytes = nullptr) {
  std::string col;
  EncodeIntColumn(v, &col);
  if (bytes) *bytes = col.size();
  std::vector<int64_t> out;
  Status s = DecodeIntColumn(col, v.size(), &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

TEST(IntCodecTest, RoundTripsShortAndFrameBoundaryLengths) {
  std::mt19937_64 rng(5);
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, kIntFrameSize - 1, kIntFrameSize,
                   kIntFrameSize + 1, 3 * kIntFrameSize + 7}) {
    std::vector<int64_t> v(n);
    for (auto& x : v) x = static_cast<int64_t>(rng() % 1000) - 500;
    EXPECT_EQ(RoundTrip(v), v) << n;
  }
}

TEST(IntCodecTest, RoundTripsExtremes) {
  const std::vector<int64_t> v = {kMin, kMax, kMin, 0, kMax, -1, 1, kMax, kMax - 1, kMin + 1};
  EXPECT_EQ(RoundTrip(v), v);
  std::vector<int64_t> alternating(1000);
  for (size_t i = 0; i < alternating.size(); ++i) alternating[i] = i % 2 ? kMax : kMin;
  EXPECT_EQ(RoundTrip(alternating), alternating);
}

TEST(IntCodecTest, RoundTripsCounterRollover) {
  // A uint32 register counter wrapping: 4294967290 .. 4294967295, 0 .. 5.
  std::vector<int64_t> v;
  for (int64_t x = 4294967000; x <= 4294967295; ++x) v.push_back(x);
  for (int64_t x = 0; x <= 300; ++x) v.push_back(x);
  EXPECT_EQ(RoundTrip(v), v);
  const int64_t k53 = int64_t{1} << 53;
  std::vector<int64_t> bounds = {k53, -k53, k53 - 1, -k53 + 1, 0, k53};
  EXPECT_EQ(RoundTrip(bounds), bounds);
}

TEST(IntCodecTest, SmoothSeriesAreSmall) {
  // A counter growing ~1000 a step with small noise: delta-with-drift leaves a few bits.
  std::mt19937_64 rng(9);
  std::vector<int64_t> counter(4096);
  int64_t c = 123456789;
  for (auto& x : counter) {
    c += 1000 + static_cast<int64_t>(rng() % 5);
    x = c;
  }
  size_t bytes = 0;
  EXPECT_EQ(RoundTrip(counter, &bytes), counter);
  EXPECT_LT(bytes, counter.size() * 4 / 8);  // under 4 bits a value
  std::vector<int64_t> constant(4096, -77);
  EXPECT_EQ(RoundTrip(constant, &bytes), constant);
  EXPECT_LT(bytes, 200u);
}

TEST(IntCodecTest, NoiseAroundATrendCostsAboutItsEntropy) {
  // Gaussian noise (sigma 1000) on a slow line: entropy ~ log2(1000 * 4.13) = 12 bits.
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0, 1000);
  std::vector<int64_t> v(8192);
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = 5000000 + static_cast<int64_t>(i) * 37 + std::llround(noise(rng));
  }
  size_t bytes = 0;
  EXPECT_EQ(RoundTrip(v, &bytes), v);
  const double bits = 8.0 * static_cast<double>(bytes) / static_cast<double>(v.size());
  EXPECT_LT(bits, 12.0 + 0.6);
}

TEST(IntCodecTest, RandomSequencesRoundTrip) {
  std::mt19937_64 rng(13);
  for (int round = 0; round < 100; ++round) {
    std::vector<int64_t> v(rng() % 700);
    const int shift = static_cast<int>(rng() % 64);
    for (auto& x : v) x = static_cast<int64_t>(rng()) >> shift;
    EXPECT_EQ(RoundTrip(v), v);
  }
}

TEST(IntCodecTest, TruncatedOrPaddedColumnIsDataLoss) {
  std::vector<int64_t> v(600);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int64_t>(i * i);
  std::string col;
  EncodeIntColumn(v, &col);
  std::vector<int64_t> out;
  for (size_t len = 0; len < col.size(); ++len) {
    EXPECT_EQ(DecodeIntColumn(col.substr(0, len), v.size(), &out).code(), Code::kDataLoss) << len;
  }
  EXPECT_EQ(DecodeIntColumn(col + '\0', v.size(), &out).code(), Code::kDataLoss);
}

TEST(IntCodecTest, GarbageNeverCrashes) {
  std::mt19937_64 rng(17);
  std::vector<int64_t> out;
  for (int round = 0; round < 2000; ++round) {
    std::string junk(rng() % 64, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    (void)DecodeIntColumn(junk, rng() % 600, &out);
  }
}

}  // namespace
}  // namespace wattline::historian::codec
