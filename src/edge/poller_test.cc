#include "edge/poller.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <map>

#include "modbus/pdu.h"
#include "modbus/tcp_server.h"
#include "sim/faults.h"
#include "sim/fleet.h"
#include "sim/gateway.h"

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

TEST_F(PollerTest, PollsSimulatedMetersInStaggeredSlotsOfTheSecond) {
  Poller poller(io_, registry_, meters_,
                [&](wire::MeterReading r) { readings_[r.device].push_back(std::move(r)); });
  ASSERT_TRUE(poller.Start().ok());
  RunFor(3200ms);
  poller.Stop();
  ASSERT_EQ(readings_.size(), 3u);
  // Three endpoints on a 1 s cycle: slots at +0, +333 and +666 ms of every second.
  std::map<std::string, int64_t> slot;
  for (size_t i = 0; i < meters_.size(); ++i) slot[meters_[i].key] = 1000 * int64_t(i) / 3;
  for (const auto& [key, list] : readings_) {
    ASSERT_GE(list.size(), 2u) << key;
    for (const auto& r : list) {
      EXPECT_EQ(r.ts_ms % 1000, slot[key]) << key;
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
  PollerOptions unstaggered;
  unstaggered.stagger = false;
  Poller poller(
      io_, registry_, meters_,
      [&](wire::MeterReading r) { readings_[r.device].push_back(std::move(r)); }, unstaggered);
  ASSERT_TRUE(poller.Start().ok());
  RunFor(3200ms);
  poller.Stop();
  EXPECT_EQ(readings_.count("dead"), 0u);
  EXPECT_EQ(readings_.size(), 3u);
  for (const auto& [key, list] : readings_) {
    for (const auto& r : list) EXPECT_EQ(r.ts_ms % 1000, 0) << key << ": not staggered";
  }
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

// A device that answers every register read with zeros (valid floats for any profile).
std::string ZeroMeter(uint8_t, std::string_view pdu) {
  auto r = modbus::DecodeReadRequest(pdu);
  if (!r)
    return modbus::EncodeException(pdu.empty() ? 0 : pdu[0],
                                   modbus::ExceptionCode::kIllegalFunction);
  return modbus::EncodeReadResponse(r->function, std::vector<uint16_t>(r->count));
}

TEST_F(PollerTest, GarbageAndWrongTransactionIdDoNotDelayOthers) {
  sim::FaultInjector garbage(ZeroMeter, {.garbage_rate = 1});
  sim::FaultInjector wrong_tid(ZeroMeter, {.wrong_tid_rate = 1});
  modbus::TcpServer garbage_server(io_, garbage.AsHandler());
  modbus::TcpServer wrong_tid_server(io_, wrong_tid.AsHandler());
  ASSERT_TRUE(garbage_server.Listen("127.0.0.1", 0).ok());
  ASSERT_TRUE(wrong_tid_server.Listen("127.0.0.1", 0).ok());
  meters_.push_back(
      {"garbage", "127.0.0.1", garbage_server.port(), 1, "janitza-umg96rm-e", 1000ms});
  meters_.push_back(
      {"wrong-tid", "127.0.0.1", wrong_tid_server.port(), 1, "janitza-umg96rm-e", 1000ms});
  PollerOptions options;
  options.client.request_timeout = 300ms;
  Poller poller(
      io_, registry_, meters_,
      [&](wire::MeterReading r) { readings_[r.device].push_back(std::move(r)); }, options);
  ASSERT_TRUE(poller.Start().ok());
  RunFor(3200ms);
  poller.Stop();
  EXPECT_EQ(readings_.count("garbage"), 0u);
  EXPECT_EQ(readings_.count("wrong-tid"), 0u);  // a reply with another id is never trusted
  for (const auto& e : fleet_.endpoints()) {
    ASSERT_GE(readings_[e.key].size(), 2u) << e.key;
    // Polls of healthy meters start on time: no reading is missing a slot.
    EXPECT_EQ(readings_[e.key].back().ts_ms - readings_[e.key].front().ts_ms,
              1000 * static_cast<int64_t>(readings_[e.key].size() - 1));
  }
  auto statuses = poller.Statuses();
  EXPECT_EQ(statuses[3].last_error.code(), Code::kInvalidArgument)
      << statuses[3].last_error.ToString();
  EXPECT_EQ(statuses[4].last_error.code(), Code::kDeadlineExceeded)
      << statuses[4].last_error.ToString();
  EXPECT_GT(garbage.stats().garbage, 0u);
  EXPECT_GT(wrong_tid.stats().wrong_tids, 0u);
}

TEST_F(PollerTest, GatewayMetersArePolledOneAfterAnotherWithBusTiming) {
  constexpr uint32_t kBaud = 38400;
  sim::Gateway gateway(io_, {.baud = kBaud});
  struct Arrival {
    std::chrono::steady_clock::time_point at;
    size_t request_size;
    size_t response_size;
  };
  std::vector<Arrival> arrivals;
  for (uint8_t unit : {1, 2, 3}) {
    gateway.AddUnit(unit, [&arrivals](uint8_t u, std::string_view pdu) {
      std::string reply = ZeroMeter(u, pdu);
      arrivals.push_back({std::chrono::steady_clock::now(), pdu.size(), reply.size()});
      return reply;
    });
  }
  ASSERT_TRUE(gateway.Listen("127.0.0.1", 0).ok());
  std::vector<MeterConfig> meters;
  for (uint8_t unit : {1, 2, 3}) {
    meters.push_back({"gw-" + std::to_string(unit), "127.0.0.1", gateway.port(), unit,
                      "janitza-umg96rm-e", 1000ms});
  }
  Poller poller(io_, registry_, meters,
                [&](wire::MeterReading r) { readings_[r.device].push_back(std::move(r)); });
  ASSERT_TRUE(poller.Start().ok());
  RunFor(2500ms);
  poller.Stop();
  for (const auto& m : meters) EXPECT_GE(readings_[m.key].size(), 2u) << m.key;
  ASSERT_GE(arrivals.size(), 6u);
  // All three meters are due at the same second (one endpoint, one slot); the gateway's line
  // serializes them, so each request arrives only after the previous reply and itself have
  // crossed the wire (besides the block reads there are the identity reads of first contact).
  auto block_bus =
      sim::Gateway::BusTime(modbus::EncodeReadRequest({3, 19000, 78})->size(), 2 + 2 * 78, kBaud);
  EXPECT_GT(block_bus, std::chrono::milliseconds(40));
  int close_pairs = 0;
  for (size_t i = 1; i < arrivals.size(); ++i) {
    auto gap = arrivals[i].at - arrivals[i - 1].at;
    auto bus =
        sim::Gateway::BusTime(arrivals[i].request_size, arrivals[i - 1].response_size, kBaud);
    if (gap < std::chrono::milliseconds(500)) {  // same cycle
      ++close_pairs;
      EXPECT_GE(gap, bus) << "request " << i;
    }
  }
  EXPECT_GE(close_pairs, 4);
  for (const auto& s : poller.Statuses()) EXPECT_EQ(s.error_count, 0u) << s.key;
}

TEST_F(PollerTest, MeterThatRejectsLargeReadsIsLearned) {
  sim::FaultInjector limited(ZeroMeter, {.max_read_registers = 21});
  modbus::TcpServer server(io_, limited.AsHandler());
  ASSERT_TRUE(server.Listen("127.0.0.1", 0).ok());
  std::vector<MeterConfig> meters{
      {"limited", "127.0.0.1", server.port(), 1, "janitza-umg96rm-e", 1000ms}};
  uint64_t rejected_after_first = 0;
  Poller poller(io_, registry_, meters, [&](wire::MeterReading r) {
    if (readings_[r.device].empty()) rejected_after_first = limited.stats().oversized_reads;
    readings_[r.device].push_back(std::move(r));
  });
  ASSERT_TRUE(poller.Start().ok());
  RunFor(3200ms);
  poller.Stop();
  ASSERT_GE(readings_["limited"].size(), 3u);
  EXPECT_GT(rejected_after_first, 0u);
  EXPECT_EQ(limited.stats().oversized_reads, rejected_after_first);  // none after the first poll
  auto s = poller.Statuses()[0];
  EXPECT_EQ(s.error_count, 0u);
  EXPECT_GT(s.split_count, 0u);
  EXPECT_TRUE(s.last_error.ok());
}

TEST_F(PollerTest, ProfilePauseSpacesRequestsToOneEndpoint) {
  auto slow = profiles::ParseProfile(R"(<profile vendor="Test" model="Slow" pause-ms="150">
  <signal name="voltage_l1_n" address="0" type="float32" unit="V"/>
</profile>)",
                                     "test-slow");
  ASSERT_TRUE(slow.has_value()) << slow.error().ToString();
  ASSERT_TRUE(registry_.Add(std::move(*slow)).ok());
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  modbus::TcpServer server(io_, [&](uint8_t unit, std::string_view pdu) {
    arrivals.push_back(std::chrono::steady_clock::now());
    return ZeroMeter(unit, pdu);
  });
  ASSERT_TRUE(server.Listen("127.0.0.1", 0).ok());
  // Two units behind one endpoint, due at the same instant: the second waits for the pause.
  std::vector<MeterConfig> meters{{"slow-1", "127.0.0.1", server.port(), 1, "test-slow", 1000ms},
                                  {"slow-2", "127.0.0.1", server.port(), 2, "test-slow", 1000ms}};
  Poller poller(io_, registry_, meters,
                [&](wire::MeterReading r) { readings_[r.device].push_back(std::move(r)); });
  ASSERT_TRUE(poller.Start().ok());
  RunFor(2600ms);
  poller.Stop();
  EXPECT_GE(readings_["slow-1"].size(), 2u);
  EXPECT_GE(readings_["slow-2"].size(), 2u);
  ASSERT_GE(arrivals.size(), 4u);
  for (size_t i = 1; i < arrivals.size(); ++i)
    EXPECT_GE(arrivals[i] - arrivals[i - 1], 150ms) << "request " << i;
}

// First contact with a meter whose profile has <clock> and <history> (testdata): the recorded
// 15-minute values before the first poll arrive as readings, in the connector's time although
// the meter's clock is an hour behind; the daily clock sync then sets the meter's clock.
TEST(PollerContactTest, DeliversRecordedHistoryAndSyncsTheClock) {
  asio::io_context io;
  profiles::ProfileRegistry registry;
  auto profile = profiles::LoadProfile(WATTLINE_TESTDATA_DIR "/profiles/wattline-test-history.xml");
  ASSERT_TRUE(profile.has_value()) << profile.error().ToString();
  const std::string id = profile->id;
  ASSERT_TRUE(registry.Add(std::move(*profile)).ok());
  sim::MeterFault skew{"meter-01", {}};
  skew.config.clock_offset_s = -3600;
  sim::Fleet fleet(io, sim::FleetOptions{.host = "127.0.0.1",
                                         .base_port = 0,
                                         .seed = 5,
                                         .types = {{id, 1}},
                                         .profiles = &registry,
                                         .faults = {skew}});
  ASSERT_TRUE(fleet.Start().ok());
  ASSERT_EQ(fleet.clock(0).offset, std::chrono::hours(-1));
  const auto& e = fleet.endpoints()[0];
  std::vector<MeterConfig> meters{{e.key, e.host, e.port, e.unit_id, id, 1000ms}};
  PollerOptions options;
  const int64_t now_s = ToUnixMs(RealTime().SystemNow()) / 1000;
  options.clock_sync_time = std::chrono::seconds((now_s + 3) % 86400);  // in about 3 s
  std::vector<wire::MeterReading> live, recorded;
  Poller poller(
      io, registry, meters,
      [&](wire::MeterReading r) { (r.values.size() == 1 ? recorded : live).push_back(r); },
      options);
  ASSERT_TRUE(poller.Start().ok());
  io.run_for(5500ms);
  poller.Stop();

  ASSERT_GE(live.size(), 3u);
  auto status = poller.Statuses()[0];
  EXPECT_TRUE(status.contacted);
  EXPECT_TRUE(status.contact_error.ok()) << status.contact_error.ToString();
  ASSERT_EQ(recorded.size(), 96u);
  EXPECT_EQ(status.history_records, 96u);
  for (size_t i = 0; i < recorded.size(); ++i) {
    const auto& r = recorded[i];
    EXPECT_EQ(r.values[0].signal, "active_energy_import");
    EXPECT_EQ(r.values[0].quality, Quality::kGood);
    EXPECT_LT(r.ts_ms, live.front().ts_ms);
    // On the quarter hour of the connector's clock, to the meter clock's one-second resolution.
    int64_t off_grid = r.ts_ms % 900'000;
    EXPECT_TRUE(off_grid <= 1000 || off_grid >= 899'000) << r.ts_ms;
    if (i > 0) {
      EXPECT_EQ(r.ts_ms - recorded[i - 1].ts_ms, 900'000);  // oldest first
      EXPECT_GE(r.values[0].value, recorded[i - 1].values[0].value);
    }
  }
  // The newest record is not above the live counter read after it.
  double live_counter = 0;
  for (const auto& v : live.front().values) {
    if (v.signal == "active_energy_import") live_counter = v.value;
  }
  EXPECT_LE(recorded.back().values[0].value, live_counter * (1 + 1e-6));
  // The clock sync ran: the meter's clock is the connector's again.
  EXPECT_GT(status.last_clock_sync_ms, 0);
  EXPECT_TRUE(status.clock_error.ok()) << status.clock_error.ToString();
  EXPECT_LT(std::abs(status.clock_drift_ms), 1500);
  EXPECT_LT(std::chrono::abs(fleet.clock(0).offset), std::chrono::milliseconds(1500));
}

TEST_F(PollerTest, FirstContactReadsTheIdentity) {
  sim::Fleet eastron(io_, sim::FleetOptions{.host = "127.0.0.1",
                                            .base_port = 0,
                                            .seed = 7,
                                            .types = {{"eastron-sdm630", 1}},
                                            .profiles = &registry_});
  ASSERT_TRUE(eastron.Start().ok());
  const auto& e = eastron.endpoints()[0];
  std::vector<MeterConfig> meters{{e.key, e.host, e.port, e.unit_id, e.profile, 1000ms}};
  Poller poller(io_, registry_, meters, [](wire::MeterReading) {});
  ASSERT_TRUE(poller.Start().ok());
  RunFor(2500ms);
  poller.Stop();
  auto status = poller.Statuses()[0];
  EXPECT_TRUE(status.contacted);
  EXPECT_TRUE(status.contact_error.ok()) << status.contact_error.ToString();
  ASSERT_EQ(status.identity.count("serial_number"), 1u);
  EXPECT_EQ(status.identity["serial_number"],
            eastron.register_map(0)->IdentityText("serial_number"));
  EXPECT_FALSE(status.identity["serial_number"].empty());
  EXPECT_EQ(status.history_records, 0u);  // no <history>
  EXPECT_FALSE(status.clock_known);       // no <clock>
}

TEST_F(PollerTest, UnknownProfileFailsStart) {
  meters_[0].profile = "nope";
  Poller poller(io_, registry_, meters_, [](wire::MeterReading) {});
  EXPECT_EQ(poller.Start().code(), Code::kFailedPrecondition);
}

TEST(MeterConfigTest, ReadsRtuAndSerialTransports) {
  auto meters = MeterConfigsFromToml(toml::parse(R"(
[[meter]]
key = "gw"
transport = "rtu-over-tcp"
host = "127.0.0.1"
port = 4001
baud = 19200
profile = "janitza-umg96rm-e"
pause_ms = 20

[[meter]]
key = "line"
transport = "serial"
serial_port = "/dev/ttyUSB0"
parity = "N"
stop_bits = 2
unit_id = 5
profile = "janitza-umg96rm-e"
)"));
  ASSERT_TRUE(meters.has_value()) << meters.error().ToString();
  ASSERT_EQ(meters->size(), 2u);
  EXPECT_EQ((*meters)[0].transport, Transport::kRtuOverTcp);
  EXPECT_EQ((*meters)[0].serial.baud, 19200u);
  EXPECT_EQ((*meters)[0].pause_between_requests, 20ms);
  EXPECT_EQ((*meters)[1].transport, Transport::kSerial);
  EXPECT_EQ((*meters)[1].serial.device, "/dev/ttyUSB0");
  EXPECT_EQ((*meters)[1].serial.parity, modbus::Parity::kNone);
  EXPECT_EQ((*meters)[1].serial.stop_bits, 2);
  EXPECT_EQ((*meters)[1].serial.baud, 9600u);
  EXPECT_EQ((*meters)[1].unit_id, 5);
}

TEST(MeterConfigTest, RejectsBadTransportSettings) {
  EXPECT_FALSE(MeterConfigsFromToml(toml::parse(
      "[[meter]]\nkey = \"a\"\ntransport = \"udp\"\nhost = \"h\"\nport = 1\nprofile = \"p\"\n")));
  EXPECT_FALSE(MeterConfigsFromToml(
      toml::parse("[[meter]]\nkey = \"a\"\ntransport = \"serial\"\nprofile = \"p\"\n")));
  EXPECT_FALSE(MeterConfigsFromToml(
      toml::parse("[[meter]]\nkey = \"a\"\ntransport = \"serial\"\nserial_port = \"/dev/x\"\n"
                  "parity = \"X\"\nprofile = \"p\"\n")));
  EXPECT_FALSE(MeterConfigsFromToml(
      toml::parse("[[meter]]\nkey = \"a\"\ntransport = \"serial\"\nserial_port = \"/dev/x\"\n"
                  "stop_bits = 3\nprofile = \"p\"\n")));
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
