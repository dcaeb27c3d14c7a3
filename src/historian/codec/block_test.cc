#include "historian/codec/block.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "wire/coding.h"
#include "wire/crc32c.h"

namespace wattline::historian::codec {
namespace {

constexpr int64_t kMinTs = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxTs = std::numeric_limits<int64_t>::max();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double k53 = 9007199254740992.0;

struct Case {
  ValueKind kind;
  ValueCodec codec;
};

std::string Name(const Case& c) {
  std::string s = std::string(ValueKindName(c.kind)) + "_" + std::string(ValueCodecName(c.codec));
  for (auto& ch : s) {
    if (ch == '-') ch = '_';
  }
  return s;
}

void PrintTo(const Case& c, std::ostream* os) { *os << Name(c); }

// Every (kind, codec) pair that EncodeBlock accepts.
std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (ValueKind kind : {ValueKind::kFloat64, ValueKind::kFloat32, ValueKind::kInteger}) {
    for (uint8_t c = 0; c <= kMaxValueCodec; ++c) {
      const auto codec = static_cast<ValueCodec>(c);
      if (codec == ValueCodec::kIntDelta && kind != ValueKind::kInteger) continue;
      cases.push_back({kind, codec});
    }
  }
  return cases;
}

std::vector<int64_t> Regular(size_t n, int64_t start = 1735689600000, int64_t step = 1000) {
  std::vector<int64_t> ts(n);
  for (size_t i = 0; i < n; ++i) ts[i] = start + static_cast<int64_t>(i) * step;
  return ts;
}

double F32(float f) { return static_cast<double>(f); }

// Edge values for a kind, each an allowed value of that kind.
std::vector<double> EdgeValues(ValueKind kind) {
  std::vector<double> v;
  switch (kind) {
    case ValueKind::kFloat64:
      v = {0.0,
           -0.0,
           std::bit_cast<double>(uint64_t{0x7FF8000000000000}),
           std::bit_cast<double>(uint64_t{0xFFF4DEADBEEF1234}),  // NaN with a payload
           kInf,
           -kInf,
           DBL_TRUE_MIN,
           -DBL_TRUE_MIN,
           DBL_MIN / 3,
           DBL_MAX,
           -DBL_MAX,
           DBL_MIN,
           1e300,
           -1e-300,
           230.1,
           230.1,
           230.1,
           0.1,
           -7.25};
      break;
    case ValueKind::kFloat32:
      v = {0.0,
           -0.0,
           F32(std::numeric_limits<float>::quiet_NaN()),
           F32(std::bit_cast<float>(uint32_t{0xFFC0BEEF})),  // NaN with a payload
           kInf,
           -kInf,
           F32(FLT_TRUE_MIN),
           -F32(FLT_TRUE_MIN),
           F32(FLT_MIN / 3),
           F32(FLT_MAX),
           -F32(FLT_MAX),
           F32(FLT_MIN),
           F32(1e30f),
           F32(-1e-30f),
           F32(230.1f),
           F32(230.1f),
           F32(230.1f),
           F32(0.1f),
           -7.25};
      break;
    case ValueKind::kInteger:
      v = {0,    1,   -1, 4294967290, 4294967295, 0,    5,     k53,   -k53, k53 - 1,
           -k53, k53, 42, 42,         42,         1e15, -1e15, 65535, 0};
      break;
  }
  return v;
}

void ExpectRoundTrip(const Case& c, const std::vector<int64_t>& ts, const std::vector<double>& v) {
  BlockStats stats;
  auto bytes = EncodeBlock(ts, v, c.kind, c.codec, &stats);
  ASSERT_TRUE(bytes) << bytes.error().ToString();
  EXPECT_EQ(stats.codec, c.codec);
  EXPECT_EQ(stats.total_bytes, bytes->size());
  auto block = DecodeBlock(*bytes);
  ASSERT_TRUE(block) << block.error().ToString();
  EXPECT_EQ(block->kind, c.kind);
  EXPECT_EQ(block->codec, c.codec);
  EXPECT_EQ(block->ts_ms, ts);
  ASSERT_EQ(block->values.size(), v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    ASSERT_EQ(std::bit_cast<uint64_t>(block->values[i]), std::bit_cast<uint64_t>(v[i]))
        << "index " << i << ": " << v[i] << " came back as " << block->values[i];
  }
}

class BlockRoundTripTest : public testing::TestWithParam<Case> {};

TEST_P(BlockRoundTripTest, EmptyBlock) { ExpectRoundTrip(GetParam(), {}, {}); }

TEST_P(BlockRoundTripTest, OneSample) {
  for (double v : EdgeValues(GetParam().kind)) ExpectRoundTrip(GetParam(), {1735689600000}, {v});
}

TEST_P(BlockRoundTripTest, EdgeValues) {
  const auto v = EdgeValues(GetParam().kind);
  ExpectRoundTrip(GetParam(), Regular(v.size()), v);
  // Each edge value next to each other one: every transition between them.
  std::vector<double> pairs;
  for (double a : v) {
    for (double b : v) {
      pairs.push_back(a);
      pairs.push_back(b);
    }
  }
  ExpectRoundTrip(GetParam(), Regular(pairs.size()), pairs);
}

TEST_P(BlockRoundTripTest, MaxSamplesOfMeterLikeData) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0, 0.15);
  std::vector<double> v(kMaxBlockSamples);
  double counter = 4294960000;
  for (size_t i = 0; i < v.size(); ++i) {
    if (GetParam().kind == ValueKind::kInteger) {
      counter += static_cast<double>(rng() % 20);
      if (counter > 4294967295) counter -= 4294967296;  // uint32 rollover
      v[i] = counter;
    } else {
      const double x = 230.0 + 2 * std::sin(static_cast<double>(i) / 9000) + noise(rng);
      v[i] = GetParam().kind == ValueKind::kFloat32 ? F32(static_cast<float>(x)) : x;
    }
  }
  ExpectRoundTrip(GetParam(), Regular(v.size()), v);
}

TEST_P(BlockRoundTripTest, HugeJumpsAndConstantRuns) {
  std::vector<double> v;
  const auto edges = EdgeValues(GetParam().kind);
  const double big = GetParam().kind == ValueKind::kFloat32 ? F32(FLT_MAX) : DBL_MAX;
  const double hi = GetParam().kind == ValueKind::kInteger ? k53 : big;
  const double lo = GetParam().kind == ValueKind::kInteger ? -k53 : -big;
  for (int i = 0; i < 1000; ++i) v.push_back(i % 2 ? hi : lo);
  for (int i = 0; i < 1000; ++i) v.push_back(edges[5]);
  for (int i = 0; i < 1000; ++i) v.push_back(i % 100 == 0 ? hi : 0.0);
  ExpectRoundTrip(GetParam(), Regular(v.size()), v);
}

TEST_P(BlockRoundTripTest, IrregularDuplicateAndDecreasingTimestamps) {
  const std::vector<std::vector<int64_t>> series = {
      {1000, 1000, 1000, 999, 2000, 1500, 1500, 10000000, -5},
      {kMinTs, kMaxTs, kMinTs, kMaxTs, 0, kMaxTs - 1, kMinTs + 1, -1, 1},
      Regular(500, kMaxTs - 499, 1),
      Regular(500, kMinTs + 499000, -1000),
  };
  for (const auto& ts : series) {
    const auto edges = EdgeValues(GetParam().kind);
    std::vector<double> v(ts.size());
    for (size_t i = 0; i < v.size(); ++i) v[i] = edges[i % edges.size()];
    ExpectRoundTrip(GetParam(), ts, v);
  }
}

TEST_P(BlockRoundTripTest, RandomValidValues) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20; ++round) {
    const size_t n = rng() % 2000;
    std::vector<double> v(n);
    std::vector<int64_t> ts(n);
    int64_t t = static_cast<int64_t>(rng());
    for (size_t i = 0; i < n; ++i) {
      t = static_cast<int64_t>(static_cast<uint64_t>(t) + rng() % 3000);
      ts[i] = t;
      switch (GetParam().kind) {
        case ValueKind::kFloat64:
          v[i] = std::bit_cast<double>(rng() >> (rng() % 3));
          break;
        case ValueKind::kFloat32: {
          const float f = std::bit_cast<float>(static_cast<uint32_t>(rng()));
          // Signalling NaNs do not survive float -> double; the kind only takes real float32s.
          v[i] = std::isnan(f) ? F32(std::numeric_limits<float>::quiet_NaN()) : F32(f);
          break;
        }
        case ValueKind::kInteger:
          v[i] = static_cast<double>(static_cast<int64_t>(rng() % (uint64_t{1} << 54)) -
                                     (int64_t{1} << 53));
          break;
      }
    }
    ExpectRoundTrip(GetParam(), ts, v);
  }
}

TEST_P(BlockRoundTripTest, EveryTruncationIsRefused) {
  const auto v = EdgeValues(GetParam().kind);
  auto bytes = EncodeBlock(Regular(v.size()), v, GetParam().kind, GetParam().codec);
  ASSERT_TRUE(bytes);
  for (size_t len = 0; len < bytes->size(); ++len) {
    auto block = DecodeBlock(std::string_view(*bytes).substr(0, len));
    ASSERT_FALSE(block) << "length " << len;
    EXPECT_EQ(block.error().code(), Code::kDataLoss);
  }
}

TEST_P(BlockRoundTripTest, EveryBitFlipIsRefused) {
  const auto v = EdgeValues(GetParam().kind);
  auto bytes = EncodeBlock(Regular(v.size()), v, GetParam().kind, GetParam().codec);
  ASSERT_TRUE(bytes);
  for (size_t bit = 0; bit < bytes->size() * 8; ++bit) {
    std::string damaged = *bytes;
    damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
    auto block = DecodeBlock(damaged);
    ASSERT_FALSE(block) << "bit " << bit;
    EXPECT_EQ(block.error().code(), Code::kDataLoss);
  }
}

// Damage behind a valid checksum (as a buggy writer would leave it) reaches the column decoders:
// they must refuse or decode, never crash, and whatever they accept must fit the kind.
TEST_P(BlockRoundTripTest, ColumnDamageBehindAValidChecksumNeverCrashes) {
  const auto v = EdgeValues(GetParam().kind);
  auto bytes = EncodeBlock(Regular(v.size()), v, GetParam().kind, GetParam().codec);
  ASSERT_TRUE(bytes);
  std::mt19937_64 rng(3);
  const std::string body = bytes->substr(0, bytes->size() - kBlockChecksumBytes);
  for (int round = 0; round < 3000; ++round) {
    std::string damaged = body;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      const size_t pos = 3 + rng() % (damaged.size() - 3);
      damaged[pos] = static_cast<char>(damaged[pos] ^ static_cast<char>(1 << (rng() % 8)));
    }
    if (rng() % 4 == 0) damaged.resize(3 + rng() % (damaged.size() - 3));
    wire::PutFixed32(&damaged, wire::Crc32c(damaged));
    auto block = DecodeBlock(damaged);
    if (block) {
      EXPECT_EQ(block->ts_ms.size(), block->values.size());
      auto again = EncodeBlock(block->ts_ms, block->values, block->kind, block->codec);
      EXPECT_TRUE(again) << again.error().ToString();
    } else {
      EXPECT_EQ(block.error().code(), Code::kDataLoss);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllKindsAndCodecs, BlockRoundTripTest, testing::ValuesIn(AllCases()),
                         [](const testing::TestParamInfo<Case>& info) { return Name(info.param); });

// ---- The automatic choice ----

TEST(BlockTest, AutomaticChoiceIsTheSmallestCandidate) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0, 0.15);
  std::vector<double> v(3600);
  for (auto& x : v) x = F32(static_cast<float>(230.0 + noise(rng)));
  const auto ts = Regular(v.size());
  BlockStats stats;
  auto best = EncodeBlock(ts, v, ValueKind::kFloat32, std::nullopt, &stats);
  ASSERT_TRUE(best);
  for (ValueCodec c : CandidateCodecs(ValueKind::kFloat32)) {
    auto forced = EncodeBlock(ts, v, ValueKind::kFloat32, c);
    ASSERT_TRUE(forced);
    EXPECT_LE(best->size(), forced->size()) << ValueCodecName(c);
  }
  auto decoded = DecodeBlock(*best);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->codec, stats.codec);
  EXPECT_EQ(decoded->values, v);
}

TEST(BlockTest, OrderedRansRoundTripsEveryLengthUpTo600) {
  // Meter-like float32 noise with the edge values mixed in, for every length: frames that end
  // anywhere, tables of one symbol or many.
  std::mt19937_64 rng(12);
  std::normal_distribution<double> noise(0, 0.15);
  const std::vector<double> edges = EdgeValues(ValueKind::kFloat32);
  for (size_t n = 0; n <= 600; ++n) {
    std::vector<double> v(n);
    for (size_t i = 0; i < n; ++i) {
      v[i] = i % 37 == 5 ? edges[(i / 37) % edges.size()]
                         : F32(static_cast<float>(230.0 + noise(rng)));
    }
    ExpectRoundTrip({ValueKind::kFloat32, ValueCodec::kOrderedRans}, Regular(n), v);
    if (HasFatalFailure()) return;
  }
}

TEST(BlockTest, OrderedRansIsSmallerThanOrderedIntOnMeterNoise) {
  std::mt19937_64 rng(13);
  std::normal_distribution<double> noise(0, 0.15);
  std::vector<double> v(3600);
  for (auto& x : v) x = F32(static_cast<float>(230.0 + noise(rng)));
  auto rans = EncodeBlock(Regular(v.size()), v, ValueKind::kFloat32, ValueCodec::kOrderedRans);
  auto rice = EncodeBlock(Regular(v.size()), v, ValueKind::kFloat32, ValueCodec::kOrderedInt);
  ASSERT_TRUE(rans);
  ASSERT_TRUE(rice);
  EXPECT_LT(rans->size(), rice->size());
}

TEST(BlockTest, Float32KindIsMuchSmallerThanFloat64ForTheSameValues) {
  std::mt19937_64 rng(6);
  std::normal_distribution<double> noise(0, 0.15);
  std::vector<double> v(3600);
  for (auto& x : v) x = F32(static_cast<float>(230.0 + noise(rng)));
  const auto ts = Regular(v.size());
  auto as32 = EncodeBlock(ts, v, ValueKind::kFloat32);
  auto as64 = EncodeBlock(ts, v, ValueKind::kFloat64);
  ASSERT_TRUE(as32 && as64);
  EXPECT_LT(as32->size(), as64->size());
  // Gaussian noise of 0.15 V at a float32 step of 2^-16 V: ~15.3 bits of entropy a sample.
  EXPECT_LT(static_cast<double>(as32->size()) * 8 / static_cast<double>(v.size()), 16.0);
}

TEST(BlockTest, RegularTimestampsCostAlmostNothing) {
  BlockStats stats;
  const std::vector<double> v(3600, 42.0);
  auto bytes = EncodeBlock(Regular(v.size()), v, ValueKind::kFloat64, std::nullopt, &stats);
  ASSERT_TRUE(bytes);
  EXPECT_LT(stats.ts_bytes, 16u);
  EXPECT_LT(bytes->size(), 64u);
}

TEST(BlockTest, CodecNamesParse) {
  for (uint8_t c = 0; c <= kMaxValueCodec; ++c) {
    const auto codec = static_cast<ValueCodec>(c);
    EXPECT_EQ(ParseValueCodec(ValueCodecName(codec)), codec);
  }
  EXPECT_FALSE(ParseValueCodec("zstd"));
}

// ---- Encoder refusals ----

TEST(BlockTest, RefusesMismatchedLengths) {
  auto r = EncodeBlock(Regular(3), std::vector<double>{1, 2}, ValueKind::kFloat64);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

TEST(BlockTest, RefusesTooManySamples) {
  const std::vector<double> v(kMaxBlockSamples + 1, 1.0);
  auto r = EncodeBlock(Regular(v.size()), v, ValueKind::kFloat64);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

TEST(BlockTest, RefusesValuesThatAreNotFloat32) {
  for (double bad :
       {0.1, 1e300, DBL_TRUE_MIN, std::bit_cast<double>(uint64_t{0x7FF8000000000001})}) {
    auto r = EncodeBlock(Regular(2), std::vector<double>{1.0, bad}, ValueKind::kFloat32);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_NE(r.error().message().find("index 1"), std::string::npos) << r.error().message();
  }
}

TEST(BlockTest, RefusesValuesThatAreNotIntegers) {
  for (double bad : {0.5, -0.0, k53 + 2, -k53 - 2, kInf, std::nan("")}) {
    auto r = EncodeBlock(Regular(1), std::vector<double>{bad}, ValueKind::kInteger);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  }
}

TEST(BlockTest, RefusesIntDeltaForFloatKinds) {
  auto r =
      EncodeBlock(Regular(1), std::vector<double>{1.0}, ValueKind::kFloat64, ValueCodec::kIntDelta);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

// ---- Decoder refusals, one test per way a block can be bad ----

std::string ValidBlock() {
  auto r = EncodeBlock(Regular(100), std::vector<double>(100, 5.0), ValueKind::kInteger,
                       ValueCodec::kIntDelta);
  EXPECT_TRUE(r);
  return *r;
}

// Replaces the checksum after editing the body.
std::string Reseal(std::string block) {
  block.resize(block.size() - kBlockChecksumBytes);
  wire::PutFixed32(&block, wire::Crc32c(block));
  return block;
}

void ExpectRefused(const std::string& bytes, std::string_view message) {
  auto r = DecodeBlock(bytes);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kDataLoss);
  EXPECT_NE(r.error().message().find(message), std::string::npos) << r.error().message();
}

TEST(BlockTest, EmptyInput) { ExpectRefused("", "empty"); }

TEST(BlockTest, UnknownVersion) {
  std::string b = ValidBlock();
  b[0] = 9;
  ExpectRefused(Reseal(b), "unknown version 9");
}

TEST(BlockTest, ChecksumMismatch) {
  std::string b = ValidBlock();
  b[b.size() - 6] ^= 0x10;
  ExpectRefused(b, "checksum mismatch");
}

TEST(BlockTest, UnknownKind) {
  std::string b = ValidBlock();
  b[1] = 3;
  ExpectRefused(Reseal(b), "unknown value kind 3");
}

TEST(BlockTest, UnknownCodec) {
  std::string b = ValidBlock();
  b[2] = static_cast<char>(kMaxValueCodec + 1);
  ExpectRefused(Reseal(b), fmt::format("unknown value codec {}", kMaxValueCodec + 1));
}

TEST(BlockTest, IntDeltaOnAFloatKind) {
  std::string b = ValidBlock();
  b[1] = static_cast<char>(ValueKind::kFloat64);
  ExpectRefused(Reseal(b), "int-delta");
}

TEST(BlockTest, SampleCountOverTheLimit) {
  std::string b;
  b.push_back(static_cast<char>(kBlockVersion));
  b.push_back(static_cast<char>(ValueKind::kFloat64));
  b.push_back(static_cast<char>(ValueCodec::kRaw));
  wire::PutVarint64(&b, kMaxBlockSamples + 1);
  b.append("\0\0", 2);
  wire::PutFixed32(&b, wire::Crc32c(b));
  ExpectRefused(b, "more than the limit");
}

TEST(BlockTest, TrailingBytesAfterTheChecksum) {
  ExpectRefused(ValidBlock() + std::string(4, '\0'), "checksum mismatch");
}

TEST(BlockTest, TrailingBytesBeforeTheChecksum) {
  std::string b = ValidBlock();
  b.insert(b.size() - kBlockChecksumBytes, 1, '\0');
  ExpectRefused(Reseal(b), "trailing bytes");
}

TEST(BlockTest, ColumnLengthPastTheEnd) {
  std::string b = ValidBlock();
  // version, kind, codec, count (1 byte for 100), then the timestamp column's length.
  b[4] = 0x7F;
  ExpectRefused(Reseal(b), "truncated timestamp column");
}

TEST(BlockTest, ValuesThatDoNotFitTheKind) {
  // A valid float64 block relabelled as integers: 0.5 is no integer.
  auto r =
      EncodeBlock(Regular(2), std::vector<double>{1.0, 0.5}, ValueKind::kFloat64, ValueCodec::kRaw);
  ASSERT_TRUE(r);
  std::string b = *r;
  b[1] = static_cast<char>(ValueKind::kInteger);
  ExpectRefused(Reseal(b), "does not fit the kind");
}

}  // namespace
}  // namespace wattline::historian::codec
