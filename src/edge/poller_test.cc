#include "edge/poller.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <map>

#include "modbus/tcp_server.h"
#include "sim/fleet.h"

namespace wattline::edge {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A port on which nobody listens: bind, read the port, close.
uint16_t DeadPort() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

class PollerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_.LoadDirectory(WATTLINE_PROFILES_DIR).ok());
    ASSERT_TRUE(fleet_.Start().ok());
    for (const auto& e : fleet_.endpoints()) {
      meters_.push_back({e.key, e.host, e.port, e.unit_id, e.profile, 1000ms});
    }
  }

  void RunFor(std::chrono::milliseconds d) {
    io_.restart();
    io_.run_for(d);
  }

  asio::io_context io_;
  profiles::ProfileRegistry registry_;
  sim::Fleet fleet_{
      io_, sim::FleetOptions{.meters = 3, .host = "127.0.0.1", .base_port = 0, .seed = 11}};
  std::vector<MeterConfig> meters_;
  std::map<std::string, std::vector<wire::MeterReading>> readings_;
};

TEST_F(PollerTest, PollsSimulatedMetersOnWallClockSeconds) {
  Poller poller(io_, registry_, meters_,
                [&](wire::MeterReading r) { readings_[r.device].push_back(std::move(r)); });
  ASSERT_TRUE(poller.Start().ok());
  RunFor(3200ms);
  poller.Stop();
  ASSERT_EQ(readings_.size(), 3u);
  for (const auto& [key, list] : readings_) {
    ASSERT_GE(list.size(), 2u) << key;
    for (const auto& r : list) {
      EXPECT_EQ(r.ts_ms % 1000, 0) << key;
      EXPECT_EQ(r.model, "Janitza UMG 96RM-E");
      ASSERT_EQ(r.values.size(), 29u);
      EXPECT_EQ(r.values[0].signal, "voltage_l1_n");
      EXPECT_GT(r.values[0].value, 200);
      EXPECT_LT(r.values[0].value, 260);
      for (const auto& v : r.values) EXPECT_EQ(v.quality, Quality::kGood) << v.signal;
    }
    EXPECT_LT(list[0].ts_ms, list[1].ts_ms);
  }
  for (const auto& s : poller.Statuses()) {
    EXPECT_TRUE(s.last_error.ok()) << s.key;
    EXPECT_EQ(s.error_count, 0u);
    EXPECT_GE(s.request_count, 2u);  // one block read per poll
    EXPECT_GT(s.last_success_ts_ms, 0);
    EXPECT_GE(s.last_response_time_ms, 0);
  }
}

TEST_F(PollerTest, DeadEndpointCountsErrorsWhileOthersDeliver) {
  meters_.push_back({"dead", "127.0.0.1", DeadPort(), 1, "janitza-umg96rm-e", 1000ms});
  Poller poller(io_, registry_, meters_,
                [&](wire::MeterReading r) { readings_[r.device].push_back(std::move(r)); });
  ASSERT_TRUE(poller.Start().ok());
  RunFor(3200ms);
  poller.Stop();
  EXPECT_EQ(readings_.count("dead"), 0u);
  EXPECT_EQ(readings_.size(), 3u);
  auto statuses = poller.Statuses();
  ASSERT_EQ(statuses.size(), 4u);
  EXPECT_EQ(statuses[3].key, "dead");
  EXPECT_GE(statuses[3].error_count, 2u);
  EXPECT_EQ(statuses[3].last_error.code(), Code::kUnavailable);
  EXPECT_EQ(statuses[3].last_success_ts_ms, 0);
}

TEST_F(PollerTest, SilentMeterTimesOutWithoutDelayingOthers) {
  modbus::TcpServer silent(io_, [](uint8_t, std::string_view) { return std::string(); });
  ASSERT_TRUE(silent.Listen("127.0.0.1", 0).ok());
  meters_.push_back({"silent", "127.0.0.1", silent.port(), 1, "janitza-umg96rm-e", 1000ms});
  PollerOptions options;
  options.client.request_timeout = 400ms;
  Poller poller(
      io_, registry_, meters_,
      [&](wire::MeterReading r) { readings_[r.device].push_back(std::move(r)); }, options);
  ASSERT_TRUE(poller.Start().ok());
  RunFor(3200ms);
  poller.Stop();
  EXPECT_EQ(readings_.count("silent"), 0u);
  for (const auto& e : fleet_.endpoints()) EXPECT_GE(readings_[e.key].size(), 2u) << e.key;
  EXPECT_EQ(poller.Statuses()[3].last_error.code(), Code::kDeadlineExceeded);
}

TEST_F(PollerTest, UnknownProfileFailsStart) {
  meters_[0].profile = "nope";
  Poller poller(io_, registry_, meters_, [](wire::MeterReading) {});
  EXPECT_EQ(poller.Start().code(), Code::kFailedPrecondition);
}

TEST(MeterConfigTest, ReadsMeterTables) {
  auto config = toml::parse(R"(
[[meter]]
key = "meter-01"
host = "127.0.0.1"
port = 40123
unit_id = 3
profile = "janitza-umg96rm-e"

[[meter]]
key = "meter-02"
host = "10.0.0.2"
port = 502
profile = "janitza-umg96rm-e"
cycle_ms = 5000
)");
  auto meters = MeterConfigsFromToml(config);
  ASSERT_TRUE(meters.has_value()) << meters.error().ToString();
  ASSERT_EQ(meters->size(), 2u);
  EXPECT_EQ((*meters)[0].port, 40123);
  EXPECT_EQ((*meters)[0].unit_id, 3);
  EXPECT_EQ((*meters)[1].unit_id, 1);
  EXPECT_EQ((*meters)[1].cycle, 5000ms);
}

TEST(MeterConfigTest, MissingPortNamesMeterAndLine) {
  auto config = toml::parse("[[meter]]\nkey = \"m1\"\nhost = \"h\"\nprofile = \"p\"\n");
  auto meters = MeterConfigsFromToml(config);
  ASSERT_FALSE(meters.has_value());
  EXPECT_NE(meters.error().message().find("m1"), std::string::npos) << meters.error().message();
  EXPECT_NE(meters.error().message().find("'port'"), std::string::npos);
}

TEST(MeterConfigTest, WrongTypeAndRangeAreRejected) {
  EXPECT_FALSE(MeterConfigsFromToml(
                   toml::parse("[[meter]]\nkey=\"a\"\nhost=\"h\"\nprofile=\"p\"\nport=\"502\"\n"))
                   .has_value());
  auto bad_unit = MeterConfigsFromToml(
      toml::parse("[[meter]]\nkey=\"a\"\nhost=\"h\"\nprofile=\"p\"\nport=502\nunit_id=300\n"));
  ASSERT_FALSE(bad_unit.has_value());
  EXPECT_NE(bad_unit.error().message().find("line 6"), std::string::npos)
      << bad_unit.error().message();
}

TEST(MeterConfigTest, DuplicateKeyIsRejected) {
  const char* one = "[[meter]]\nkey=\"a\"\nhost=\"h\"\nprofile=\"p\"\nport=502\n";
  EXPECT_FALSE(MeterConfigsFromToml(toml::parse(std::string(one) + one)).has_value());
}

TEST(MeterConfigTest, NoMetersIsEmpty) {
  auto meters = MeterConfigsFromToml(toml::parse("title = \"x\"\n"));
  ASSERT_TRUE(meters.has_value());
  EXPECT_TRUE(meters->empty());
}

}  // namespace
}  // namespace wattline::edge
