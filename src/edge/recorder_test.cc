#include "edge/recorder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <random>

#include "edge/poller.h"
#include "sim/fleet.h"

namespace wattline::edge {
namespace {

using namespace std::chrono_literals;

// A wall-clock time on a whole hour (UTC), so that cycles of any length in the tests start here.
constexpr int64_t kHour = 1'700'000'000'000 / 3'600'000 * 3'600'000;

wire::SignalValue Value(std::string signal, double v, Quality q = Quality::kGood,
                        SignalKind kind = SignalKind::kInstant) {
  return wire::SignalValue{std::move(signal), "W", kind, v, q};
}

wire::MeterReading Reading(std::string device, int64_t ts_ms,
                           std::vector<wire::SignalValue> values) {
  return wire::MeterReading{std::move(device), "Model X", ts_ms, std::move(values)};
}

RecordingRule CycleRule(std::string meter, std::string signal, int64_t cycle_ms,
                        std::vector<Aggregate> aggregates) {
  RecordingRule r;
  r.meter = std::move(meter);
  r.signal = std::move(signal);
  r.cycle_ms = cycle_ms;
  r.aggregates = std::move(aggregates);
  return r;
}

RecordingRule BandRule(std::string signal, double band, double percent = 0,
                       int64_t heartbeat_ms = 0) {
  RecordingRule r;
  r.signal = std::move(signal);
  r.dead_band = band;
  r.dead_band_percent = percent;
  r.heartbeat_ms = heartbeat_ms;
  return r;
}

class RecorderTest : public ::testing::Test {
 protected:
  void Make(std::vector<RecordingRule> rules) {
    auto r = Recorder::Create(std::move(rules),
                              [this](wire::MeterReading reading) { out_.push_back(reading); });
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    recorder_ = std::move(*r);
  }

  // The stored values of `signal` as (ts, value, quality), in the order emitted.
  struct Stored {
    int64_t ts_ms;
    double value;
    Quality quality;
  };
  std::vector<Stored> Series(const std::string& signal) const {
    std::vector<Stored> s;
    for (const auto& r : out_) {
      for (const auto& v : r.values) {
        if (v.signal == signal) s.push_back({r.ts_ms, v.value, v.quality});
      }
    }
    return s;
  }

  std::unique_ptr<Recorder> recorder_;
  std::vector<wire::MeterReading> out_;
};

TEST_F(RecorderTest, WithoutRulesEveryReadingPassesUnchanged) {
  Make({});
  for (int i = 0; i < 5; ++i) {
    recorder_->Add(Reading("m", kHour + i * 1000,
                           {Value("active_power_total", i * 1.5), Value("serial_number", 7)}));
  }
  ASSERT_EQ(out_.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(out_[i].ts_ms, kHour + i * 1000);
    ASSERT_EQ(out_[i].values.size(), 2u);
    EXPECT_EQ(out_[i].values[0].value, i * 1.5);
    EXPECT_EQ(out_[i].model, "Model X");
  }
  recorder_->Flush();
  EXPECT_EQ(out_.size(), 5u);
}

TEST_F(RecorderTest, CycleEmitsMeanLastMinMaxStampedAtCycleStart) {
  Make({CycleRule("*", "active_power_total", 5000,
                  {Aggregate::kMean, Aggregate::kMax, Aggregate::kMin, Aggregate::kLast})});
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> dist(-500, 2500);
  std::vector<double> polled;
  // Polls at +333 ms of each second (a staggered slot): five in the first cycle.
  for (int i = 0; i < 5; ++i) {
    polled.push_back(dist(rng));
    recorder_->Add(Reading("m", kHour + 333 + i * 1000,
                           {Value("active_power_total", polled.back()), Value("frequency", 50)}));
  }
  // Only the unruled signal so far, at the polls' own times.
  ASSERT_EQ(out_.size(), 5u);
  EXPECT_TRUE(Series("active_power_total").empty());
  EXPECT_EQ(Series("frequency").size(), 5u);
  recorder_->Add(Reading("m", kHour + 5333, {Value("active_power_total", 1)}));
  ASSERT_EQ(out_.size(), 6u);
  const wire::MeterReading& cycle = out_.back();
  EXPECT_EQ(cycle.ts_ms, kHour);
  EXPECT_EQ(cycle.device, "m");
  EXPECT_EQ(cycle.model, "Model X");
  ASSERT_EQ(cycle.values.size(), 4u);
  double sum = 0;
  for (double v : polled) sum += v;
  EXPECT_EQ(cycle.values[0].signal, "active_power_total");
  EXPECT_DOUBLE_EQ(cycle.values[0].value, sum / polled.size());
  EXPECT_EQ(cycle.values[1].signal, "active_power_total.max");
  EXPECT_EQ(cycle.values[1].value, *std::max_element(polled.begin(), polled.end()));
  EXPECT_EQ(cycle.values[2].signal, "active_power_total.min");
  EXPECT_EQ(cycle.values[2].value, *std::min_element(polled.begin(), polled.end()));
  EXPECT_EQ(cycle.values[3].signal, "active_power_total.last");
  EXPECT_EQ(cycle.values[3].value, polled.back());
  for (const auto& v : cycle.values) {
    EXPECT_EQ(v.quality, Quality::kGood);
    EXPECT_EQ(v.unit, "W");
    EXPECT_EQ(v.kind, SignalKind::kInstant);
  }
}

TEST_F(RecorderTest, CyclesAreAlignedToTheWallClock) {
  Make({CycleRule("*", "*", 60'000, {Aggregate::kMean})});
  // Polls every 7 s from an odd time: the cycles are still whole minutes.
  const int64_t start = kHour + 42'500;
  std::map<int64_t, std::vector<double>> by_minute;
  for (int64_t ts = start; ts < start + 200'000; ts += 7000) {
    double v = static_cast<double>((ts / 1000) % 97);
    by_minute[ts / 60'000 * 60'000].push_back(v);
    recorder_->Add(Reading("m", ts, {Value("voltage_l1_n", v)}));
  }
  recorder_->Flush();
  auto stored = Series("voltage_l1_n");
  ASSERT_EQ(stored.size(), by_minute.size());
  size_t i = 0;
  for (const auto& [minute, values] : by_minute) {
    double sum = 0;
    for (double v : values) sum += v;
    EXPECT_EQ(stored[i].ts_ms, minute);
    EXPECT_EQ(stored[i].ts_ms % 60'000, 0);
    EXPECT_DOUBLE_EQ(stored[i].value, sum / values.size()) << "minute " << i;
    ++i;
  }
}

TEST_F(RecorderTest, GapOfSeveralCyclesEmitsOnlyCyclesWithValues) {
  Make({CycleRule("*", "active_power_total", 2000, {Aggregate::kLast})});
  recorder_->Add(Reading("m", kHour + 100, {Value("active_power_total", 1)}));
  recorder_->Add(Reading("m", kHour + 1100, {Value("active_power_total", 2)}));
  // The meter was away for four cycles.
  recorder_->Add(Reading("m", kHour + 10'100, {Value("active_power_total", 3)}));
  ASSERT_EQ(out_.size(), 1u);
  EXPECT_EQ(out_[0].ts_ms, kHour);
  EXPECT_EQ(out_[0].values[0].value, 2);
  recorder_->Add(Reading("m", kHour + 12'100, {Value("active_power_total", 4)}));
  ASSERT_EQ(out_.size(), 2u);
  EXPECT_EQ(out_[1].ts_ms, kHour + 10'000);
  EXPECT_EQ(out_[1].values[0].value, 3);
}

TEST_F(RecorderTest, FlushEmitsOpenCyclesOfEveryMeterAndStartsAfresh) {
  Make({CycleRule("*", "*", 10'000, {Aggregate::kMean, Aggregate::kMax})});
  recorder_->Add(Reading("a", kHour + 1000, {Value("active_power_total", 10)}));
  recorder_->Add(Reading("a", kHour + 2000, {Value("active_power_total", 20)}));
  recorder_->Add(Reading("b", kHour + 3000, {Value("current_l1", 5)}));
  EXPECT_TRUE(out_.empty());
  recorder_->Flush();
  ASSERT_EQ(out_.size(), 2u);
  std::map<std::string, wire::MeterReading> by_meter;
  for (const auto& r : out_) by_meter[r.device] = r;
  ASSERT_EQ(by_meter["a"].values.size(), 2u);
  EXPECT_EQ(by_meter["a"].ts_ms, kHour);
  EXPECT_EQ(by_meter["a"].values[0].value, 15);
  EXPECT_EQ(by_meter["a"].values[1].signal, "active_power_total.max");
  EXPECT_EQ(by_meter["a"].values[1].value, 20);
  EXPECT_EQ(by_meter["b"].values[0].value, 5);
  recorder_->Flush();
  EXPECT_EQ(out_.size(), 2u);  // nothing open any more
  // A later poll in the same cycle (after a restart) opens that cycle again.
  recorder_->Add(Reading("a", kHour + 4000, {Value("active_power_total", 40)}));
  recorder_->Flush();
  ASSERT_EQ(out_.size(), 3u);
  EXPECT_EQ(out_[2].ts_ms, kHour);
  EXPECT_EQ(out_[2].values[0].value, 40);
}

TEST_F(RecorderTest, FlushMeterEmitsAndForgetsOnlyThatMeter) {
  Make({CycleRule("*", "*", 10'000, {Aggregate::kLast})});
  recorder_->Add(Reading("a", kHour + 1000, {Value("active_power_total", 1)}));
  recorder_->Add(Reading("b", kHour + 1000, {Value("active_power_total", 2)}));
  recorder_->FlushMeter("a");
  recorder_->FlushMeter("nobody");
  ASSERT_EQ(out_.size(), 1u);
  EXPECT_EQ(out_[0].device, "a");
  recorder_->Flush();
  ASSERT_EQ(out_.size(), 2u);
  EXPECT_EQ(out_[1].device, "b");
}

TEST_F(RecorderTest, InvalidValuesAreLeftOutAndAnAllInvalidCycleIsInvalid) {
  Make({CycleRule("*", "voltage_l1_n", 4000,
                  {Aggregate::kMean, Aggregate::kMin, Aggregate::kMax, Aggregate::kLast})});
  const std::vector<std::pair<double, Quality>> first = {{230, Quality::kGood},
                                                         {-1e30, Quality::kInvalid},
                                                         {232, Quality::kGood},
                                                         {1e30, Quality::kInvalid}};
  int64_t ts = kHour;
  for (auto [v, q] : first) {
    recorder_->Add(Reading("m", ts, {Value("voltage_l1_n", v, q)}));
    ts += 1000;
  }
  for (int i = 0; i < 4; ++i) {
    recorder_->Add(Reading("m", ts, {Value("voltage_l1_n", 0, Quality::kInvalid)}));
    ts += 1000;
  }
  recorder_->Flush();
  ASSERT_EQ(out_.size(), 2u);
  double sum = 0, n = 0, lo = INFINITY, hi = -INFINITY, last = 0;
  for (auto [v, q] : first) {
    if (q != Quality::kGood) continue;
    sum += v;
    ++n;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    last = v;
  }
  ASSERT_EQ(out_[0].values.size(), 4u);
  EXPECT_EQ(out_[0].values[0].value, sum / n);
  EXPECT_EQ(out_[0].values[1].value, lo);
  EXPECT_EQ(out_[0].values[2].value, hi);
  EXPECT_EQ(out_[0].values[3].value, last);
  for (const auto& v : out_[0].values) EXPECT_EQ(v.quality, Quality::kGood) << v.signal;
  EXPECT_EQ(out_[1].ts_ms, kHour + 4000);
  ASSERT_EQ(out_[1].values.size(), 4u);
  for (const auto& v : out_[1].values) EXPECT_EQ(v.quality, Quality::kInvalid) << v.signal;
}

TEST_F(RecorderTest, CounterRecordsItsLastValueUnderItsOwnName) {
  Make({CycleRule("*", "*", 3000, {Aggregate::kMean, Aggregate::kMax})});
  std::vector<double> energy = {1000, 1003.5, 1007.25};
  for (size_t i = 0; i < energy.size(); ++i) {
    recorder_->Add(
        Reading("m", kHour + 1000 * static_cast<int64_t>(i),
                {Value("active_energy_import", energy[i], Quality::kGood, SignalKind::kCounter),
                 Value("active_power_total", static_cast<double>(i))}));
  }
  recorder_->Flush();
  ASSERT_EQ(out_.size(), 1u);
  std::map<std::string, wire::SignalValue> values;
  for (const auto& v : out_[0].values) values[v.signal] = v;
  EXPECT_EQ(values.size(), 3u);  // the counter's last, the power's mean and max
  ASSERT_TRUE(values.count("active_energy_import"));
  EXPECT_EQ(values["active_energy_import"].value, energy.back());
  EXPECT_EQ(values["active_energy_import"].kind, SignalKind::kCounter);
  EXPECT_EQ(values.count("active_energy_import.max"), 0u);
  EXPECT_EQ(values["active_power_total"].value, 1);
  EXPECT_EQ(values["active_power_total.max"].value, 2);
}

TEST_F(RecorderTest, AbsoluteDeadBandStoresOnlyLargerMoves) {
  Make({BandRule("active_power_total", 1.0)});
  // 101 moved exactly the band: not more than it.
  const std::vector<double> polled = {100, 100.4, 100.9, 101, 101.2, 101.0, 99.9, 100.5, 98.0};
  for (size_t i = 0; i < polled.size(); ++i) {
    recorder_->Add(Reading("m", kHour + 1000 * static_cast<int64_t>(i),
                           {Value("active_power_total", polled[i])}));
  }
  // The first value; then each that moved more than 1 from the last stored one.
  std::vector<std::pair<int64_t, double>> expected;
  double last = 0;
  for (size_t i = 0; i < polled.size(); ++i) {
    if (i == 0 || std::abs(polled[i] - last) > 1.0) {
      expected.emplace_back(kHour + 1000 * static_cast<int64_t>(i), polled[i]);
      last = polled[i];
    }
  }
  ASSERT_EQ(expected.size(), 4u);  // 100, 101.2, 99.9, 98
  auto stored = Series("active_power_total");
  ASSERT_EQ(stored.size(), expected.size());
  for (size_t i = 0; i < stored.size(); ++i) {
    EXPECT_EQ(stored[i].ts_ms, expected[i].first);
    EXPECT_EQ(stored[i].value, expected[i].second);
  }
  // Polls that kept nothing are not emitted at all.
  EXPECT_EQ(out_.size(), expected.size());
}

TEST_F(RecorderTest, PercentDeadBandIsRelativeToTheLastStoredValue) {
  Make({BandRule("active_power_total", 0, 5.0)});
  const std::vector<double> polled = {1000, 1040, 1060, 1100, 1110, 1120, -1130, 0, 0.001};
  std::vector<double> expected;
  for (double v : polled) {
    if (expected.empty() || std::abs(v - expected.back()) > std::abs(expected.back()) * 0.05)
      expected.push_back(v);
  }
  // 1000, 1060, 1120, -1130, 0, and 0.001: any move from a stored 0 exceeds 5% of it.
  ASSERT_EQ(expected.size(), 6u);
  for (size_t i = 0; i < polled.size(); ++i) {
    recorder_->Add(Reading("m", kHour + 1000 * static_cast<int64_t>(i),
                           {Value("active_power_total", polled[i])}));
  }
  auto stored = Series("active_power_total");
  ASSERT_EQ(stored.size(), expected.size());
  for (size_t i = 0; i < stored.size(); ++i) EXPECT_EQ(stored[i].value, expected[i]);
}

TEST_F(RecorderTest, LargerOfBothBandsApplies) {
  Make({BandRule("current_l1", 0.5, 10.0)});
  // Near zero the absolute band of 0.5 holds; at 100 the 10% band (10) does.
  const std::vector<double> polled = {0, 0.4, 0.6, 0.9, 100, 105, 109, 111};
  std::vector<double> expected;
  for (double v : polled) {
    double band = expected.empty() ? 0 : std::max(0.5, std::abs(expected.back()) * 0.10);
    if (expected.empty() || std::abs(v - expected.back()) > band) expected.push_back(v);
  }
  for (size_t i = 0; i < polled.size(); ++i) {
    recorder_->Add(
        Reading("m", kHour + 1000 * static_cast<int64_t>(i), {Value("current_l1", polled[i])}));
  }
  auto stored = Series("current_l1");
  ASSERT_EQ(stored.size(), expected.size());
  for (size_t i = 0; i < stored.size(); ++i) EXPECT_EQ(stored[i].value, expected[i]);
}

TEST_F(RecorderTest, HeartbeatStoresAnUnchangedValue) {
  Make({BandRule("frequency", 0.1, 0, 5000)});
  for (int i = 0; i <= 12; ++i) {
    recorder_->Add(Reading("m", kHour + 1000 * i, {Value("frequency", 50.0)}));
  }
  auto stored = Series("frequency");
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(stored[0].ts_ms, kHour);
  EXPECT_EQ(stored[1].ts_ms, kHour + 5000);
  EXPECT_EQ(stored[2].ts_ms, kHour + 10'000);
  // A stored move restarts the heartbeat.
  recorder_->Add(Reading("m", kHour + 13'000, {Value("frequency", 50.5)}));
  recorder_->Add(Reading("m", kHour + 15'000, {Value("frequency", 50.5)}));
  recorder_->Add(Reading("m", kHour + 18'000, {Value("frequency", 50.5)}));
  stored = Series("frequency");
  ASSERT_EQ(stored.size(), 5u);
  EXPECT_EQ(stored[3].ts_ms, kHour + 13'000);
  EXPECT_EQ(stored[4].ts_ms, kHour + 18'000);
}

TEST_F(RecorderTest, QualityChangeIsStored) {
  Make({BandRule("voltage_l1_n", 10)});
  const std::vector<std::pair<double, Quality>> polled = {
      {230, Quality::kGood}, {0, Quality::kInvalid}, {5, Quality::kInvalid},
      {231, Quality::kGood}, {232, Quality::kGood},  {0, Quality::kInvalid}};
  for (size_t i = 0; i < polled.size(); ++i) {
    recorder_->Add(Reading("m", kHour + 1000 * static_cast<int64_t>(i),
                           {Value("voltage_l1_n", polled[i].first, polled[i].second)}));
  }
  auto stored = Series("voltage_l1_n");
  ASSERT_EQ(stored.size(), 4u);
  EXPECT_EQ(stored[0].quality, Quality::kGood);
  EXPECT_EQ(stored[1].quality, Quality::kInvalid);
  EXPECT_EQ(stored[1].ts_ms, kHour + 1000);
  EXPECT_EQ(stored[2].quality, Quality::kGood);
  EXPECT_EQ(stored[2].value, 231);
  EXPECT_EQ(stored[3].ts_ms, kHour + 5000);
}

TEST_F(RecorderTest, DeadBandAppliesToEachCycleSeries) {
  RecordingRule rule =
      CycleRule("*", "active_power_total", 2000, {Aggregate::kMean, Aggregate::kMax});
  rule.dead_band = 5;
  Make({rule});
  // Cycles: (10, 10) -> mean 10 max 10; (10, 30) -> mean 20 max 30; (12, 32) -> mean 22 max 32;
  // (0, 14) -> mean 7 max 14.
  const std::vector<double> polled = {10, 10, 10, 30, 12, 32, 0, 14};
  for (size_t i = 0; i < polled.size(); ++i) {
    recorder_->Add(Reading("m", kHour + 1000 * static_cast<int64_t>(i),
                           {Value("active_power_total", polled[i])}));
  }
  recorder_->Flush();
  std::vector<double> means, maxes;
  std::vector<double> mean_kept, max_kept;
  for (size_t i = 0; i < polled.size(); i += 2) {
    double mean = (polled[i] + polled[i + 1]) / 2, max = std::max(polled[i], polled[i + 1]);
    if (mean_kept.empty() || std::abs(mean - mean_kept.back()) > 5) mean_kept.push_back(mean);
    if (max_kept.empty() || std::abs(max - max_kept.back()) > 5) max_kept.push_back(max);
  }
  for (const auto& s : Series("active_power_total")) means.push_back(s.value);
  for (const auto& s : Series("active_power_total.max")) maxes.push_back(s.value);
  EXPECT_EQ(means, mean_kept);  // 10, 20, 7: 22 is within 5 of 20
  EXPECT_EQ(maxes, max_kept);   // 10, 30, 14: 32 is within 5 of 30
  EXPECT_EQ(means.size(), 3u);
  EXPECT_EQ(maxes.size(), 3u);
}

TEST_F(RecorderTest, MostSpecificRuleWins) {
  Make({CycleRule("*", "*", 1000, {Aggregate::kLast}),
        CycleRule("*", "active_power_total", 2000, {Aggregate::kLast}),
        CycleRule("m1", "*", 3000, {Aggregate::kLast}),
        CycleRule("m1", "active_power_total", 4000, {Aggregate::kLast})});
  // Poll every second for 12 s; each signal's spacing shows which rule it got.
  for (int i = 0; i < 12; ++i) {
    for (const char* m : {"m1", "m2"}) {
      recorder_->Add(
          Reading(m, kHour + 1000 * i, {Value("active_power_total", i), Value("current_l1", i)}));
    }
  }
  recorder_->Flush();
  auto spacing = [&](const std::string& meter, const std::string& signal) -> int64_t {
    std::vector<int64_t> ts;
    for (const auto& r : out_) {
      if (r.device != meter) continue;
      for (const auto& v : r.values) {
        if (v.signal == signal) ts.push_back(r.ts_ms);
      }
    }
    if (ts.size() < 2) return -1;
    return ts[1] - ts[0];
  };
  EXPECT_EQ(spacing("m1", "active_power_total"), 4000);  // meter + signal
  EXPECT_EQ(spacing("m1", "current_l1"), 3000);          // meter + *
  EXPECT_EQ(spacing("m2", "active_power_total"), 2000);  // * + signal
  EXPECT_EQ(spacing("m2", "current_l1"), 1000);          // * + *
}

TEST_F(RecorderTest, RuleWithoutCycleOrBandExemptsASignal) {
  RecordingRule raw;
  raw.meter = "m";
  raw.signal = "frequency";
  Make({CycleRule("*", "*", 10'000, {Aggregate::kMean}), raw});
  for (int i = 0; i < 3; ++i) {
    recorder_->Add(
        Reading("m", kHour + 1000 * i, {Value("frequency", 50 + i), Value("current_l1", i)}));
  }
  EXPECT_EQ(Series("frequency").size(), 3u);
  EXPECT_TRUE(Series("current_l1").empty());
}

TEST_F(RecorderTest, IdentitySignalsAndUnruledSignalsPassThrough) {
  Make({CycleRule("*", "*", 10'000, {Aggregate::kMean}),
        CycleRule("*", "current_l1", 10'000, {Aggregate::kMean})});
  recorder_->Add(Reading("m", kHour, {Value("serial_number", 42), Value("current_l1", 3)}));
  ASSERT_EQ(out_.size(), 1u);
  ASSERT_EQ(out_[0].values.size(), 1u);
  EXPECT_EQ(out_[0].values[0].signal, "serial_number");
  // Only ruled signals: nothing is emitted for this poll.
  recorder_->Add(Reading("m", kHour + 1000, {Value("current_l1", 4)}));
  EXPECT_EQ(out_.size(), 1u);
}

TEST_F(RecorderTest, SignalsWithoutRuleKeepTheirTimes) {
  Make({CycleRule("*", "current_l1", 10'000, {Aggregate::kMean})});
  recorder_->Add(Reading("m", kHour + 250, {Value("current_l1", 3), Value("current_l2", 8)}));
  ASSERT_EQ(out_.size(), 1u);
  EXPECT_EQ(out_[0].ts_ms, kHour + 250);
  ASSERT_EQ(out_[0].values.size(), 1u);
  EXPECT_EQ(out_[0].values[0].signal, "current_l2");
  EXPECT_EQ(out_[0].values[0].value, 8);
}

TEST_F(RecorderTest, OlderReadingOfAMeterPassesThroughUntouched) {
  Make({CycleRule("*", "*", 60'000, {Aggregate::kMean})});
  recorder_->Add(Reading("m", kHour + 30'500, {Value("active_energy_import", 10)}));
  // Recorded history from first contact: older than the first poll, even in the open cycle.
  recorder_->Add(Reading("m", kHour + 30'000, {Value("active_energy_import", 9)}));
  recorder_->Add(Reading("m", kHour - 900'000, {Value("active_energy_import", 8)}));
  ASSERT_EQ(out_.size(), 2u);
  EXPECT_EQ(out_[0].ts_ms, kHour + 30'000);
  EXPECT_EQ(out_[0].values[0].value, 9);
  EXPECT_EQ(out_[1].ts_ms, kHour - 900'000);
  recorder_->Flush();
  ASSERT_EQ(out_.size(), 3u);
  EXPECT_EQ(out_[2].ts_ms, kHour);
  EXPECT_EQ(out_[2].values[0].value, 10);  // the history did not enter the cycle
}

TEST_F(RecorderTest, SignalMissingFromAPollStillEndsItsCycle) {
  Make({CycleRule("*", "*", 2000, {Aggregate::kMean})});
  recorder_->Add(Reading("m", kHour, {Value("current_l1", 1), Value("current_l2", 2)}));
  // The next poll lacks current_l2; both cycles end.
  recorder_->Add(Reading("m", kHour + 2000, {Value("current_l1", 5)}));
  ASSERT_EQ(out_.size(), 1u);
  EXPECT_EQ(out_[0].ts_ms, kHour);
  EXPECT_EQ(out_[0].values.size(), 2u);
}

TEST(RecorderCreateTest, RejectsInvalidRules) {
  auto sink = [](wire::MeterReading) {};
  auto odd =
      Recorder::Create({CycleRule("*", "active_power_total", 1500, {Aggregate::kMean})}, sink);
  ASSERT_FALSE(odd.has_value());
  EXPECT_EQ(odd.error().code(), Code::kInvalidArgument);
  EXPECT_NE(odd.error().message().find("whole seconds"), std::string::npos);
  EXPECT_FALSE(Recorder::Create({CycleRule("*", "no_such_signal", 1000, {Aggregate::kMean})}, sink)
                   .has_value());
  EXPECT_FALSE(Recorder::Create({CycleRule("*", "*", 1000, {})}, sink).has_value());
  EXPECT_FALSE(Recorder::Create({BandRule("*", 0, 0, 1000)}, sink).has_value());
  auto twice = Recorder::Create({BandRule("frequency", 1), BandRule("frequency", 2)}, sink);
  ASSERT_FALSE(twice.has_value());
  EXPECT_NE(twice.error().message().find("twice"), std::string::npos);
}

// ---- configuration ----

Result<std::vector<RecordingRule>> Parse(const std::string& text) {
  return RecordingRulesFromToml(toml::parse(text));
}

TEST(RecordingConfigTest, ReadsRecordingTablesWithDefaults) {
  auto rules = Parse(R"(
[[meter]]
key = "meter-01"

[[recording]]
signal = "*"
cycle_ms = 60000

[[recording]]
meter = "meter-01"
signal = "active_power_total"
cycle_ms = 1000
aggregate = ["max", "mean"]
dead_band = 2
heartbeat_ms = 900000

[[recording]]
signal = "frequency"
dead_band_percent = 0.5
)");
  ASSERT_TRUE(rules.has_value()) << rules.error().ToString();
  ASSERT_EQ(rules->size(), 3u);
  EXPECT_EQ((*rules)[0].meter, "*");
  EXPECT_EQ((*rules)[0].cycle_ms, 60000);
  EXPECT_EQ((*rules)[0].aggregates, std::vector<Aggregate>{Aggregate::kMean});
  EXPECT_EQ((*rules)[1].meter, "meter-01");
  EXPECT_EQ((*rules)[1].aggregates, (std::vector<Aggregate>{Aggregate::kMax, Aggregate::kMean}));
  EXPECT_EQ((*rules)[1].dead_band, 2.0);
  EXPECT_EQ((*rules)[1].heartbeat_ms, 900000);
  EXPECT_EQ((*rules)[2].cycle_ms, 0);
  EXPECT_TRUE((*rules)[2].aggregates.empty());
  EXPECT_EQ((*rules)[2].dead_band_percent, 0.5);
  auto none = Parse("[[meter]]\nkey = \"a\"\n");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

struct BadConfig {
  const char* text;
  const char* fragments[3];
};

TEST(RecordingConfigTest, BadTablesNameIndexKeyAndLine) {
  const BadConfig cases[] = {
      {"[[recording]]\nsignal = \"frequency\"\n[[recording]]\nsignal = \"frequency\"\n"
       "cycle_ms = 1500\n",
       {"#2 (*/frequency)", "line 5", "'cycle_ms' must be whole seconds"}},
      {"[[recording]]\nsignal = \"frequency\"\ncycle_ms = 500\n",
       {"#1", "line 3", "'cycle_ms' must be an integer in 1000..86400000"}},
      {"[[recording]]\nsignal = \"frequency\"\ncycle_ms = \"60s\"\n",
       {"#1", "line 3", "'cycle_ms' must be an integer"}},
      {"[[recording]]\nsignal = \"frequency\"\ncycle_ms = 2000\naggregate = [\"mean\", "
       "\"median\"]\n",
       {"#1", "line 4", "unknown aggregate \"median\""}},
      {"[[recording]]\nsignal = \"frequency\"\ncycle_ms = 2000\naggregate = []\n",
       {"#1", "line 4", "non-empty array"}},
      {"[[recording]]\nsignal = \"frequency\"\ncycle_ms = 2000\naggregate = [\"max\", \"max\"]\n",
       {"#1", "line 1", "\"max\" more than once"}},
      {"[[recording]]\nsignal = \"frequency\"\naggregate = [\"max\"]\n",
       {"#1", "line 1", "'aggregate' needs a 'cycle_ms'"}},
      {"[[recording]]\nsignal = \"frequency\"\nheartbeat_ms = 60000\n",
       {"#1", "line 1", "'heartbeat_ms' needs a 'dead_band'"}},
      {"[[recording]]\nsignal = \"frequency\"\n\ndead_band = -1\n",
       {"#1", "line 4", "'dead_band' must be a number >= 0"}},
      {"[[recording]]\nsignal = \"frequency\"\ndead_band_percent = \"5%\"\n",
       {"#1", "line 3", "'dead_band_percent' must be a number >= 0"}},
      {"[[recording]]\nsignal = \"frequency\"\ncycle = 1000\n",
       {"#1", "line 3", "unknown key 'cycle'"}},
      {"[[recording]]\nsignal = \"power\"\n", {"#1", "line 2", "unknown signal 'power'"}},
      {"[[recording]]\nsignal = \"serial_number\"\n", {"#1", "line 2", "identity signal"}},
      {"[[recording]]\nmeter = \"m\"\n", {"#1", "line 1", "missing 'signal'"}},
      {"[[recording]]\nsignal = 5\n", {"#1", "line 2", "'signal' must be a non-empty string"}},
      {"[[recording]]\nmeter = \"\"\nsignal = \"*\"\n",
       {"#1", "line 2", "'meter' must be a non-empty string"}},
      {"[[recording]]\nmeter = \"m\"\nsignal = \"*\"\ncycle_ms = 1000\n[[recording]]\n"
       "meter = \"m\"\nsignal = \"*\"\ndead_band = 1\n",
       {"#2 (m/*)", "line 5", "given twice"}},
      {"recording = 5\n", {"line 1", "array of tables", "[[recording]]"}},
  };
  for (const auto& c : cases) {
    auto rules = Parse(c.text);
    ASSERT_FALSE(rules.has_value()) << c.text;
    EXPECT_EQ(rules.error().code(), Code::kInvalidArgument);
    for (const char* f : c.fragments) {
      EXPECT_NE(rules.error().message().find(f), std::string::npos)
          << "'" << f << "' not in: " << rules.error().message();
    }
  }
}

TEST(RecordingConfigTest, SameSignalForTwoMetersIsNoDuplicate) {
  auto rules = Parse(
      "[[recording]]\nsignal = \"frequency\"\ndead_band = 1\n[[recording]]\nmeter = \"a\"\n"
      "signal = \"frequency\"\ndead_band = 2\n");
  ASSERT_TRUE(rules.has_value()) << rules.error().ToString();
  EXPECT_EQ(rules->size(), 2u);
}

// ---- with the real poller ----

TEST(RecorderPollerTest, SimulatedMeterPolledEverySecondIsRecordedEveryTwoSeconds) {
  boost::asio::io_context io;
  profiles::ProfileRegistry registry;
  ASSERT_TRUE(registry.LoadDirectory(WATTLINE_PROFILES_DIR).ok());
  sim::Fleet fleet(io,
                   sim::FleetOptions{.meters = 1, .host = "127.0.0.1", .base_port = 0, .seed = 3});
  ASSERT_TRUE(fleet.Start().ok());
  std::vector<MeterConfig> meters;
  for (const auto& e : fleet.endpoints()) {
    meters.push_back({e.key, e.host, e.port, e.unit_id, e.profile, 1000ms});
  }
  std::vector<wire::MeterReading> polled, stored;
  auto recorder = Recorder::Create(
      {CycleRule("*", "active_power_total", 2000, {Aggregate::kMean, Aggregate::kMax})},
      [&](wire::MeterReading r) { stored.push_back(std::move(r)); });
  ASSERT_TRUE(recorder.has_value());
  Poller poller(io, registry, meters, [&](wire::MeterReading r) {
    polled.push_back(r);
    (*recorder)->Add(std::move(r));
  });
  ASSERT_TRUE(poller.Start().ok());
  io.run_for(5200ms);
  poller.Stop();
  (*recorder)->Flush();

  // The polled values of each 2 s cycle, as the recorder should have reduced them.
  std::map<int64_t, std::vector<double>> cycles;
  for (const auto& r : polled) {
    for (const auto& v : r.values) {
      if (v.signal == "active_power_total") cycles[r.ts_ms / 2000 * 2000].push_back(v.value);
    }
  }
  ASSERT_GE(cycles.size(), 2u);
  std::vector<int64_t> times;
  size_t live = 0, live_polled = 0;
  for (const auto& r : polled) {
    for (const auto& v : r.values) live_polled += v.signal == "voltage_l1_n";
  }
  for (const auto& r : stored) {
    std::map<std::string, double> values;
    for (const auto& v : r.values) values[v.signal] = v.value;
    EXPECT_EQ(values.count("active_power_total.last"), 0u);
    if (!values.count("active_power_total")) {
      // Live polls keep their other signals at the poll times (every second).
      if (values.count("voltage_l1_n")) {
        EXPECT_EQ(r.ts_ms % 1000, 0);
        ++live;
      }
      continue;
    }
    EXPECT_EQ(r.values.size(), 2u) << "only the cycle's values in a cycle reading";
    times.push_back(r.ts_ms);
    ASSERT_TRUE(cycles.count(r.ts_ms)) << r.ts_ms;
    const auto& in = cycles[r.ts_ms];
    double sum = 0;
    for (double v : in) sum += v;
    EXPECT_DOUBLE_EQ(values["active_power_total"], sum / in.size());
    ASSERT_TRUE(values.count("active_power_total.max"));
    EXPECT_EQ(values["active_power_total.max"], *std::max_element(in.begin(), in.end()));
  }
  EXPECT_EQ(live, live_polled);
  ASSERT_EQ(times.size(), cycles.size());
  for (size_t i = 1; i < times.size(); ++i) EXPECT_EQ(times[i] - times[i - 1], 2000);
}

}  // namespace
}  // namespace wattline::edge
