#include "historian/codec/float_codec.h"

#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <vector>

namespace wattline::historian::codec {
namespace {

using Encoder = std::function<void(std::span<const uint64_t>, int, std::string*)>;
using Decoder = std::function<Status(std::string_view, size_t, int, std::vector<uint64_t>*)>;

struct WordCodec {
  const char* name;
  Encoder encode;
  Decoder decode;
};

const WordCodec kWordCodecs[] = {
    {"raw", EncodeRawWords, DecodeRawWords},
    {"gorilla", EncodeGorilla, DecodeGorilla},
    {"chimp", EncodeChimp, DecodeChimp},
    {"chimp128", EncodeChimp128, DecodeChimp128},
    {"ordered-int", EncodeOrderedInt, DecodeOrderedInt},
};

uint64_t F32(float f) { return std::bit_cast<uint32_t>(f); }
uint64_t F64(double d) { return std::bit_cast<uint64_t>(d); }

// Words that exercise every branch: specials, both signs, runs, jumps, shared low bits.
std::vector<uint64_t> EdgeWords(int width) {
  std::vector<uint64_t> w;
  if (width == 32) {
    for (float f :
         {0.0f, -0.0f, 1.0f, -1.0f, FLT_MAX, -FLT_MAX, FLT_MIN, FLT_TRUE_MIN, -FLT_TRUE_MIN,
          std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), 230.1f,
          230.1f, 230.1f, -5e30f, 5e-30f, 1e6f, 1e6f + 64.0f}) {
      w.push_back(F32(f));
    }
    w.push_back(0x7FC00000);  // quiet NaN
    w.push_back(0xFFC00001);  // negative NaN with a payload
    w.push_back(0x7F800001);  // signalling NaN pattern
  } else {
    for (double d :
         {0.0, -0.0, 1.0, -1.0, DBL_MAX, -DBL_MAX, DBL_MIN, DBL_TRUE_MIN, -DBL_TRUE_MIN,
          std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(), 230.1,
          230.1, 230.1, -5e300, 5e-300, 9007199254740992.0, 9007199254740993.0 - 1}) {
      w.push_back(F64(d));
    }
    w.push_back(0x7FF8000000000000);
    w.push_back(0xFFF8DEADBEEF0001);  // NaN with a payload
    w.push_back(0x7FF0000000000001);
  }
  for (int i = 0; i < 300; ++i) w.push_back(w[static_cast<size_t>(i) % 21]);  // repeats
  std::mt19937_64 rng(21);
  const uint64_t mask = width == 64 ? ~uint64_t{0} : 0xFFFFFFFF;
  for (int i = 0; i < 300; ++i) w.push_back(rng() & mask);
  return w;
}

TEST(FloatCodecTest, EveryWordCodecRoundTripsEdgeWords) {
  for (int width : {32, 64}) {
    const auto words = EdgeWords(width);
    for (const auto& c : kWordCodecs) {
      for (size_t n : {size_t{0}, size_t{1}, size_t{2}, words.size()}) {
        std::span<const uint64_t> in(words.data(), n);
        std::string col;
        c.encode(in, width, &col);
        std::vector<uint64_t> out;
        Status s = c.decode(col, n, width, &out);
        ASSERT_TRUE(s.ok()) << c.name << " " << width << ": " << s.ToString();
        EXPECT_EQ(out, std::vector<uint64_t>(in.begin(), in.end())) << c.name << " " << width;
      }
    }
  }
}

TEST(FloatCodecTest, EveryWordCodecRefusesTruncationAndTrailingBytes) {
  for (int width : {32, 64}) {
    const auto words = EdgeWords(width);
    for (const auto& c : kWordCodecs) {
      std::string col;
      c.encode(words, width, &col);
      std::vector<uint64_t> out;
      for (size_t len = 0; len < col.size(); ++len) {
        EXPECT_EQ(c.decode(col.substr(0, len), words.size(), width, &out).code(), Code::kDataLoss)
            << c.name << " " << width << " " << len;
      }
      EXPECT_EQ(c.decode(col + '\0', words.size(), width, &out).code(), Code::kDataLoss) << c.name;
    }
  }
}

TEST(FloatCodecTest, GarbageNeverCrashes) {
  std::mt19937_64 rng(23);
  std::vector<uint64_t> out;
  std::vector<double> values;
  for (int round = 0; round < 3000; ++round) {
    std::string junk(rng() % 48, '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    const size_t n = rng() % 300;
    const int width = rng() % 2 ? 32 : 64;
    for (const auto& c : kWordCodecs) (void)c.decode(junk, n, width, &out);
    (void)DecodeAlp(junk, n, width == 32, &values);
  }
}

TEST(FloatCodecTest, XorCodecsStoreRepeatsInAFewBits) {
  std::vector<uint64_t> words(1000, F64(231.5));
  for (const auto& c : kWordCodecs) {
    if (std::string_view(c.name) == "raw") continue;
    std::string col;
    c.encode(words, 64, &col);
    // At most 9 bits a value (Chimp128 names the earlier value it repeats), against 64 raw.
    EXPECT_LT(col.size(), words.size() * 9 / 8 + 16) << c.name;
  }
}

TEST(FloatCodecTest, Chimp128FindsAnEarlierEqualValue) {
  // Two values alternating: Chimp XORs unrelated neighbours, Chimp128 refers two back.
  std::vector<uint64_t> words;
  for (int i = 0; i < 1000; ++i) words.push_back(F64(i % 2 ? 231.123456789 : -0.987654321));
  std::string chimp;
  std::string chimp128;
  EncodeChimp(words, 64, &chimp);
  EncodeChimp128(words, 64, &chimp128);
  EXPECT_LT(chimp128.size() * 4, chimp.size());
}

std::vector<double> AlpRoundTrip(const std::vector<double>& v, bool float32, size_t* bytes) {
  std::string col;
  EncodeAlp(v, float32, &col);
  *bytes = col.size();
  std::vector<double> out;
  Status s = DecodeAlp(col, v.size(), float32, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

void ExpectSameBits(const std::vector<double>& a, const std::vector<double>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(std::bit_cast<uint64_t>(a[i]), std::bit_cast<uint64_t>(b[i])) << i << ": " << b[i];
  }
}

TEST(FloatCodecTest, AlpStoresDecimalsAsSmallIntegers) {
  // Two-decimal readings: ~14 bits of spread a value, far under 64.
  std::mt19937_64 rng(29);
  std::vector<double> v(4096);
  for (auto& x : v) x = static_cast<double>(23000 + static_cast<int>(rng() % 2000)) / 100.0;
  size_t bytes = 0;
  ExpectSameBits(AlpRoundTrip(v, false, &bytes), v);
  EXPECT_LT(bytes, v.size() * 12 / 8);
}

TEST(FloatCodecTest, AlpKeepsExceptionsExactly) {
  std::vector<double> v;
  for (int i = 0; i < 500; ++i) v.push_back(1.5 + i * 0.25);
  v[3] = std::bit_cast<double>(uint64_t{0xFFF8DEADBEEF0001});
  v[4] = -0.0;
  v[100] = std::numeric_limits<double>::infinity();
  v[101] = -std::numeric_limits<double>::infinity();
  v[200] = DBL_TRUE_MIN;
  v[201] = DBL_MAX;
  v[202] = 1.0 / 3.0;
  v[499] = -DBL_MAX;
  size_t bytes = 0;
  ExpectSameBits(AlpRoundTrip(v, false, &bytes), v);

  std::vector<double> f;
  for (float x : {230.12f, 230.13f, -0.0f, FLT_MAX, FLT_TRUE_MIN, 1e-20f, 3.1415927f}) {
    f.push_back(static_cast<double>(x));
  }
  f.push_back(static_cast<double>(std::numeric_limits<float>::quiet_NaN()));
  f.push_back(static_cast<double>(std::numeric_limits<float>::infinity()));
  ExpectSameBits(AlpRoundTrip(f, true, &bytes), f);
}

TEST(FloatCodecTest, AlpRefusesOutOfOrderExceptions) {
  std::vector<double> v = {1.0, -0.0, 2.0, -0.0};
  std::string col;
  EncodeAlp(v, false, &col);
  // col: exponent 0, count 2, gaps 1 and 2. A zero second gap repeats a position.
  ASSERT_EQ(col[1], 2);
  ASSERT_EQ(col[3], 2);
  col[3] = 0;
  std::vector<double> out;
  EXPECT_EQ(DecodeAlp(col, v.size(), false, &out).code(), Code::kDataLoss);
}

TEST(FloatCodecTest, OrderedIntBeatsXorOnNoisyFloat32) {
  // float32 readings with noise in the low mantissa bits, like a meter's voltage.
  std::mt19937_64 rng(31);
  std::normal_distribution<double> noise(0, 0.15);
  std::vector<uint64_t> words(3600);
  for (size_t i = 0; i < words.size(); ++i) {
    words[i] =
        F32(static_cast<float>(230.0 + 2 * std::sin(static_cast<double>(i) / 5000) + noise(rng)));
  }
  std::string ordered;
  std::string gorilla;
  EncodeOrderedInt(words, 32, &ordered);
  EncodeGorilla(words, 32, &gorilla);
  EXPECT_LT(ordered.size(), gorilla.size());
}

}  // namespace
}  // namespace wattline::historian::codec
