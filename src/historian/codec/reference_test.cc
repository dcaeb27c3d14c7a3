#include "historian/codec/reference.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

namespace wattline::historian::codec {
namespace {

double F32(double v) { return static_cast<double>(static_cast<float>(v)); }

// n float32 samples of a noisy level.
std::vector<double> Noise(size_t n, double level, double sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> d(0, sigma);
  std::vector<double> out(n);
  for (double& v : out) v = F32(level + d(rng));
  return out;
}

void ExpectRoundTrip(std::span<const double> x, std::span<const double> coeffs,
                     ReferenceColumns refs) {
  std::vector<double> v = ReferenceResiduals(x, coeffs, refs);
  ASSERT_TRUE(ApplyReferenceResiduals(coeffs, refs, v).ok());
  ASSERT_EQ(v.size(), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(std::bit_cast<uint64_t>(v[i]), std::bit_cast<uint64_t>(x[i])) << i << ": " << x[i];
  }
}

TEST(ReferenceTest, ASumOfTwoSignalsIsFoundAndLeavesResidualsOfAFloat32Step) {
  const size_t n = 3600;
  auto a = Noise(n, 230, 0.15, 1);
  auto b = Noise(n, 231, 0.15, 2);
  auto c = Noise(n, 50, 0.01, 3);
  std::vector<double> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = F32((a[i] + b[i]) * 0.8660254);
  std::vector<std::span<const double>> cands = {c, a, b};
  auto pick = ChooseReferences(x, cands);
  ASSERT_EQ(pick.size(), 2u);
  EXPECT_EQ(std::min(pick[0], pick[1]), 1u);
  EXPECT_EQ(std::max(pick[0], pick[1]), 2u);
  std::vector<std::span<const double>> refs = {a, b};
  auto coeffs = FitReferences(x, refs);
  ASSERT_TRUE(coeffs);
  EXPECT_NEAR((*coeffs)[1], 0.8660254, 1e-4);
  EXPECT_NEAR((*coeffs)[2], 0.8660254, 1e-4);
  auto res = ReferenceResiduals(x, *coeffs, refs);
  for (double r : res) EXPECT_LE(std::fabs(r), 2.0);
  ExpectRoundTrip(x, *coeffs, refs);
}

TEST(ReferenceTest, IndependentNoiseGetsNoReference) {
  auto x = Noise(3600, 10, 1, 4);
  auto a = Noise(3600, 10, 1, 5);
  auto b = Noise(3600, 20, 3, 6);
  std::vector<std::span<const double>> cands = {a, b};
  EXPECT_TRUE(ChooseReferences(x, cands).empty());
  // A constant signal needs none, and a constant candidate is never taken.
  std::vector<double> flat(3600, 7.0);
  EXPECT_TRUE(ChooseReferences(flat, cands).empty());
  std::vector<std::span<const double>> only_flat = {flat};
  EXPECT_TRUE(ChooseReferences(x, only_flat).empty());
  EXPECT_FALSE(FitReferences(x, only_flat));
}

TEST(ReferenceTest, EdgeValuesRoundTripBitForBit) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double fmax = std::numeric_limits<float>::max();
  const double tiny = std::numeric_limits<float>::denorm_min();
  std::vector<double> x = {0.0,   -0.0, inf,   -inf,      nan,         fmax,
                           -fmax, tiny, -tiny, F32(1e30), F32(-1e-30), 5};
  std::vector<double> r = {1.0, nan, 2.0, inf, 3.0, 1e300, -1e300, 0.0, -0.0, 4.0, 5.0, 6.0};
  std::vector<std::span<const double>> refs = {r};
  for (std::vector<double> coeffs : {std::vector<double>{0.0, 1.0}, std::vector<double>{1e38, 1e38},
                                     std::vector<double>{-3.5, -1e-300}}) {
    ExpectRoundTrip(x, coeffs, refs);
  }
}

TEST(ReferenceTest, ResidualsOutsideTheFloat32PatternsAreDataLoss) {
  std::vector<double> r = {1.0, 2.0};
  std::vector<std::span<const double>> refs = {r};
  std::vector<double> coeffs = {0.0, 1.0};
  for (double bad : {0.5, 4294967296.0, -4294967296.0, std::nan(""), 4294967295.0}) {
    std::vector<double> v = {0.0, bad};
    Status s = ApplyReferenceResiduals(coeffs, refs, v);
    EXPECT_EQ(s.code(), Code::kDataLoss) << bad;
  }
}

}  // namespace
}  // namespace wattline::historian::codec
