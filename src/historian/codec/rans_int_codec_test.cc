#include "historian/codec/rans_int_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "historian/codec/bit_stream.h"
#include "historian/codec/block_format.h"
#include "historian/codec/int_codec.h"
#include "wire/coding.h"

namespace wattline::historian::codec {
namespace {

constexpr uint64_t kAllOnes = std::numeric_limits<uint64_t>::max();

std::string Encode(const std::vector<uint64_t>& v) {
  std::string col;
  EncodeRansIntColumn(v, &col);
  return col;
}

void ExpectRoundTrip(const std::vector<uint64_t>& v, const std::string& what) {
  const std::string col = Encode(v);
  std::vector<uint64_t> out;
  Status s = DecodeRansIntColumn(col, v.size(), "test", &out);
  ASSERT_TRUE(s.ok()) << what << ": " << s.ToString();
  ASSERT_EQ(out, v) << what;
}

void ExpectDataLoss(std::string_view col, size_t n, std::string_view message) {
  std::vector<uint64_t> out;
  Status s = DecodeRansIntColumn(col, n, "test", &out);
  ASSERT_FALSE(s.ok()) << message;
  EXPECT_EQ(s.code(), Code::kDataLoss);
  EXPECT_NE(s.message().find(message), std::string::npos) << s.message();
}

// Meter-like integers: a level with Gaussian noise, steps, a slow trend and a counter stretch.
std::vector<uint64_t> MeterLike(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 3000);
  std::vector<uint64_t> v(n);
  double level = 1e9;
  for (size_t i = 0; i < n; ++i) {
    if (rng() % 300 == 0) level += static_cast<double>(rng() % 2000000) - 1e6;
    level += 3;
    v[i] = static_cast<uint64_t>(std::llround(level + noise(rng)));
  }
  return v;
}

// A column built by hand: the rANS stream (just a state) and then the given bits.
class HandColumn {
 public:
  explicit HandColumn(uint32_t state = kRansStateLow) : bits_(&tail_) {
    wire::PutVarint64(&col_, 4);
    for (int i = 3; i >= 0; --i) col_.push_back(static_cast<char>((state >> (8 * i)) & 0xFF));
  }
  BitWriter* bits() { return &bits_; }
  std::string Finish() {
    bits_.Finish();
    return col_ + tail_;
  }

 private:
  std::string col_;
  std::string tail_;
  BitWriter bits_;
};

TEST(RansIntCodecTest, RoundTripsEveryLengthUpTo600) {
  for (size_t n = 0; n <= 600; ++n) {
    ExpectRoundTrip(MeterLike(n, n), "meter-like, n = " + std::to_string(n));
    std::mt19937_64 rng(n);
    std::vector<uint64_t> random(n);
    for (auto& x : random) x = rng();
    ExpectRoundTrip(random, "random, n = " + std::to_string(n));
  }
}

TEST(RansIntCodecTest, RoundTripsTheLargestBlock) {
  ExpectRoundTrip(MeterLike(kMaxBlockSamples, 7), "meter-like");
  std::mt19937_64 rng(3);
  std::vector<uint64_t> random(kMaxBlockSamples);
  for (auto& x : random) x = rng() >> (rng() % 64);
  ExpectRoundTrip(random, "random widths");
}

TEST(RansIntCodecTest, RoundTripsExtremesAndHugeJumps) {
  ExpectRoundTrip({0, kAllOnes, 0, kAllOnes, 1, kAllOnes - 1, uint64_t{1} << 63, 0}, "extremes");
  std::vector<uint64_t> alternating(1000);
  for (size_t i = 0; i < alternating.size(); ++i) alternating[i] = i % 2 ? kAllOnes : 0;
  ExpectRoundTrip(alternating, "alternating");
  std::vector<uint64_t> jumps = MeterLike(2000, 11);
  jumps[300] = kAllOnes;
  jumps[301] = 0;
  jumps[777] = uint64_t{1} << 63;
  ExpectRoundTrip(jumps, "jumps");
}

TEST(RansIntCodecTest, RoundTripsCounterRollover) {
  std::vector<uint64_t> v;
  for (uint64_t x = 4294967000; x <= 4294967295; ++x) v.push_back(x);
  for (uint64_t x = 0; x <= 300; ++x) v.push_back(x);
  ExpectRoundTrip(v, "uint32 rollover");
  std::vector<uint64_t> wrap;
  for (uint64_t x = kAllOnes - 300; x != 300; ++x) wrap.push_back(x);
  ExpectRoundTrip(wrap, "uint64 rollover");
}

TEST(RansIntCodecTest, ConstantColumnIsTiny) {
  const std::vector<uint64_t> v(4000, 123456789);
  ExpectRoundTrip(v, "constant");
  // A table of one symbol codes each residual in zero bits: what remains is headers.
  EXPECT_LT(Encode(v).size(), 100u);
}

TEST(RansIntCodecTest, GaussianNoiseCostsCloseToItsEntropy) {
  std::mt19937_64 rng(1);
  const double sigma = 10000;
  std::normal_distribution<double> noise(0, sigma);
  std::vector<uint64_t> v(3600);
  for (auto& x : v) x = static_cast<uint64_t>(std::llround(1e6 + noise(rng)));
  ExpectRoundTrip(v, "gaussian");
  const double entropy_bits = std::log2(sigma * std::sqrt(2 * M_PI * M_E));
  const double bits = 8.0 * static_cast<double>(Encode(v).size()) / static_cast<double>(v.size());
  EXPECT_LT(bits, entropy_bits + 0.3);
  // And below the Rice-coded integer frames of the same values.
  std::string rice;
  BitWriter w(&rice);
  EncodeIntFrames(v, &w);
  w.Finish();
  EXPECT_LT(Encode(v).size(), rice.size());
}

TEST(RansIntCodecTest, ALevelStepInsideAFrameCostsLittle) {
  std::mt19937_64 rng(2);
  std::normal_distribution<double> noise(0, 1000);
  std::vector<uint64_t> flat(kIntFrameSize * 8);
  for (auto& x : flat) x = static_cast<uint64_t>(std::llround(1e9 + noise(rng)));
  std::vector<uint64_t> stepped = flat;
  for (size_t f = 0; f < 8; ++f) {
    for (size_t i = f * kIntFrameSize + 100; i < (f + 1) * kIntFrameSize; ++i)
      stepped[i] += 5000000;
  }
  ExpectRoundTrip(stepped, "stepped");
  // Each frame's step costs a split and a second mean, a few dozen bits, not the residuals.
  EXPECT_LT(Encode(stepped).size(), Encode(flat).size() + 8 * 8);
}

TEST(RansIntCodecTest, EmptyColumnForNoValues) {
  EXPECT_TRUE(Encode({}).empty());
  ExpectDataLoss(std::string(1, '\0'), 0, "trailing bytes");
}

TEST(RansIntCodecTest, EveryTruncationIsRefused) {
  const std::vector<uint64_t> v = MeterLike(700, 5);
  const std::string col = Encode(v);
  for (size_t len = 0; len < col.size(); ++len) {
    std::vector<uint64_t> out;
    Status s = DecodeRansIntColumn(std::string_view(col).substr(0, len), v.size(), "test", &out);
    ASSERT_FALSE(s.ok()) << len;
    EXPECT_EQ(s.code(), Code::kDataLoss);
  }
}

TEST(RansIntCodecTest, TrailingBytesAreRefused) {
  const std::vector<uint64_t> v = MeterLike(300, 6);
  ExpectDataLoss(Encode(v) + std::string(1, '\0'), v.size(), "trailing bytes");
}

TEST(RansIntCodecTest, BitFlipsNeverCrash) {
  // Without the block's checksum a flip may decode to other values (a flip in a residual's raw
  // low bits always does); it must never crash or read out of bounds (ASan), and whatever
  // decodes has the requested count.
  const std::vector<uint64_t> v = MeterLike(500, 8);
  const std::string col = Encode(v);
  std::string_view rest = col;
  uint64_t rans_len = 0;
  ASSERT_EQ(wire::GetVarint64(&rest, &rans_len), wire::VarintError::kOk);
  const size_t rans_begin = col.size() - rest.size();
  int rans_flips = 0;
  int rans_refused = 0;
  for (size_t bit = 0; bit < col.size() * 8; ++bit) {
    std::string bad = col;
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
    std::vector<uint64_t> out;
    Status s = DecodeRansIntColumn(bad, v.size(), "test", &out);
    const bool in_rans = bit / 8 >= rans_begin && bit / 8 < rans_begin + rans_len;
    rans_flips += in_rans;
    if (s.ok()) {
      EXPECT_EQ(out.size(), v.size());
    } else {
      EXPECT_EQ(s.code(), Code::kDataLoss);
      rans_refused += in_rans;
    }
  }
  // A flip in the rANS stream almost always leaves a state other than the initial one.
  EXPECT_GT(rans_flips, 0);
  EXPECT_GT(rans_refused, rans_flips * 9 / 10);
}

TEST(RansIntCodecTest, TruncatedRansLength) {
  std::string col;
  wire::PutVarint64(&col, 100);
  col += "abc";
  ExpectDataLoss(col, 5, "truncated rANS stream");
}

TEST(RansIntCodecTest, TruncatedRansState) {
  std::string col;
  wire::PutVarint64(&col, 2);
  col += "ab";
  ExpectDataLoss(col, 5, "truncated rANS state");
}

TEST(RansIntCodecTest, TableSymbolsOutOfRange) {
  HandColumn c;
  c.bits()->Write(250, 8);
  c.bits()->Write(5, 8);
  ExpectDataLoss(c.Finish(), 5, "table symbols out of range");
}

TEST(RansIntCodecTest, UnknownPredictor) {
  HandColumn c;
  c.bits()->Write(0, 8);
  c.bits()->Write(1, 8);
  c.bits()->Write(15, kRansWeightCodeBits);
  c.bits()->Write(7, kRansPredictorBits);
  ExpectDataLoss(c.Finish(), 5, "unknown predictor");
}

TEST(RansIntCodecTest, ResidualWithAnEmptyTable) {
  HandColumn c;
  c.bits()->Write(0, 8);
  c.bits()->Write(0, 8);
  c.bits()->Write(static_cast<uint64_t>(RansPredictor::kMean), kRansPredictorBits);
  c.bits()->WriteBit(false);  // previous shift
  c.bits()->Write(0, 7);      // anchor 0
  ExpectDataLoss(c.Finish(), 5, "empty table");
}

TEST(RansIntCodecTest, SplitOutsideTheFrame) {
  for (uint64_t split : {uint64_t{0}, uint64_t{5}, uint64_t{200}}) {
    HandColumn c;
    c.bits()->Write(0, 8);
    c.bits()->Write(1, 8);
    c.bits()->Write(15, kRansWeightCodeBits);
    c.bits()->Write(static_cast<uint64_t>(RansPredictor::kTwoMeans), kRansPredictorBits);
    c.bits()->WriteBit(false);
    c.bits()->Write(0, 7);
    c.bits()->Write(split, kRansSplitBits);
    c.bits()->Write(0, 7);
    ExpectDataLoss(c.Finish(), 5, "split");
  }
}

TEST(RansIntCodecTest, ResidualWiderThan64Bits) {
  // The only symbol is the widest one; a shift of 63 would push it past bit 63.
  HandColumn c;
  c.bits()->Write(kRansSymbols - 1, 8);
  c.bits()->Write(1, 8);
  c.bits()->Write(15, kRansWeightCodeBits);
  c.bits()->Write(static_cast<uint64_t>(RansPredictor::kMean), kRansPredictorBits);
  c.bits()->WriteBit(true);
  c.bits()->Write(63, kRansShiftBits);
  c.bits()->Write(0, 7);
  ExpectDataLoss(c.Finish(), 5, "wider than 64 bits");
}

TEST(RansIntCodecTest, RansStateMustEndWhereTheEncoderStarted) {
  // A one-symbol table decodes without touching the state; a state other than the encoder's
  // initial one means the stream is not what was written.
  HandColumn c(kRansStateLow + 1);
  c.bits()->Write(0, 8);
  c.bits()->Write(1, 8);
  c.bits()->Write(15, kRansWeightCodeBits);
  c.bits()->Write(static_cast<uint64_t>(RansPredictor::kMean), kRansPredictorBits);
  c.bits()->WriteBit(false);
  c.bits()->Write(0, 7);
  ExpectDataLoss(c.Finish(), 5, "initial state");
}

TEST(RansIntCodecTest, HandColumnOfOneSymbolDecodes) {
  // The same column with the right state: five values equal to the anchor (0).
  HandColumn c;
  c.bits()->Write(0, 8);
  c.bits()->Write(1, 8);
  c.bits()->Write(15, kRansWeightCodeBits);
  c.bits()->Write(static_cast<uint64_t>(RansPredictor::kMean), kRansPredictorBits);
  c.bits()->WriteBit(false);
  c.bits()->Write(0, 7);
  std::vector<uint64_t> out;
  Status s = DecodeRansIntColumn(c.Finish(), 5, "test", &out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(out, std::vector<uint64_t>(5, 0));
}

}  // namespace
}  // namespace wattline::historian::codec
