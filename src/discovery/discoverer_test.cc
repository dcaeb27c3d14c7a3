#include "discovery/discoverer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <map>

#include "core/testing/run_until_done.h"
#include "discovery/responder.h"
#include "modbus/tcp_server.h"
#include "sim/fleet.h"

namespace wattline::discovery {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::RunUntilDone;

TEST(Ipv4RangeTest, CidrHostsLeaveOutNetworkAndBroadcast) {
  auto r = ParseCidrHosts("10.211.7.99/24");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(FormatIpv4(r->first), "10.211.7.1");
  EXPECT_EQ(FormatIpv4(r->last), "10.211.7.254");
  EXPECT_EQ(ParseCidrHosts("10.0.0.0/22")->size(), 1022u);
  EXPECT_EQ(ParseCidrHosts("10.0.0.5/32")->size(), 1u);
  EXPECT_EQ(ParseCidrHosts("10.0.0.4/31")->size(), 2u);
}

TEST(Ipv4RangeTest, RefusesLargeOrBadSubnets) {
  auto big = ParseCidrHosts("10.0.0.0/21");
  ASSERT_FALSE(big.has_value());
  EXPECT_NE(big.error().message().find("/22"), std::string::npos);
  for (const char* bad : {"10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0/24", "10.0.0.0/2x"}) {
    EXPECT_FALSE(ParseCidrHosts(bad).has_value()) << bad;
  }
}

TEST(Ipv4RangeTest, ParsesRanges) {
  auto r = ParseRange("127.0.1.1-127.0.1.40");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->size(), 40u);
  EXPECT_FALSE(ParseRange("127.0.1.9-127.0.1.1").has_value());
  EXPECT_FALSE(ParseRange("127.0.1.1").has_value());
  EXPECT_FALSE(ParseRange("10.0.0.0-10.0.255.255").has_value());
}

Device Dev(std::string host, uint8_t found_by, std::string profile = "p") {
  Device d;
  d.host = std::move(host);
  d.port = 502;
  d.unit_id = 1;
  d.profile = std::move(profile);
  d.found_by = found_by;
  return d;
}

TEST(MergeDevicesTest, CombinesFoundByAndKeepsFirstProfile) {
  std::vector<Device> all = {Dev("10.0.0.1", kFoundByBroadcast, "a")};
  MergeDevices(all, {Dev("10.0.0.1", kFoundByScan, "b"), Dev("10.0.0.2", kFoundByScan)});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].found_by, kFoundByBroadcast | kFoundByScan);
  EXPECT_EQ(all[0].profile, "a");
}

class ContinuousUpdateTest : public ::testing::Test {
 protected:
  asio::io_context io_;
  profiles::ProfileRegistry registry_;
  Discoverer discoverer_{io_.get_executor(), registry_, DiscovererOptions{}};
  std::vector<std::pair<std::string, bool>> events_;
  ContinuousDiscovery cd_{
      discoverer_,
      ContinuousOptions{.broadcast_interval = 1s, .scan_interval = 60s, .broadcast_misses = 2},
      [this](const Device& d, bool appeared) { events_.emplace_back(d.host, appeared); }};
};

TEST_F(ContinuousUpdateTest, ReportsNewOnceAndVanishedAfterMisses) {
  cd_.Update(kFoundByBroadcast, {Dev("10.0.0.1", kFoundByBroadcast)});
  cd_.Update(kFoundByBroadcast, {Dev("10.0.0.1", kFoundByBroadcast)});
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0], std::make_pair(std::string("10.0.0.1"), true));
  cd_.Update(kFoundByBroadcast, {});
  EXPECT_EQ(events_.size(), 1u);  // one miss is not enough
  cd_.Update(kFoundByScan, {});   // the scan never found it: says nothing
  EXPECT_EQ(events_.size(), 1u);
  cd_.Update(kFoundByBroadcast, {});
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(events_[1], std::make_pair(std::string("10.0.0.1"), false));
  EXPECT_TRUE(cd_.devices().empty());
  cd_.Update(kFoundByBroadcast, {Dev("10.0.0.1", kFoundByBroadcast)});
  EXPECT_EQ(events_.size(), 3u);  // back again
}

TEST_F(ContinuousUpdateTest, DeviceFoundBothWaysVanishesOnlyWhenBothMissIt) {
  cd_.Update(kFoundByBroadcast, {Dev("10.0.0.1", kFoundByBroadcast)});
  cd_.Update(kFoundByScan, {Dev("10.0.0.1", kFoundByScan)});
  cd_.Update(kFoundByBroadcast, {});
  cd_.Update(kFoundByBroadcast, {});
  EXPECT_EQ(events_.size(), 1u);  // the scan still counts it present
  cd_.Update(kFoundByScan, {});
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_FALSE(events_[1].second);
}

// Simulated meters on 127.0.1.x, one address each, all on the same TCP port, as on a LAN.
class LoopbackLanTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(registry_.LoadDirectory(WATTLINE_PROFILES_DIR).ok()); }

  // Starts a one-meter fleet of `type` on 127.0.1.`host`; the first one picks the port.
  void AddMeter(int host, const std::string& type) {
    auto fleet =
        std::make_unique<sim::Fleet>(io_, sim::FleetOptions{.meters = 1,
                                                            .host = fmt::format("127.0.1.{}", host),
                                                            .base_port = port_,
                                                            .seed = static_cast<uint64_t>(host),
                                                            .types = {{type, 1}},
                                                            .profiles = &registry_});
    Status s = fleet->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    port_ = fleet->endpoints()[0].port;
    expected_[fmt::format("127.0.1.{}", host)] = type;
    fleets_.push_back(std::move(fleet));
  }

  asio::io_context io_;
  profiles::ProfileRegistry registry_;
  std::vector<std::unique_ptr<sim::Fleet>> fleets_;
  uint16_t port_ = 0;
  std::map<std::string, std::string> expected_;  // host -> profile
};

TEST_F(LoopbackLanTest, ScanIdentifiesEveryMeterThroughTheProfiles) {
  // device-id rules (Janitza), register rules tied and settled by the FC43 name (Eastron),
  // FC43 name only (ABB, Carlo Gavazzi, Schneider: no <identify> rules).
  const std::vector<std::pair<int, std::string>> meters = {
      {2, "janitza-umg96rm-e"},  {3, "janitza-umg604-pro"}, {5, "eastron-sdm630"},
      {8, "eastron-sdm120"},     {11, "abb-b23"},           {13, "carlo-gavazzi-em24"},
      {17, "schneider-iem3255"}, {19, "janitza-umg103"}};
  for (const auto& [host, type] : meters) AddMeter(host, type);
  // A host that accepts TCP but never answers Modbus is not a device.
  modbus::TcpServer silent(io_, [](uint8_t, std::string_view) { return std::string(); });
  ASSERT_TRUE(silent.Listen("127.0.1.7", port_).ok());

  DiscovererOptions o;
  o.broadcast_interfaces = false;
  o.scan_ranges = {*ParseRange("127.0.1.1-127.0.1.20")};
  o.ports = {port_};
  o.connects_per_second = 40;
  o.max_parallel = 4;
  o.connect_timeout = 300ms;
  o.request_timeout = 300ms;
  Discoverer discoverer(io_.get_executor(), registry_, o);
  std::vector<std::pair<size_t, size_t>> progress;
  auto start = std::chrono::steady_clock::now();
  auto devices = RunUntilDone(
      io_, discoverer.Scan([&](size_t done, size_t total) { progress.emplace_back(done, total); }),
      30s);
  auto elapsed = std::chrono::steady_clock::now() - start;

  std::map<std::string, std::string> found;
  for (const auto& d : devices) {
    EXPECT_EQ(d.port, port_);
    EXPECT_EQ(d.found_by, kFoundByScan);
    EXPECT_FALSE(d.matched_by.empty()) << d.Key();
    found[d.host] = d.profile;
    if (d.profile == "eastron-sdm630") {
      EXPECT_EQ(d.serial, "70000005");  // from the identity registers
    }
  }
  EXPECT_EQ(found, expected_);
  // Rate limit: 20 connects at 40/s cannot start faster than 19/40 s.
  EXPECT_GE(elapsed, 19 * 1000ms / 40);
  ASSERT_EQ(progress.size(), 20u);
  EXPECT_EQ(progress.back(), std::make_pair(size_t{20}, size_t{20}));
}

TEST_F(LoopbackLanTest, ScanKeepsAtMostMaxParallelProbesInFlight) {
  // Eight hosts that accept TCP and never answer Modbus: each probe waits for two request
  // timeouts (FC43, then one register rule), about 400 ms, and finds nothing.
  std::vector<std::unique_ptr<modbus::TcpServer>> silent;
  uint16_t port = 0;
  for (int h = 50; h < 58; ++h) {
    silent.push_back(std::make_unique<modbus::TcpServer>(
        io_, [](uint8_t, std::string_view) { return std::string(); }));
    ASSERT_TRUE(silent.back()->Listen(fmt::format("127.0.1.{}", h), port).ok());
    port = silent.back()->port();
  }
  DiscovererOptions o;
  o.broadcast_interfaces = false;
  o.scan_ranges = {*ParseRange("127.0.1.50-127.0.1.57")};
  o.ports = {port};
  o.connects_per_second = 1000;
  o.max_parallel = 2;
  o.request_timeout = 200ms;
  Discoverer discoverer(io_.get_executor(), registry_, o);
  auto start = std::chrono::steady_clock::now();
  auto devices = RunUntilDone(io_, discoverer.Scan(), 30s);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(devices.empty());
  // Two at a time: four rounds of at least 400 ms. Unlimited, it would take one round.
  EXPECT_GE(elapsed, 1500ms);
  EXPECT_LT(elapsed, 10s);
}

TEST_F(LoopbackLanTest, UnknownModbusDeviceIsReportedWithoutProfile) {
  // Answers every register read with zeros and FC43 with an exception: no profile matches.
  modbus::TcpServer other(io_, [](uint8_t, std::string_view pdu) {
    std::string reply(1, static_cast<char>(static_cast<uint8_t>(pdu[0]) | 0x80));
    reply.push_back(0x01);
    return reply;
  });
  ASSERT_TRUE(other.Listen("127.0.1.30", 0).ok());
  DiscovererOptions o;
  o.broadcast_interfaces = false;
  o.request_timeout = 300ms;
  Discoverer discoverer(io_.get_executor(), registry_, o);
  auto devices = RunUntilDone(io_, discoverer.Identify("127.0.1.30", other.port()));
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_TRUE(devices[0].profile.empty());
  EXPECT_EQ(devices[0].identity, "unknown Modbus device");
}

TEST_F(LoopbackLanTest, BroadcastCollectsAnswersFromResponders) {
  std::vector<Answer> nodes;
  for (int i = 0; i < 3; ++i) {
    Answer a;
    a.kind = NodeKind::kMeter;
    a.identity = {.vendor = "Janitza",
                  .model = "UMG 96RM-E",
                  .serial = fmt::format("7000{}", i),
                  .name = fmt::format("meter-{}", i)};
    a.endpoints.push_back({.ipv4 = 0,
                           .port = static_cast<uint16_t>(5020 + i),
                           .unit_ids = {1},
                           .profile = "janitza-umg96rm-e"});
    nodes.push_back(a);
  }
  Responder responder(
      io_, nodes, ResponderOptions{.address = "127.0.0.9", .port = 0, .max_queries_per_second = 5});
  ASSERT_TRUE(responder.Start().ok());
  DiscovererOptions o;
  o.broadcast_interfaces = false;
  o.query_targets = {"127.0.0.9"};
  o.discovery_port = responder.port();
  o.answer_window = 300ms;
  Discoverer discoverer(io_.get_executor(), registry_, o);
  auto devices = RunUntilDone(io_, discoverer.Broadcast());
  ASSERT_EQ(devices.size(), 3u);
  for (const auto& d : devices) {
    EXPECT_EQ(d.host, "127.0.0.9");  // ipv4 0: the answer's source address
    EXPECT_EQ(d.profile, "janitza-umg96rm-e");
    EXPECT_EQ(d.matched_by, "announced");
    EXPECT_EQ(d.found_by, kFoundByBroadcast);
    EXPECT_EQ(d.identity, "Janitza UMG 96RM-E");
  }
}

TEST_F(LoopbackLanTest, ContinuousModeReportsAResponderStartedLater) {
  DiscovererOptions o;
  o.broadcast_interfaces = false;
  o.query_targets = {"127.0.0.10"};
  o.answer_window = 100ms;
  // Reserve a port for the late responder.
  Responder probe(
      io_, {}, ResponderOptions{.address = "127.0.0.10", .port = 0, .max_queries_per_second = 5});
  ASSERT_TRUE(probe.Start().ok());
  o.discovery_port = probe.port();
  probe.Stop();
  Discoverer discoverer(io_.get_executor(), registry_, o);
  std::vector<std::pair<Device, bool>> events;
  ContinuousDiscovery cd(
      discoverer,
      ContinuousOptions{.broadcast_interval = 150ms, .scan_interval = 0ms, .broadcast_misses = 2},
      [&](const Device& d, bool appeared) { events.emplace_back(d, appeared); });
  cd.Start();
  io_.run_for(500ms);
  EXPECT_TRUE(events.empty());
  Answer a;
  a.kind = NodeKind::kMeter;
  a.endpoints.push_back({.ipv4 = 0, .port = 502, .unit_ids = {1}, .profile = "abb-b23"});
  auto late = std::make_unique<Responder>(
      io_, std::vector<Answer>{a},
      ResponderOptions{
          .address = "127.0.0.10", .port = o.discovery_port, .max_queries_per_second = 50});
  ASSERT_TRUE(late->Start().ok());
  io_.restart();
  io_.run_for(600ms);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].second);
  EXPECT_EQ(events[0].first.profile, "abb-b23");
  late.reset();
  io_.restart();
  io_.run_for(800ms);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[1].second);
  cd.Stop();
  io_.restart();
  io_.run_for(200ms);
}

}  // namespace
}  // namespace wattline::discovery
