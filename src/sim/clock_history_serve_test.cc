// The simulator's settable clock and recorded history, served through the test profile with
// <clock> and <history> and read back with the connector's helpers (profiles/clock_history.h).
#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "core/testing/run_until_done.h"
#include "modbus/pdu.h"
#include "modbus/tcp_client.h"
#include "profiles/clock_history.h"
#include "profiles/profile_registry.h"
#include "profiles/read_plan.h"
#include "profiles/signal_codec.h"
#include "sim/fake_time.h"
#include "sim/fleet.h"
#include "sim/meter_physics.h"
#include "sim/profile_register_map.h"
#include "sim/sim_config.h"

namespace wattline::sim {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using std::chrono::sys_seconds;
using test::RunUntilDone;

constexpr const char* kProfileId = "wattline-test-history";

profiles::Profile TestProfile() {
  auto p = profiles::LoadProfile(WATTLINE_TESTDATA_DIR "/profiles/wattline-test-history.xml");
  EXPECT_TRUE(p.has_value()) << p.error().ToString();
  return p.value_or(profiles::Profile{});
}

// 2026-03-10 at `time_of_day` UTC: evening, so every meter imports (no PV after 18:00).
SystemTime Evening(std::chrono::seconds time_of_day) {
  return SystemTime(std::chrono::sys_days(std::chrono::year(2026) / 3 / 10)) + time_of_day;
}

// One float32 step at `v`: how precisely a float32 register holds it.
double Ulp32(double v) {
  float f = static_cast<float>(v);
  return std::nextafter(f, std::numeric_limits<float>::infinity()) - f;
}

std::string ClockWritePdu(const profiles::ClockSpec& clock, sys_seconds t) {
  auto regs = profiles::EncodeClockWrite(clock, t);
  EXPECT_TRUE(regs.has_value());
  return *modbus::EncodeWriteMultipleRequest(
      {clock.write_address, regs.value_or(std::vector<uint16_t>{})});
}

// One simulated meter of the test profile, answered without a network.
class ServedMeter {
 public:
  ServedMeter(const profiles::Profile& profile, FakeTime& time, uint64_t seed = 5)
      : profile_(profile), physics_(seed, time), map_(profile, 70000001) {}

  std::string Ask(std::string_view pdu) { return map_.Answer(physics_, clock_, pdu); }

  std::vector<uint16_t> Read(const profiles::ReadBlock& b) {
    modbus::ReadRequest request{b.function, b.address, b.count};
    auto regs = modbus::DecodeReadResponse(Ask(*modbus::EncodeReadRequest(request)), request);
    EXPECT_TRUE(regs.has_value()) << regs.error().ToString();
    return regs.value_or(std::vector<uint16_t>(b.count, 0));
  }

  sys_seconds Clock() {
    auto t = profiles::DecodeClock(*profile_.clock, Read(*profiles::PlanClockRead(profile_)));
    EXPECT_TRUE(t.has_value()) << t.error().ToString();
    return t.value_or(sys_seconds{});
  }

  // The live import counter as served (float32 Wh).
  double ImportWh() {
    auto plan = profiles::PlanReads(profile_);
    std::vector<std::vector<uint16_t>> blocks;
    for (const auto& b : plan.blocks) blocks.push_back(Read(b));
    auto values = profiles::Decode(profile_, plan, blocks);
    EXPECT_TRUE(values.has_value());
    for (const auto& v : values.value_or(std::vector<wire::SignalValue>{})) {
      if (v.signal == "active_energy_import") return v.value;
    }
    ADD_FAILURE() << "no active_energy_import";
    return 0;
  }

  std::vector<profiles::HistoryRecord> History() {
    sys_seconds now = Clock();
    std::vector<std::vector<uint16_t>> blocks;
    auto plan = profiles::PlanHistoryReads(profile_);
    EXPECT_TRUE(plan.has_value());
    if (!plan) return {};
    for (const auto& b : *plan) blocks.push_back(Read(b));
    auto records = profiles::DecodeHistory(profile_, blocks, now);
    EXPECT_TRUE(records.has_value()) << records.error().ToString();
    return records.value_or(std::vector<profiles::HistoryRecord>{});
  }

  MeterClock& clock() { return clock_; }
  MeterPhysics& physics() { return physics_; }

 private:
  const profiles::Profile& profile_;
  MeterPhysics physics_;
  MeterClock clock_;
  ProfileRegisterMap map_;
};

TEST(SimClockTest, WriteSetsTheClockAndItKeepsRunning) {
  profiles::Profile p = TestProfile();
  FakeTime time(Evening(18h + 52min + 10s));
  ServedMeter meter(p, time);
  EXPECT_EQ(meter.Clock(), sys_seconds(std::chrono::floor<std::chrono::seconds>(time.SystemNow())));

  sys_seconds set = sys_seconds(std::chrono::sys_days(std::chrono::year(2031) / 2 / 28)) + 23h;
  std::string pdu = ClockWritePdu(*p.clock, set);
  EXPECT_EQ(meter.Ask(pdu), modbus::EncodeWriteMultipleResponse(510, 6));
  EXPECT_EQ(meter.Clock(), set);
  time.Advance(3601s);
  EXPECT_EQ(meter.Clock(), set + 3601s);  // 2031-03-01 00:00:01: the offset persists
  EXPECT_EQ(meter.clock().offset, SystemTime(set) - Evening(18h + 52min + 10s));
}

TEST(SimClockTest, BadClockWritesGetExceptions) {
  profiles::Profile p = TestProfile();
  FakeTime time(Evening(19h));
  ServedMeter meter(p, time);
  auto write = [&](uint16_t address, std::vector<uint16_t> values) {
    return meter.Ask(*modbus::EncodeWriteMultipleRequest({address, std::move(values)}));
  };
  auto exception = [](modbus::ExceptionCode code) {
    return modbus::EncodeException(modbus::kWriteMultipleRegisters, code);
  };
  const auto kValue = modbus::ExceptionCode::kIllegalDataValue;
  const auto kAddress = modbus::ExceptionCode::kIllegalDataAddress;
  EXPECT_EQ(write(510, {26, 3, 10, 20, 0}), exception(kValue));          // five of six
  EXPECT_EQ(write(512, {10, 20, 0, 0, 0, 0}), exception(kValue));        // shifted
  EXPECT_EQ(write(510, {26, 13, 10, 20, 0, 0}), exception(kValue));      // month 13
  EXPECT_EQ(write(510, {25, 2, 29, 20, 0, 0}), exception(kValue));       // no leap year
  EXPECT_EQ(write(510, {7999, 1, 1, 0, 0, 0}), exception(kValue));       // year 9999
  EXPECT_EQ(write(509, {0, 26, 3, 10, 20, 0, 0}), exception(kAddress));  // one too many
  EXPECT_EQ(write(700, {1}), exception(kAddress));                       // not the clock
  EXPECT_EQ(write(500, {26, 3, 10, 20, 0, 0}), exception(kAddress));     // read address
  EXPECT_EQ(meter.Ask(std::string("\x10\x01\xFE\x00\x01\x02\x00", 7)), exception(kValue));
  EXPECT_EQ(meter.clock().offset, SystemTime::duration(0));
  EXPECT_EQ(write(510, {25, 2, 28, 20, 0, 0}), modbus::EncodeWriteMultipleResponse(510, 6));
  EXPECT_EQ(meter.Clock(),
            sys_seconds(std::chrono::sys_days(std::chrono::year(2025) / 2 / 28)) + 20h);
}

TEST(SimClockTest, ProfileWithoutClockRejectsWritesAsIllegalFunction) {
  auto p = profiles::ParseProfile(R"(<profile vendor="V" model="M">
  <signal name="frequency" address="0" type="uint16"/>
</profile>)");
  ASSERT_TRUE(p.has_value());
  FakeTime time(Evening(19h));
  MeterPhysics physics(1, time);
  MeterClock clock;
  ProfileRegisterMap map(*p, 1);
  auto pdu = *modbus::EncodeWriteMultipleRequest({0, {1, 2}});
  EXPECT_EQ(map.Answer(physics, clock, pdu),
            modbus::EncodeException(16, modbus::ExceptionCode::kIllegalFunction));
}

TEST(SimHistoryTest, NewestRecordEqualsTheLiveCounterAtTheIntervalEnd) {
  profiles::Profile p = TestProfile();
  // The simulator starts at 18:52: the records up to 18:45 lie before its start.
  FakeTime time(Evening(18h + 52min));
  ServedMeter meter(p, time);
  time.Advance(8min);
  double live_at_19 = meter.ImportWh();
  time.Advance(5min + 17s);
  auto records = meter.History();
  ASSERT_EQ(records.size(), 96u);
  EXPECT_EQ(records[0].end, sys_seconds(std::chrono::floor<std::chrono::seconds>(Evening(19h))));
  EXPECT_EQ(records[0].quality, Quality::kGood);
  EXPECT_NEAR(records[0].value, live_at_19, Ulp32(live_at_19) + 1000 * Ulp32(live_at_19 / 1000));
  EXPECT_GT(records[0].value, records[1].value);  // the evening load imports
  for (size_t i = 1; i < records.size(); ++i) {
    EXPECT_EQ(records[i].end, records[i - 1].end - 15min) << i;
    EXPECT_EQ(records[i].quality, Quality::kGood) << i;
    EXPECT_LE(records[i].value, records[i - 1].value) << i;  // an import counter only grows
  }
  // A day of household load: more than a few kWh, less than the meter's limit of ~3 x 5 kW.
  double day_wh = records[0].value - records[95].value;
  EXPECT_GT(day_wh, 3000);
  EXPECT_LT(day_wh, 95 * 0.25 * 15000);
}

TEST(SimHistoryTest, RecordsShiftWhenAnIntervalPasses) {
  profiles::Profile p = TestProfile();
  FakeTime time(Evening(19h + 3min));
  ServedMeter meter(p, time);
  auto before = meter.History();
  time.Advance(15min);
  auto after = meter.History();
  ASSERT_EQ(before.size(), 96u);
  ASSERT_EQ(after.size(), 96u);
  EXPECT_EQ(after[0].end, before[0].end + 15min);
  EXPECT_GT(after[0].value, before[0].value);
  for (size_t i = 0; i + 1 < after.size(); ++i) {
    EXPECT_EQ(after[i + 1].end, before[i].end);
    EXPECT_NEAR(after[i + 1].value, before[i].value, 1000 * Ulp32(before[i].value / 1000)) << i;
  }
}

TEST(SimHistoryTest, RecordsFollowTheMetersClock) {
  profiles::Profile p = TestProfile();
  FakeTime time(Evening(19h + 7min));
  ServedMeter meter(p, time);
  // The meter's clock is 7 minutes behind: its 19:00 record is the counter right now.
  meter.clock().offset = -7min;
  auto records = meter.History();
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records[0].end, sys_seconds(std::chrono::floor<std::chrono::seconds>(Evening(19h))));
  double live = meter.ImportWh();
  EXPECT_NEAR(records[0].value, live, Ulp32(live) + 1000 * Ulp32(live / 1000));
}

TEST(SimHistoryTest, FrozenStateServesRecordsAsInvalid) {
  profiles::Profile p = TestProfile();
  ProfileRegisterMap map(p, 1);
  MeterState state;
  state.time = Evening(19h);
  auto plan = profiles::PlanHistoryReads(p);
  ASSERT_TRUE(plan.has_value());
  std::vector<std::vector<uint16_t>> blocks;
  for (const auto& b : *plan) {
    modbus::ReadRequest request{b.function, b.address, b.count};
    auto regs =
        modbus::DecodeReadResponse(map.Answer(state, *modbus::EncodeReadRequest(request)), request);
    ASSERT_TRUE(regs.has_value());
    blocks.push_back(*regs);
  }
  auto records = profiles::DecodeHistory(
      p, blocks, sys_seconds(std::chrono::floor<std::chrono::seconds>(state.time)));
  ASSERT_TRUE(records.has_value());
  ASSERT_EQ(records->size(), 96u);
  for (const auto& r : *records) EXPECT_EQ(r.quality, Quality::kInvalid);
}

TEST(SimHistoryTest, ReadsInsideTheHistoryAreServedAndBeyondItAreNot) {
  profiles::Profile p = TestProfile();
  FakeTime time(Evening(19h + 1min));
  ServedMeter meter(p, time);
  auto all = meter.History();
  ASSERT_EQ(all.size(), 96u);
  // Records 10 and 11 alone.
  auto regs = meter.Read({3, 1020, 4});
  auto spec = profiles::HistoryRecordSpec(p);
  ASSERT_TRUE(spec.has_value());
  for (size_t k = 0; k < 2; ++k) {
    auto v = profiles::DecodeNumber(*spec, std::span<const uint16_t>(regs).subspan(2 * k, 2));
    ASSERT_TRUE(v.has_value());
    EXPECT_NEAR(v->value, all[10 + k].value, 1000 * Ulp32(all[10 + k].value / 1000));
  }
  modbus::ReadRequest past_end{3, 1190, 4};  // records 95 and one beyond
  EXPECT_EQ(meter.Ask(*modbus::EncodeReadRequest(past_end)),
            modbus::EncodeException(3, modbus::ExceptionCode::kIllegalDataAddress));
}

// Over real TCP: our Modbus client against a fleet serving the test profile.
class SimClockHistoryTcpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_.Add(TestProfile()).ok());
    profile_ = registry_.Find(kProfileId);
    ASSERT_NE(profile_, nullptr);
  }

  Status StartFleet(std::vector<MeterFault> faults = {}) {
    fleet_ = std::make_unique<Fleet>(io_,
                                     FleetOptions{.host = "127.0.0.1",
                                                  .base_port = 0,
                                                  .seed = 11,
                                                  .types = {{kProfileId, 2}},
                                                  .profiles = &registry_,
                                                  .faults = std::move(faults)},
                                     time_);
    return fleet_->Start();
  }

  std::unique_ptr<modbus::TcpClient> Client(size_t meter) {
    return std::make_unique<modbus::TcpClient>(io_.get_executor(), "127.0.0.1",
                                               fleet_->endpoints()[meter].port);
  }

  Result<sys_seconds> ReadClock(modbus::TcpClient& client) {
    auto b = profiles::PlanClockRead(*profile_);
    if (!b) return Fail(b.error());
    auto regs = RunUntilDone(io_, client.ReadRegisters(1, b->function, b->address, b->count));
    if (!regs) return Fail(regs.error());
    return profiles::DecodeClock(*profile_->clock, *regs);
  }

  Result<std::vector<profiles::HistoryRecord>> ReadHistory(modbus::TcpClient& client) {
    auto now = ReadClock(client);
    if (!now) return Fail(now.error());
    auto plan = profiles::PlanHistoryReads(*profile_);
    if (!plan) return Fail(plan.error());
    std::vector<std::vector<uint16_t>> blocks;
    for (const auto& b : *plan) {
      auto regs = RunUntilDone(io_, client.ReadRegisters(1, b.function, b.address, b.count));
      if (!regs) return Fail(regs.error());
      blocks.push_back(std::move(*regs));
    }
    return profiles::DecodeHistory(*profile_, blocks, *now);
  }

  asio::io_context io_;
  FakeTime time_{Evening(19h + 30min)};
  profiles::ProfileRegistry registry_;
  const profiles::Profile* profile_ = nullptr;
  std::unique_ptr<Fleet> fleet_;
};

TEST_F(SimClockHistoryTcpTest, SetsTheClockAndReadsTheHistory) {
  ASSERT_TRUE(StartFleet().ok());
  auto client = Client(0);
  auto other = Client(1);
  sys_seconds sim_now(std::chrono::floor<std::chrono::seconds>(time_.SystemNow()));

  auto before = ReadHistory(*client);
  ASSERT_TRUE(before.has_value()) << before.error().ToString();
  ASSERT_EQ(before->size(), 96u);
  EXPECT_EQ(profiles::PlanHistoryReads(*profile_)->size(), 2u);  // 192 registers, 100 per read
  EXPECT_EQ((*before)[0].end, sim_now);  // 19:30: that interval has just ended
  // The newest record is the live counter now.
  double live = fleet_->physics(0).state().energy_import_wh;
  EXPECT_NEAR((*before)[0].value, live, 1000 * Ulp32(live / 1000));
  for (size_t i = 1; i < before->size(); ++i) {
    EXPECT_LE((*before)[i].value, (*before)[i - 1].value) << i;
    EXPECT_EQ((*before)[i].quality, Quality::kGood) << i;
  }

  // Set meter-01's clock an hour ahead.
  sys_seconds set = sim_now + 1h;
  auto regs = profiles::EncodeClockWrite(*profile_->clock, set);
  ASSERT_TRUE(regs.has_value());
  modbus::WriteMultipleRequest write{profile_->clock->write_address, *regs};
  auto reply = RunUntilDone(io_, client->Transact(1, *modbus::EncodeWriteMultipleRequest(write)));
  ASSERT_TRUE(reply.has_value()) << reply.error().ToString();
  EXPECT_TRUE(modbus::CheckWriteMultipleResponse(*reply, write).ok());
  time_.Advance(2s);
  auto read_back = ReadClock(*client);
  ASSERT_TRUE(read_back.has_value()) << read_back.error().ToString();
  EXPECT_EQ(*read_back, set + 2s);
  EXPECT_EQ(*ReadClock(*other), sim_now + 2s);  // meter-02 keeps its own clock

  // The records follow the meter's clock: each is an hour later by the meter's clock, and still
  // the counter at the same instant of the simulator.
  auto after = ReadHistory(*client);
  ASSERT_TRUE(after.has_value()) << after.error().ToString();
  ASSERT_EQ(after->size(), before->size());
  for (size_t i = 0; i < after->size(); ++i) {
    EXPECT_EQ((*after)[i].end, (*before)[i].end + 1h) << i;
    EXPECT_NEAR((*after)[i].value, (*before)[i].value, 1000 * Ulp32((*before)[i].value / 1000))
        << i;
  }
}

TEST_F(SimClockHistoryTcpTest, ConfiguredClockOffsetSkewsOneMeter) {
  toml::table config = toml::parse(R"([[fault]]
meter = "meter-02"
clock_offset_s = -300
)");
  auto faults = ParseFaults(config);
  ASSERT_TRUE(faults.has_value()) << faults.error().ToString();
  ASSERT_TRUE(StartFleet(*faults).ok());
  sys_seconds sim_now(std::chrono::floor<std::chrono::seconds>(time_.SystemNow()));
  auto first = Client(0);
  auto second = Client(1);
  EXPECT_EQ(*ReadClock(*first), sim_now);
  EXPECT_EQ(*ReadClock(*second), sim_now - 300s);

  // Another fault for meter-02 leaves its clock alone; a new offset sets it again.
  auto changed =
      fleet_->ApplyFaults({{"meter-02", FaultConfig{.latency = 1ms, .clock_offset_s = -300}}});
  ASSERT_TRUE(changed.has_value());
  fleet_->clock(1).offset += 10s;  // as if the connector had nudged it
  changed = fleet_->ApplyFaults({{"meter-02", FaultConfig{.clock_offset_s = -300}}});
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ(*ReadClock(*second), sim_now - 290s);
  changed = fleet_->ApplyFaults({{"meter-02", FaultConfig{.clock_offset_s = 60}}});
  ASSERT_TRUE(changed.has_value());
  ASSERT_EQ(changed->size(), 1u);
  EXPECT_EQ((*changed)[0], "meter-02: clock_offset_s=-300 -> clock_offset_s=60");
  EXPECT_EQ(*ReadClock(*second), sim_now + 60s);
  EXPECT_EQ(*ReadClock(*first), sim_now);
}

TEST(SimConfigClockTest, RejectsAnOffsetBeyondTenYears) {
  toml::table config = toml::parse(R"([[fault]]
meter = "meter-01"
clock_offset_s = 400000000
)");
  auto faults = ParseFaults(config);
  ASSERT_FALSE(faults.has_value());
  EXPECT_NE(faults.error().message().find("clock_offset_s"), std::string::npos);
}

}  // namespace
}  // namespace wattline::sim
