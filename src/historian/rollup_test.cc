#include "historian/rollup.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace wattline::historian {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kS = 1000;

Aggregate Gauge(int64_t start, int64_t end, const std::vector<Sample>& samples,
                std::optional<Sample> before = std::nullopt,
                std::optional<Sample> after = std::nullopt, int64_t max_hold_ms = 0) {
  RollupOptions o;
  o.max_hold_ms = max_hold_ms;
  return Compute(start, end, samples, before, after, o);
}

Aggregate Counter(const std::vector<Sample>& samples, std::optional<Sample> before,
                  double wrap = 0) {
  RollupOptions o;
  o.counter = true;
  o.counter_wrap = wrap;
  return Compute(0, 1000 * kS, samples, before, std::nullopt, o);
}

TEST(RollupTest, EmptyIntervalHasNoValues) {
  Aggregate a = Gauge(0, 60 * kS, {});
  EXPECT_EQ(a.count, 0);
  EXPECT_TRUE(std::isnan(a.min));
  EXPECT_TRUE(std::isnan(a.max));
  EXPECT_TRUE(std::isnan(a.first));
  EXPECT_TRUE(std::isnan(a.last));
  EXPECT_TRUE(std::isnan(a.mean));
  EXPECT_EQ(a.weighted_ms, 0);
  EXPECT_FALSE(a.consumption.has_value());
  Aggregate c = Counter({}, std::nullopt);
  ASSERT_TRUE(c.consumption.has_value());
  EXPECT_EQ(*c.consumption, 0.0);
  // A backwards interval is empty too, whatever the samples.
  Aggregate back = Gauge(60 * kS, 0, {{10 * kS, 1.0}});
  EXPECT_EQ(back.count, 0);
  EXPECT_EQ(back.weighted_ms, 0);
}

TEST(RollupTest, OneSampleHoldsUntilEnd) {
  Aggregate a = Gauge(0, 60 * kS, {{15 * kS, 5.0}});
  EXPECT_EQ(a.count, 1);
  EXPECT_EQ(a.min, 5.0);
  EXPECT_EQ(a.max, 5.0);
  EXPECT_EQ(a.first, 5.0);
  EXPECT_EQ(a.last, 5.0);
  EXPECT_EQ(a.first_ts_ms, 15 * kS);
  EXPECT_EQ(a.last_ts_ms, 15 * kS);
  EXPECT_EQ(a.weighted_ms, 45 * kS);
  EXPECT_EQ(a.mean, 5.0);
}

TEST(RollupTest, MeanIsTimeWeighted) {
  // 0 for 1 s, then 10 for 9 s: the arithmetic mean would be 5.
  Aggregate a = Gauge(0, 10 * kS, {{0, 0.0}, {1 * kS, 10.0}});
  EXPECT_DOUBLE_EQ(a.mean, 9.0);
  EXPECT_EQ(a.weighted_ms, 10 * kS);
  EXPECT_EQ(a.min, 0.0);
  EXPECT_EQ(a.max, 10.0);
  EXPECT_EQ(a.max_ts_ms, 1 * kS);
}

TEST(RollupTest, MinMaxTiesKeepEarliestSample) {
  Aggregate a = Gauge(0, 10 * kS, {{1 * kS, 3.0}, {2 * kS, 1.0}, {3 * kS, 3.0}, {4 * kS, 1.0}});
  EXPECT_EQ(a.min_ts_ms, 2 * kS);
  EXPECT_EQ(a.max_ts_ms, 1 * kS);
}

TEST(RollupTest, BeforeHoldsIntoIntervalButIsNotCounted) {
  Aggregate a = Gauge(100 * kS, 120 * kS, {{110 * kS, 4.0}}, Sample{95 * kS, 2.0});
  EXPECT_EQ(a.count, 1);
  EXPECT_EQ(a.min, 4.0);
  EXPECT_EQ(a.first, 4.0);
  EXPECT_EQ(a.weighted_ms, 20 * kS);
  EXPECT_DOUBLE_EQ(a.mean, 3.0);
  // Only `before`: it holds over the whole interval.
  Aggregate only = Gauge(100 * kS, 120 * kS, {}, Sample{95 * kS, 2.0});
  EXPECT_EQ(only.count, 0);
  EXPECT_EQ(only.weighted_ms, 20 * kS);
  EXPECT_EQ(only.mean, 2.0);
  // A `before` that is not before the interval, or NaN, is ignored.
  EXPECT_EQ(Gauge(100 * kS, 120 * kS, {}, Sample{100 * kS, 2.0}).weighted_ms, 0);
  EXPECT_EQ(Gauge(100 * kS, 120 * kS, {}, Sample{95 * kS, kNaN}).weighted_ms, 0);
}

TEST(RollupTest, AfterDoesNotChangeSampleAndHold) {
  std::vector<Sample> s = {{10 * kS, 1.0}, {30 * kS, 7.0}};
  Aggregate without = Gauge(0, 60 * kS, s, Sample{-5 * kS, 3.0});
  Aggregate with = Gauge(0, 60 * kS, s, Sample{-5 * kS, 3.0}, Sample{90 * kS, 100.0});
  EXPECT_EQ(with.mean, without.mean);
  EXPECT_EQ(with.weighted_ms, without.weighted_ms);
  EXPECT_EQ(with.max, 7.0);
  EXPECT_DOUBLE_EQ(with.mean, (3.0 * 10 + 1.0 * 20 + 7.0 * 30) / 60);
}

TEST(RollupTest, GapsBeyondMaxHoldAreNotWeighted) {
  // 10 at 0 s and 20 at 100 s, each holding at most 30 s: 60 s of the 200 s are covered.
  Aggregate a =
      Gauge(0, 200 * kS, {{0, 10.0}, {100 * kS, 20.0}}, std::nullopt, std::nullopt, 30 * kS);
  EXPECT_EQ(a.weighted_ms, 60 * kS);
  EXPECT_DOUBLE_EQ(a.mean, 15.0);
  EXPECT_EQ(a.count, 2);
  // `before` ran out 3 s into the interval.
  Aggregate b = Gauge(0, 200 * kS, {}, Sample{-27 * kS, 9.0}, std::nullopt, 30 * kS);
  EXPECT_EQ(b.weighted_ms, 3 * kS);
  EXPECT_EQ(b.mean, 9.0);
  // Held entirely before the interval: nothing left, mean NaN.
  Aggregate c = Gauge(0, 200 * kS, {}, Sample{-31 * kS, 9.0}, std::nullopt, 30 * kS);
  EXPECT_EQ(c.weighted_ms, 0);
  EXPECT_TRUE(std::isnan(c.mean));
}

TEST(RollupTest, NaNSamplesAreSkipped) {
  double inf = std::numeric_limits<double>::infinity();
  Aggregate a = Gauge(0, 40 * kS,
                      {{0, kNaN},
                       {10 * kS, 2.0},
                       {20 * kS, kNaN},
                       {25 * kS, inf},
                       {30 * kS, 4.0},
                       {35 * kS, kNaN}});
  EXPECT_EQ(a.count, 2);
  EXPECT_EQ(a.min, 2.0);
  EXPECT_EQ(a.max, 4.0);
  EXPECT_EQ(a.first, 2.0);
  EXPECT_EQ(a.first_ts_ms, 10 * kS);
  EXPECT_EQ(a.last, 4.0);
  EXPECT_EQ(a.last_ts_ms, 30 * kS);
  // 2 holds through the NaN from 10 s to 30 s, 4 from 30 s to 40 s; nothing before 10 s.
  EXPECT_EQ(a.weighted_ms, 30 * kS);
  EXPECT_DOUBLE_EQ(a.mean, (2.0 * 20 + 4.0 * 10) / 30);
  Aggregate all_nan = Gauge(0, 40 * kS, {{0, kNaN}, {10 * kS, kNaN}});
  EXPECT_EQ(all_nan.count, 0);
  EXPECT_TRUE(std::isnan(all_nan.mean));
}

TEST(RollupTest, SamplesOutsideIntervalAreIgnored) {
  Aggregate a = Gauge(10 * kS, 20 * kS, {{5 * kS, 100.0}, {12 * kS, 1.0}, {20 * kS, -100.0}});
  EXPECT_EQ(a.count, 1);
  EXPECT_EQ(a.min, 1.0);
  EXPECT_EQ(a.max, 1.0);
  EXPECT_EQ(a.weighted_ms, 8 * kS);
}

TEST(RollupTest, CounterConsumptionSumsDeltas) {
  Aggregate a = Counter({{10 * kS, 105.0}, {20 * kS, 107.5}, {30 * kS, 110.0}}, Sample{-1, 100.0});
  ASSERT_TRUE(a.consumption.has_value());
  EXPECT_DOUBLE_EQ(*a.consumption, 10.0);
  // Without `before` the first reading is only a base.
  Aggregate b = Counter({{10 * kS, 105.0}, {20 * kS, 107.5}, {30 * kS, 110.0}}, std::nullopt);
  EXPECT_DOUBLE_EQ(*b.consumption, 5.0);
  EXPECT_EQ(*Counter({{10 * kS, 105.0}}, std::nullopt).consumption, 0.0);
  EXPECT_EQ(*Counter({{10 * kS, 105.0}}, Sample{-1, 101.0}).consumption, 4.0);
  EXPECT_EQ(*Counter({}, Sample{-1, 101.0}).consumption, 0.0);
}

TEST(RollupTest, CounterResetCountsReadingFromZero) {
  // 500 -> 520 (+20), meter restarts, reads 3 (+3), then 10 (+7).
  Aggregate a = Counter({{1 * kS, 520.0}, {2 * kS, 3.0}, {3 * kS, 10.0}}, Sample{-1, 500.0});
  EXPECT_DOUBLE_EQ(*a.consumption, 30.0);
  // A drop with a known wrap but far from the top of the range is a reset, not a rollover.
  Aggregate b = Counter({{1 * kS, 2'000'000'000.0}, {2 * kS, 5.0}}, std::nullopt, 4294967296.0);
  EXPECT_DOUBLE_EQ(*b.consumption, 5.0);
}

TEST(RollupTest, CounterUint32Rollover) {
  double wrap = 4294967296.0;
  // 4294967290 -> 4294967295 (+5) -> wraps to 4 (+1 to 0, +4) -> 10 (+6).
  Aggregate a = Counter({{1 * kS, 4294967295.0}, {2 * kS, 4.0}, {3 * kS, 10.0}},
                        Sample{-1, 4294967290.0}, wrap);
  EXPECT_DOUBLE_EQ(*a.consumption, 5.0 + 5.0 + 6.0);
  // The same drop without a known wrap is a reset: 4 counted, not 5.
  Aggregate b = Counter({{1 * kS, 4294967295.0}, {2 * kS, 4.0}}, std::nullopt);
  EXPECT_DOUBLE_EQ(*b.consumption, 4.0);
  // NaN readings are skipped: the delta spans them.
  Aggregate c =
      Counter({{1 * kS, 4294967295.0}, {2 * kS, kNaN}, {3 * kS, 4.0}}, std::nullopt, wrap);
  EXPECT_DOUBLE_EQ(*c.consumption, 5.0);
}

TEST(RollupTest, CombineMinMaxFromMeansOrSamples) {
  // Two hours: a 1 s spike to 100 inside a low first hour, a steady second hour.
  std::vector<Sample> h1 = {{0, 1.0}, {1800 * kS, 100.0}, {1801 * kS, 1.0}};
  std::vector<Sample> h2 = {{3600 * kS, 50.0}};
  Aggregate parts[2] = {Gauge(0, 3600 * kS, h1), Gauge(3600 * kS, 7200 * kS, h2, h1.back())};
  Aggregate s = Combine(0, 7200 * kS, parts, MinMaxFrom::kSamples);
  EXPECT_EQ(s.max, 100.0);
  EXPECT_EQ(s.max_ts_ms, 1800 * kS);
  EXPECT_EQ(s.min, 1.0);
  Aggregate m = Combine(0, 7200 * kS, parts, MinMaxFrom::kMeans);
  EXPECT_EQ(m.max, 50.0);
  EXPECT_EQ(m.max_ts_ms, 3600 * kS);
  EXPECT_DOUBLE_EQ(m.min, (1.0 * 3599 + 100.0) / 3600);
  EXPECT_EQ(m.min_ts_ms, 0);
  EXPECT_EQ(m.mean, s.mean);
  EXPECT_EQ(m.count, 4);
}

TEST(RollupTest, CombineHandlesGapsOrderAndStrayParts) {
  Aggregate a = Gauge(0, 10 * kS, {{2 * kS, 4.0}});
  Aggregate b = Gauge(20 * kS, 30 * kS, {{25 * kS, 8.0}});
  Aggregate stray = Gauge(25 * kS, 40 * kS, {{26 * kS, -1000.0}});  // not inside [0, 30)
  std::vector<Aggregate> parts = {b, stray, a};                     // out of order
  Aggregate c = Combine(0, 30 * kS, parts, MinMaxFrom::kSamples);
  EXPECT_EQ(c.count, 2);
  EXPECT_EQ(c.first, 4.0);
  EXPECT_EQ(c.last, 8.0);
  EXPECT_EQ(c.min, 4.0);
  EXPECT_EQ(c.weighted_ms, 8 * kS + 5 * kS);
  EXPECT_DOUBLE_EQ(c.mean, (4.0 * 8 + 8.0 * 5) / 13);
  EXPECT_FALSE(c.consumption.has_value());
  Aggregate none = Combine(0, 30 * kS, {}, MinMaxFrom::kMeans);
  EXPECT_EQ(none.count, 0);
  EXPECT_TRUE(std::isnan(none.mean));
  EXPECT_TRUE(std::isnan(none.min));
}

// Random sorted samples in [0, span) with NaNs, resets and (near the top of a uint32) rollovers.
struct Data {
  std::vector<Sample> samples;
  Sample before;
};

Data RandomData(std::mt19937_64& rng, bool counter, int64_t span, double wrap) {
  Data d;
  std::uniform_int_distribution<int> step(1, 90'000);
  std::uniform_real_distribution<double> unit(0, 1);
  double reading = counter ? std::floor(wrap - 5000) : 0;
  auto next_value = [&]() {
    if (!counter) return 1.0 + 999.0 * unit(rng);
    double u = unit(rng);
    if (u < 0.01) {
      reading = std::floor(50 * unit(rng));  // meter reset
    } else {
      reading += std::floor(300 * unit(rng));
      if (reading >= wrap) reading -= wrap;  // rollover
    }
    return reading;
  };
  d.before = {-step(rng), next_value()};
  for (int64_t t = step(rng); t < span; t += step(rng)) {
    // Bursts of dense samples and long silent gaps.
    if (unit(rng) < 0.02) t += 3'600'000;
    if (t >= span) break;
    double v = next_value();
    d.samples.push_back({t, unit(rng) < 0.05 ? kNaN : v});
  }
  return d;
}

// Compute over [start, end) with the neighbours the engine would pass.
Aggregate ComputePart(const Data& d, int64_t start, int64_t end, const RollupOptions& o) {
  std::vector<Sample> inside;
  std::optional<Sample> before = d.before;
  std::optional<Sample> after;
  for (const Sample& s : d.samples) {
    if (s.ts_ms < start) {
      if (std::isfinite(s.value)) before = s;
    } else if (s.ts_ms < end) {
      inside.push_back(s);
    } else if (!after && std::isfinite(s.value)) {
      after = s;
    }
  }
  return Compute(start, end, inside, before, after, o);
}

void ExpectSame(const Aggregate& whole, const Aggregate& combined) {
  EXPECT_EQ(combined.count, whole.count);
  EXPECT_EQ(combined.first, whole.first);
  EXPECT_EQ(combined.first_ts_ms, whole.first_ts_ms);
  EXPECT_EQ(combined.last, whole.last);
  EXPECT_EQ(combined.last_ts_ms, whole.last_ts_ms);
  EXPECT_EQ(combined.min, whole.min);
  EXPECT_EQ(combined.min_ts_ms, whole.min_ts_ms);
  EXPECT_EQ(combined.max, whole.max);
  EXPECT_EQ(combined.max_ts_ms, whole.max_ts_ms);
  EXPECT_EQ(combined.weighted_ms, whole.weighted_ms);
  EXPECT_NEAR(combined.mean, whole.mean, 1e-9 * std::abs(whole.mean));
  ASSERT_EQ(combined.consumption.has_value(), whole.consumption.has_value());
  // Integer readings: every partial sum is exact, so the totals are equal, not just close.
  if (whole.consumption) {
    EXPECT_EQ(*combined.consumption, *whole.consumption);
  }
}

TEST(RollupTest, CombineOfPartsEqualsOneCompute) {
  constexpr int64_t kDay = 86'400'000;
  const double wrap = 4294967296.0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed);
    bool counter = seed % 2 == 0;
    RollupOptions o;
    o.counter = counter;
    o.counter_wrap = seed % 4 == 0 ? wrap : 0;
    o.max_hold_ms = seed % 3 == 0 ? 120'000 : 0;
    Data d = RandomData(rng, counter, kDay, wrap);

    // Irregular tiling of the day, some parts empty, some missing data entirely.
    std::vector<int64_t> cuts = {0, kDay};
    std::uniform_int_distribution<int64_t> at(1, kDay - 1);
    for (int i = 0; i < 30; ++i) cuts.push_back(at(rng));
    cuts.push_back(cuts.back() + 1);  // a 1 ms part
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    std::vector<Aggregate> parts;
    for (size_t i = 0; i + 1 < cuts.size(); ++i) {
      parts.push_back(ComputePart(d, cuts[i], cuts[i + 1], o));
    }
    Aggregate whole = ComputePart(d, 0, kDay, o);
    ASSERT_GT(whole.count, 100);
    ExpectSame(whole, Combine(0, kDay, parts, MinMaxFrom::kSamples));

    // Two levels: parts grouped into halves, then the halves combined.
    size_t mid = parts.size() / 2;
    int64_t split = parts[mid].start_ms;
    std::vector<Aggregate> halves = {
        Combine(0, split, std::span(parts).first(mid), MinMaxFrom::kSamples),
        Combine(split, kDay, std::span(parts).subspan(mid), MinMaxFrom::kSamples)};
    ExpectSame(whole, Combine(0, kDay, halves, MinMaxFrom::kSamples));
  }
}

TEST(RollupTest, ExtremeTimesDoNotOverflow) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  RollupOptions o;
  o.max_hold_ms = kMax;
  Aggregate a = Compute(kMin, kMax, std::vector<Sample>{{0, 1.0}, {kMax - 1, 2.0}},
                        Sample{kMin, 3.0}, Sample{kMax, 4.0}, o);
  EXPECT_EQ(a.count, 1);  // kMax - 1 lies beyond the clamped end
  EXPECT_GT(a.weighted_ms, 0);
  EXPECT_TRUE(std::isfinite(a.mean));
  std::vector<Aggregate> parts = {a, a};
  Aggregate c = Combine(kMin, kMax, parts, MinMaxFrom::kSamples);
  EXPECT_EQ(c.count, 2);
}

}  // namespace
}  // namespace wattline::historian
