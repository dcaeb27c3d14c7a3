#include "sim/sim_config.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>

#include "core/testing/run_until_done.h"
#include "modbus/pdu.h"
#include "modbus/tcp_client.h"

namespace wattline::sim {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

using test::RunUntilDone;

class SimConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(registry_.LoadDirectory(WATTLINE_PROFILES_DIR).ok()); }

  Result<SimConfig> Parse(std::string_view text) {
    return ParseSimConfig(toml::parse(text), &registry_);
  }
  // The error message of parsing `text`, which must fail.
  std::string Error(std::string_view text) {
    auto config = Parse(text);
    EXPECT_FALSE(config.has_value()) << text;
    return config ? "" : config.error().message();
  }

  profiles::ProfileRegistry registry_;
};

TEST_F(SimConfigTest, ParsesGatewaysAndFaults) {
  auto config = Parse(R"(
[[gateway]]
port = 1502
baud = 19200
meters = ["eastron-sdm630:3", "abb-b23:2"]

[[gateway]]
meters = ["janitza-umg96rm-e"]

[[fault]]
meter = "meter-03"
latency_ms = 20
exception_rate = 0.5
exception = 0x0B
max_read_registers = 10
)");
  ASSERT_TRUE(config.has_value()) << config.error().ToString();
  ASSERT_EQ(config->gateways.size(), 2u);
  EXPECT_EQ(config->gateways[0].port, 1502);
  EXPECT_EQ(config->gateways[0].baud, 19200u);
  ASSERT_EQ(config->gateways[0].meters.size(), 2u);
  EXPECT_EQ(config->gateways[0].meters[0].profile, "eastron-sdm630");
  EXPECT_EQ(config->gateways[0].meters[0].count, 3);
  EXPECT_EQ(config->gateways[0].meters[1].count, 2);
  EXPECT_EQ(config->gateways[1].port, 0);
  EXPECT_EQ(config->gateways[1].baud, 9600u);
  EXPECT_EQ(config->gateways[1].meters[0].count, 1);
  ASSERT_EQ(config->faults.size(), 1u);
  const auto& f = config->faults[0];
  EXPECT_EQ(f.meter, "meter-03");
  EXPECT_EQ(f.config.latency, 20ms);
  EXPECT_EQ(f.config.exception_rate, 0.5);
  EXPECT_EQ(f.config.exception, 0x0B);
  EXPECT_EQ(f.config.max_read_registers, 10);
  EXPECT_EQ(f.config.timeout_rate, 0);
}

TEST_F(SimConfigTest, EmptyConfigHasNothing) {
  auto config = Parse("meters = 3\n");
  ASSERT_TRUE(config.has_value());
  EXPECT_TRUE(config->gateways.empty());
  EXPECT_TRUE(config->faults.empty());
}

TEST_F(SimConfigTest, UnknownGatewayKey) {
  EXPECT_NE(
      Error("[[gateway]]\nmeters = [\"abb-b23\"]\nspeed = 9600\n").find("unknown key 'speed'"),
      std::string::npos);
}

TEST_F(SimConfigTest, UnknownFaultKey) {
  EXPECT_NE(Error("[[fault]]\nmeter = \"meter-01\"\nlatency = 5\n").find("unknown key 'latency'"),
            std::string::npos);
}

TEST_F(SimConfigTest, UnknownMeterType) {
  EXPECT_NE(
      Error("[[gateway]]\nmeters = [\"acme-9000:2\"]\n").find("unknown meter type 'acme-9000'"),
      std::string::npos);
}

TEST_F(SimConfigTest, BadCount) {
  EXPECT_NE(Error("[[gateway]]\nmeters = [\"abb-b23:0\"]\n").find("count not in 1..1000"),
            std::string::npos);
}

TEST_F(SimConfigTest, GatewayWithoutMeters) {
  EXPECT_NE(Error("[[gateway]]\nport = 1502\n").find("meters = "), std::string::npos);
}

TEST_F(SimConfigTest, TooManyUnitsOnOneGateway) {
  EXPECT_NE(Error("[[gateway]]\nmeters = [\"abb-b23:200\", \"abb-b23:48\"]\n").find("at most 247"),
            std::string::npos);
}

TEST_F(SimConfigTest, PortOutOfRange) {
  EXPECT_NE(Error("[[gateway]]\nport = 70000\nmeters = [\"abb-b23\"]\n").find("port = 70000"),
            std::string::npos);
}

TEST_F(SimConfigTest, RateOutsideZeroToOne) {
  EXPECT_NE(Error("[[fault]]\nmeter = \"meter-01\"\ntimeout_rate = 1.5\n").find("outside 0..1"),
            std::string::npos);
  EXPECT_NE(Error("[[fault]]\nmeter = \"meter-01\"\ndrop_rate = -0.1\n").find("outside 0..1"),
            std::string::npos);
}

TEST_F(SimConfigTest, RateOfWrongType) {
  EXPECT_NE(
      Error("[[fault]]\nmeter = \"meter-01\"\ngarbage_rate = \"often\"\n").find("must be a number"),
      std::string::npos);
}

TEST_F(SimConfigTest, UnsupportedExceptionCode) {
  EXPECT_NE(Error("[[fault]]\nmeter = \"meter-01\"\nexception = 3\n").find("not 2, 4, 6 or 0x0B"),
            std::string::npos);
}

TEST_F(SimConfigTest, FaultWithoutMeter) {
  EXPECT_NE(Error("[[fault]]\nlatency_ms = 5\n").find("meter = \"meter-NN\" is required"),
            std::string::npos);
}

TEST_F(SimConfigTest, FaultGivenTwice) {
  EXPECT_NE(Error("[[fault]]\nmeter = \"meter-01\"\n[[fault]]\nmeter = \"meter-01\"\n")
                .find("given twice"),
            std::string::npos);
}

TEST_F(SimConfigTest, GatewayNotAListOfTables) {
  EXPECT_NE(Error("[gateway]\nport = 1\n").find("list of [[gateway]] tables"), std::string::npos);
}

class GatewayFleetTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(registry_.LoadDirectory(WATTLINE_PROFILES_DIR).ok()); }
  profiles::ProfileRegistry registry_;
  asio::io_context io_;
};

TEST_F(GatewayFleetTest, OneGatewayAnswersEachUnitThroughOnePort) {
  Fleet fleet(io_, FleetOptions{.host = "127.0.0.1",
                                .base_port = 0,
                                .types = {{"janitza-umg96rm-e", 1}},
                                .profiles = &registry_,
                                .gateways = {{.port = 0,
                                              .baud = 115200,
                                              .meters = {{"eastron-sdm630", 2}, {"abb-b23", 1}}}}});
  ASSERT_TRUE(fleet.Start().ok());
  const auto& e = fleet.endpoints();
  ASSERT_EQ(e.size(), 4u);
  EXPECT_FALSE(e[0].via_gateway);
  uint16_t port = e[1].port;
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_TRUE(e[i].via_gateway);
    EXPECT_EQ(e[i].port, port);
    EXPECT_EQ(e[i].unit_id, i);
  }
  EXPECT_NE(e[0].port, port);
  EXPECT_EQ(e[3].profile, "abb-b23");
  EXPECT_NE(fleet.MetersToml().find("unit_id = 3\nprofile = \"abb-b23\"\ntransport = \"tcp\"\n"),
            std::string::npos);

  modbus::TcpClient client(io_.get_executor(), "127.0.0.1", port);
  // SDM630 voltage L1 (fc 04 at 0) on units 1 and 2; unit 3 is the B23.
  for (uint8_t unit : {1, 2}) {
    auto regs = RunUntilDone(io_, client.ReadRegisters(unit, 4, 0, 2));
    ASSERT_TRUE(regs.has_value()) << "unit " << int(unit) << ": " << regs.error().ToString();
  }
  EXPECT_EQ(fleet.faults(1).stats().requests, 1u);
  EXPECT_EQ(fleet.faults(2).stats().requests, 1u);
  auto unknown = RunUntilDone(io_, client.ReadRegisters(9, 4, 0, 2));
  EXPECT_FALSE(unknown.has_value());  // exception 0B from the gateway
}

TEST_F(GatewayFleetTest, MaxReadRegistersFaultAndRunTimeClear) {
  auto config = ParseSimConfig(toml::parse(R"(
[[gateway]]
meters = ["janitza-umg96rm-e:3"]

[[fault]]
meter = "meter-03"
max_read_registers = 10
)"),
                               &registry_);
  ASSERT_TRUE(config.has_value()) << config.error().ToString();
  Fleet fleet(io_, FleetOptions{.host = "127.0.0.1",
                                .base_port = 0,
                                .profiles = &registry_,
                                .gateways = config->gateways,
                                .faults = config->faults});
  ASSERT_TRUE(fleet.Start().ok());
  ASSERT_EQ(fleet.endpoints().size(), 3u);
  EXPECT_EQ(fleet.faults(2).config().max_read_registers, 10);
  EXPECT_EQ(fleet.faults(1).config().max_read_registers, 0);

  modbus::TcpClient client(io_.get_executor(), "127.0.0.1", fleet.endpoints()[2].port);
  auto rejected = RunUntilDone(io_, client.ReadRegisters(3, 3, 19000, 78));
  ASSERT_FALSE(rejected.has_value());
  EXPECT_EQ(fleet.faults(2).stats().oversized_reads, 1u);
  EXPECT_NE(rejected.error().message().find("exception 03"), std::string::npos)
      << rejected.error().ToString();
  auto other = RunUntilDone(io_, client.ReadRegisters(2, 3, 19000, 78));
  EXPECT_TRUE(other.has_value());

  auto changes = fleet.ApplyFaults({});
  ASSERT_TRUE(changes.has_value());
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0], "meter-03: max_read_registers=10 -> none");
  auto accepted = RunUntilDone(io_, client.ReadRegisters(3, 3, 19000, 78));
  EXPECT_TRUE(accepted.has_value()) << accepted.error().ToString();
}

TEST_F(GatewayFleetTest, FaultForUnknownMeterIsRejected) {
  Fleet fleet(io_, FleetOptions{.meters = 2,
                                .host = "127.0.0.1",
                                .base_port = 0,
                                .faults = {{"meter-03", FaultConfig{}}}});
  Status s = fleet.Start();
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("meter-03"), std::string::npos);
}

TEST_F(GatewayFleetTest, DescribeFaultsListsNonDefaults) {
  EXPECT_EQ(DescribeFaults(FaultConfig{}), "none");
  FaultConfig c;
  c.latency = 50ms;
  c.drop_rate = 0.25;
  EXPECT_EQ(DescribeFaults(c), "latency_ms=50 drop_rate=0.25");
}

}  // namespace
}  // namespace wattline::sim
