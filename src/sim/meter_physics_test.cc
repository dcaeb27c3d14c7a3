#include "sim/meter_physics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <utility>
#include <vector>

#include "modbus/register_decode.h"
#include "sim/fake_time.h"
#include "sim/umg_register_map.h"

namespace wattline::sim {
namespace {

using namespace std::chrono_literals;

// 2024-06-01 12:00:00 UTC: midday, so PV meters export.
const SystemTime kNoon = FromUnixMs(1717243200000);

uint64_t SeedWith(bool pv) {
  FakeTime time(kNoon);
  for (uint64_t seed = 1;; ++seed) {
    if (MeterPhysics(seed, time).has_pv() == pv) return seed;
  }
}

TEST(MeterPhysicsTest, PowerEqualsVoltageTimesCurrentTimesCosPhi) {
  FakeTime time(kNoon);
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    MeterPhysics m(seed, time);
    for (int i = 0; i < 50; ++i) {
      time.Advance(997ms);
      const MeterState& s = m.Advance();
      for (int p = 0; p < 3; ++p) {
        EXPECT_NEAR(s.active_power[p], s.voltage[p] * s.current[p] * s.cos_phi[p],
                    1e-9 * std::max(1.0, std::abs(s.active_power[p])));
        EXPECT_NEAR(s.apparent_power[p], s.voltage[p] * s.current[p],
                    1e-9 * s.apparent_power[p] + 1e-9);
        EXPECT_NEAR(
            s.reactive_power[p] * s.reactive_power[p] + s.active_power[p] * s.active_power[p],
            s.apparent_power[p] * s.apparent_power[p],
            1e-6 * s.apparent_power[p] * s.apparent_power[p] + 1e-6);
        EXPECT_GE(std::abs(s.cos_phi[p]), 0.85);
        EXPECT_LE(std::abs(s.cos_phi[p]), 0.99);
        EXPECT_GT(s.voltage[p], 220);
        EXPECT_LT(s.voltage[p], 240);
      }
      EXPECT_NEAR(s.frequency, 50, 0.1);
      EXPECT_NEAR(s.voltage_ll[0], 230 * std::sqrt(3), 20);
    }
  }
}

TEST(MeterPhysicsTest, PowerConsistencyHoldsInFloatRegisters) {
  FakeTime time(kNoon);
  MeterPhysics m(SeedWith(true), time);
  auto image = UmgRegisterImage(m.Advance());
  auto f = [&](uint16_t address) {
    return static_cast<double>(modbus::DecodeFloat32(
        std::span<const uint16_t, 2>(image.data() + (address - kUmgFirstRegister), 2),
        modbus::WordOrder::kABCD));
  };
  for (int p = 0; p < 3; ++p) {
    double u = f(19000 + 2 * p), i = f(19012 + 2 * p), pw = f(19020 + 2 * p),
           cos = f(19044 + 2 * p);
    EXPECT_NEAR(pw, u * i * cos, 1e-5 * std::max(1.0, std::abs(pw)));
  }
  EXPECT_NEAR(f(19060), f(19068) - f(19076), 1e-6 * f(19068));
}

TEST(MeterPhysicsTest, PvMeterExportsAtNoon) {
  FakeTime time(kNoon);
  MeterPhysics pv(SeedWith(true), time);
  double export_before = pv.state().energy_export_wh;
  double min_total = 1e9;
  for (int i = 0; i < 600; ++i) {
    time.Advance(1s);
    min_total = std::min(min_total, pv.Advance().active_power_total());
  }
  // Not every PV meter exports at every instant (the load may exceed the yield), but the
  // counter never goes backwards and negative power shows as a negative cos phi.
  EXPECT_GE(pv.state().energy_export_wh, export_before);
  if (min_total < 0) {
    EXPECT_GT(pv.state().energy_export_wh, export_before);
  }
}

TEST(MeterPhysicsTest, ImportIntegratesPowerOverAnHour) {
  FakeTime time(kNoon);
  MeterPhysics m(SeedWith(false), time);
  double start_wh = m.state().energy_import_wh;
  double integral_wh = 0;
  double p_prev = m.state().active_power_total();
  for (int i = 0; i < 3600; ++i) {
    time.Advance(1s);
    double p = m.Advance().active_power_total();
    integral_wh += (p_prev + p) / 2 / 3600;
    p_prev = p;
  }
  double grown = m.state().energy_import_wh - start_wh;
  ASSERT_GT(integral_wh, 0);
  EXPECT_NEAR(grown, integral_wh, 0.01 * integral_wh);
}

TEST(MeterPhysicsTest, OneLateRequestIntegratesTheWholeGap) {
  FakeTime stepped_time(kNoon), lazy_time(kNoon);
  uint64_t seed = SeedWith(false);
  MeterPhysics stepped(seed, stepped_time), lazy(seed, lazy_time);
  for (int i = 0; i < 3600; ++i) {
    stepped_time.Advance(1s);
    stepped.Advance();
  }
  lazy_time.Advance(1h);
  lazy.Advance();
  EXPECT_NEAR(lazy.state().energy_import_wh, stepped.state().energy_import_wh,
              1e-6 * stepped.state().energy_import_wh);
}

TEST(MeterPhysicsTest, CountersDoNotDependOnWhenRequestsArrive) {
  uint64_t seed = SeedWith(true);
  FakeTime irregular_time(kNoon), lazy_time(kNoon);
  MeterPhysics irregular(seed, irregular_time), lazy(seed, lazy_time);
  // Steps that straddle whole seconds in every way, for half an hour.
  auto elapsed = 0ms;
  for (int i = 0; elapsed < 30min; ++i) {
    auto step = std::chrono::milliseconds(150 + (i * 317) % 2300);
    irregular_time.Advance(step);
    irregular.Advance();
    elapsed += step;
  }
  lazy_time.Advance(elapsed);
  lazy.Advance();
  EXPECT_NEAR(lazy.state().energy_import_wh, irregular.state().energy_import_wh, 1e-6);
  EXPECT_NEAR(lazy.state().energy_export_wh, irregular.state().energy_export_wh, 1e-6);
  EXPECT_GT(lazy.state().energy_export_wh, 0);  // midday: the PV meter exported
}

TEST(MeterPhysicsTest, CountersAtAgreesWithTheLiveCounters) {
  FakeTime time(kNoon - 6h);
  MeterPhysics m(SeedWith(false), time);
  const EnergyCounters start{m.state().energy_import_wh, m.state().energy_export_wh};
  std::vector<std::pair<SystemTime, double>> live;
  for (int i = 0; i < 40; ++i) {
    time.Advance(std::chrono::milliseconds(45000 + 1234 * i));
    live.emplace_back(time.SystemNow(), m.Advance().energy_import_wh);
  }
  // Asked afterwards, in any order, the counters are the ones that were live then.
  for (size_t i = 0; i < live.size(); i += 7) {
    auto c = m.CountersAt(live[live.size() - 1 - i].first);
    ASSERT_TRUE(c.has_value());
    EXPECT_NEAR(c->import_wh, live[live.size() - 1 - i].second, 1e-6) << i;
  }
  auto at_start = m.CountersAt(kNoon - 6h);
  ASSERT_TRUE(at_start.has_value());
  EXPECT_NEAR(at_start->import_wh, start.import_wh, 1e-6);
  // Before the meter was created: the counters are lower by the energy of the load since then.
  auto before = m.CountersAt(kNoon - 7h);
  ASSERT_TRUE(before.has_value());
  EXPECT_LT(before->import_wh, start.import_wh - 100);  // an hour of at least ~300 W
  EXPECT_EQ(before->export_wh, 0);                      // no PV, nothing exported
  // Too far from anything known.
  EXPECT_FALSE(m.CountersAt(kNoon - 6h - 72h).has_value());
}

TEST(MeterPhysicsTest, ClockGoingBackwardsKeepsCounters) {
  FakeTime time(kNoon);
  MeterPhysics m(1, time);
  time.Advance(10s);
  double wh = m.Advance().energy_import_wh;
  time.Advance(-5s);
  EXPECT_EQ(m.Advance().energy_import_wh, wh);
}

TEST(MeterPhysicsTest, NightLoadIsLowerThanDayLoad) {
  FakeTime time(kNoon);
  MeterPhysics m(SeedWith(false), time);
  double night = 0, day = 0;
  for (int i = 0; i < 60; ++i) {
    night += m.At(kNoon - 9h + std::chrono::minutes(i)).active_power_total();  // 03:00
    day += m.At(kNoon + 1h + std::chrono::minutes(i)).active_power_total();    // 13:00
  }
  EXPECT_LT(night, day);
}

}  // namespace
}  // namespace wattline::sim
