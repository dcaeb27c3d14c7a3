// One profile drives both sides: every bundled profile, served by the simulator, read with our
// Modbus client and the profile's read plan, decodes to the simulator's own physics values.
#include "sim/profile_register_map.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cmath>
#include <future>

#include "core/testing/run_until_done.h"
#include "modbus/device_identification.h"
#include "modbus/pdu.h"
#include "modbus/tcp_client.h"
#include "profiles/device_id.h"
#include "profiles/profile_registry.h"
#include "profiles/read_plan.h"
#include "sim/fake_time.h"
#include "sim/fleet.h"

namespace wattline::sim {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

using test::RunUntilDone;

// Reads every block of `plan` from the meter.
asio::awaitable<Result<std::vector<std::vector<uint16_t>>>> ReadPlanBlocks(
    modbus::TcpClient& client, const profiles::ReadPlan& plan) {
  std::vector<std::vector<uint16_t>> blocks;
  for (const auto& b : plan.blocks) {
    auto regs = co_await client.ReadRegisters(1, b.function, b.address, b.count);
    if (!regs) co_return Fail(regs.error());
    blocks.push_back(std::move(*regs));
  }
  co_return blocks;
}

class ProfileServedTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_.LoadDirectory(WATTLINE_PROFILES_DIR).ok());
    profile_ = registry_.Find(GetParam());
    ASSERT_NE(profile_, nullptr);
    fleet_ = std::make_unique<Fleet>(io_,
                                     FleetOptions{.host = "127.0.0.1",
                                                  .base_port = 0,
                                                  .seed = 3,
                                                  .types = {{GetParam(), 1}},
                                                  .profiles = &registry_},
                                     time_);
    ASSERT_TRUE(fleet_->Start().ok());
    client_ = std::make_unique<modbus::TcpClient>(io_.get_executor(), "127.0.0.1",
                                                  fleet_->endpoints()[0].port);
  }

  // The scaled resolution of one signal as served (one step of its integer type).
  double Resolution(const profiles::SignalSpec& s, const MeterState& state) const {
    bool is_float = s.type == modbus::ValueType::kFloat32 || s.type == modbus::ValueType::kFloat64;
    double sf = s.scale_register
                    ? std::pow(10.0, fleet_->register_map(0)->ScaleFactor(state, *s.scale_register))
                    : 1.0;
    return is_float ? 0 : std::abs(s.scale) * sf;
  }

  asio::io_context io_;
  FakeTime time_{SystemTime(std::chrono::hours(24 * 20000 + 12))};
  profiles::ProfileRegistry registry_;
  const profiles::Profile* profile_ = nullptr;
  std::unique_ptr<Fleet> fleet_;
  std::unique_ptr<modbus::TcpClient> client_;
};

TEST_P(ProfileServedTest, DecodedValuesMatchThePhysics) {
  profiles::ReadPlan plan = profiles::PlanReads(*profile_);
  auto blocks = RunUntilDone(io_, ReadPlanBlocks(*client_, plan));
  ASSERT_TRUE(blocks.has_value()) << blocks.error().ToString();
  auto values = profiles::Decode(*profile_, plan, *blocks);
  ASSERT_TRUE(values.has_value()) << values.error().ToString();
  // The clock does not move, so the state read equals the physics' current state.
  const MeterState& state = fleet_->physics(0).state();
  ASSERT_FALSE(values->empty());
  for (const auto& v : *values) {
    const profiles::SignalSpec* spec = nullptr;
    for (const auto& s : profile_->signals) {
      if (s.name == v.signal) spec = &s;
    }
    ASSERT_NE(spec, nullptr);
    double expected = PhysicsValue(state, v.signal).value_or(0);
    double tolerance = Resolution(*spec, state) / 2 + 1e-6 * std::abs(expected) + 1e-9;
    EXPECT_EQ(v.quality, Quality::kGood) << v.signal;
    EXPECT_NEAR(v.value, expected, tolerance) << GetParam() << " " << v.signal;
  }
  EXPECT_GT(state.voltage[0], 200);
}

TEST_P(ProfileServedTest, IdentityMatchesTheSimulator) {
  profiles::ReadPlan plan = profiles::PlanIdentityReads(*profile_);
  if (plan.blocks.empty()) GTEST_SKIP() << "no identity registers";
  auto blocks = RunUntilDone(io_, ReadPlanBlocks(*client_, plan));
  ASSERT_TRUE(blocks.has_value()) << blocks.error().ToString();
  auto identity = profiles::DecodeIdentity(*profile_, plan, *blocks);
  ASSERT_TRUE(identity.has_value());
  for (const auto& [name, text] : *identity) {
    EXPECT_EQ(text, fleet_->register_map(0)->IdentityText(name)) << name;
  }
}

TEST_P(ProfileServedTest, AnswersDeviceIdentificationFromTheProfile) {
  auto reply = RunUntilDone(io_, client_->Transact(1, modbus::EncodeDeviceIdRequest({})));
  ASSERT_TRUE(reply.has_value()) << reply.error().ToString();
  auto response = modbus::DecodeDeviceIdResponse(*reply);
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  const auto& objects = response->objects;
  ASSERT_EQ(objects.size(), 3u);
  if (!profile_->device_id_rules.empty()) {
    EXPECT_TRUE(profiles::MatchesDeviceId(*profile_, objects));
  } else {
    EXPECT_EQ(objects[profiles::kObjectVendorName].value, profile_->vendor);
    EXPECT_EQ(objects[profiles::kObjectProductCode].value, profile_->model);
  }
  auto one = RunUntilDone(
      io_,
      client_->Transact(1, modbus::EncodeDeviceIdRequest({modbus::DeviceIdCode::kSpecific, 2})));
  ASSERT_TRUE(one.has_value());
  auto revision = modbus::DecodeDeviceIdResponse(*one);
  ASSERT_TRUE(revision.has_value());
  ASSERT_EQ(revision->objects.size(), 1u);
  EXPECT_EQ(revision->objects[0].id, 2);
}

TEST_P(ProfileServedTest, ReadsLongerThanMaxRegistersGetException03) {
  const profiles::ReadBlock b = profiles::PlanReads(*profile_).blocks[0];
  if (profile_->max_registers >= modbus::kMaxReadRegisters) GTEST_SKIP();
  auto regs = RunUntilDone(
      io_, client_->ReadRegisters(1, b.function, b.address, profile_->max_registers + 1));
  ASSERT_FALSE(regs.has_value());
  EXPECT_NE(regs.error().message().find("exception 03"), std::string::npos)
      << regs.error().message();
}

TEST_P(ProfileServedTest, UnmappedAddressGetsException02) {
  const profiles::ReadBlock b = profiles::PlanReads(*profile_).blocks[0];
  uint16_t address = b.address >= 1000 ? b.address - 1000 : 60000;
  auto regs = RunUntilDone(io_, client_->ReadRegisters(1, b.function, address, 2));
  ASSERT_FALSE(regs.has_value());
  EXPECT_NE(regs.error().message().find("exception 02"), std::string::npos)
      << regs.error().message();
}

INSTANTIATE_TEST_SUITE_P(Bundled, ProfileServedTest,
                         ::testing::Values("janitza-umg96rm-e", "janitza-umg96-pa",
                                           "janitza-umg604-pro", "janitza-umg512-pro",
                                           "janitza-umg103", "eastron-sdm630", "eastron-sdm120",
                                           "abb-b23", "carlo-gavazzi-em24", "schneider-iem3255"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::erase(name, '-');
                           return name;
                         });

TEST(ProfileRegisterMapTest, ServesScaleRegistersInvertAndClock) {
  auto p = profiles::ParseProfile(R"(<profile vendor="V" model="M">
  <clock encoding="ymdhms-u16" address="100" year-base="2000"/>
  <signal name="voltage_l1_n" address="0" type="uint16" scale-register="2"/>
  <signal name="active_power_total" address="1" type="int16" scale-register="3" invert="true"/>
</profile>)");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  ProfileRegisterMap map(*p, 1);
  MeterState state;
  state.time = SystemTime(std::chrono::seconds(1700000000));  // 2023-11-14 22:13:20 UTC
  state.voltage = {231.27, 0, 0};
  state.active_power = {1000, 2000, 2500};
  auto answer = map.Answer(state, *modbus::EncodeReadRequest({3, 0, 4}));
  auto regs = modbus::DecodeReadResponse(answer, {3, 0, 4});
  ASSERT_TRUE(regs.has_value()) << regs.error().ToString();
  auto plan = profiles::PlanReads(*p);
  auto values = profiles::Decode(*p, plan, {*regs});
  ASSERT_TRUE(values.has_value());
  EXPECT_NEAR((*values)[0].value, 231.27, 0.01);
  EXPECT_NEAR((*values)[1].value, 5500, 1);
  EXPECT_EQ(static_cast<int16_t>((*regs)[1]), -5500);  // inverted on the wire

  auto clock = modbus::DecodeReadResponse(
      map.Answer(state, *modbus::EncodeReadRequest({3, 100, 6})), {3, 100, 6});
  ASSERT_TRUE(clock.has_value());
  EXPECT_EQ(*clock, (std::vector<uint16_t>{23, 11, 14, 22, 13, 20}));
}

TEST(ProfileRegisterMapTest, UnsupportedFunctionGetsException01) {
  auto p = profiles::ParseProfile(R"(<profile vendor="V" model="M">
  <signal name="frequency" address="0" type="uint16"/>
</profile>)");
  ASSERT_TRUE(p.has_value());
  ProfileRegisterMap map(*p, 1);
  EXPECT_EQ(map.Answer(MeterState{}, *modbus::EncodeReadRequest({4, 0, 1})),
            modbus::EncodeException(4, modbus::ExceptionCode::kIllegalFunction));
}

TEST(ParseMeterTypesTest, ParsesAMix) {
  auto t = ParseMeterTypes("janitza-umg96rm-e:5,eastron-sdm630:3,abb-b23");
  ASSERT_TRUE(t.has_value());
  ASSERT_EQ(t->size(), 3u);
  EXPECT_EQ((*t)[1].profile, "eastron-sdm630");
  EXPECT_EQ((*t)[1].count, 3);
  EXPECT_EQ((*t)[2].count, 1);
  EXPECT_TRUE(ParseMeterTypes("")->empty());
  EXPECT_FALSE(ParseMeterTypes("x:0").has_value());
  EXPECT_FALSE(ParseMeterTypes(":3").has_value());
  EXPECT_FALSE(ParseMeterTypes("x:abc").has_value());
}

TEST(FleetMixTest, MixedFleetNamesEachMetersProfile) {
  asio::io_context io;
  profiles::ProfileRegistry registry;
  ASSERT_TRUE(registry.LoadDirectory(WATTLINE_PROFILES_DIR).ok());
  Fleet fleet(io, FleetOptions{.base_port = 0,
                               .types = {{"janitza-umg96rm-e", 2}, {"eastron-sdm630", 1}},
                               .profiles = &registry});
  ASSERT_TRUE(fleet.Start().ok());
  ASSERT_EQ(fleet.endpoints().size(), 3u);
  EXPECT_EQ(fleet.endpoints()[2].profile, "eastron-sdm630");
  EXPECT_NE(fleet.MetersToml().find("profile = \"eastron-sdm630\""), std::string::npos);
}

TEST(FleetMixTest, UnknownTypeIsRejected) {
  asio::io_context io;
  Fleet fleet(io, FleetOptions{.base_port = 0, .types = {{"eastron-sdm630", 1}}});
  EXPECT_EQ(fleet.Start().code(), Code::kInvalidArgument);  // no registry
}

}  // namespace
}  // namespace wattline::sim
