#include "sim/fleet.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <fstream>
#include <future>

#include "core/testing/run_until_done.h"
#include "modbus/register_decode.h"
#include "modbus/tcp_client.h"

namespace wattline::sim {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

using test::RunUntilDone;

float F32(const std::vector<uint16_t>& regs, size_t offset) {
  return modbus::DecodeFloat32(std::span<const uint16_t, 2>(regs.data() + offset, 2),
                               modbus::WordOrder::kABCD);
}

class FleetTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fleet_.Start().ok()); }
  asio::io_context io_;
  Fleet fleet_{io_, FleetOptions{.meters = 3, .host = "127.0.0.1", .base_port = 0, .seed = 7}};
};

TEST_F(FleetTest, EachMeterHasItsOwnPort) {
  ASSERT_EQ(fleet_.endpoints().size(), 3u);
  EXPECT_NE(fleet_.endpoints()[0].port, fleet_.endpoints()[1].port);
  EXPECT_EQ(fleet_.endpoints()[2].key, "meter-03");
}

TEST_F(FleetTest, ReadsPlausibleValuesOverTcp) {
  modbus::TcpClient client(io_.get_executor(), "127.0.0.1", fleet_.endpoints()[0].port);
  auto regs = RunUntilDone(io_, client.ReadRegisters(1, 3, 19000, 78));
  ASSERT_TRUE(regs.has_value()) << regs.error().ToString();
  EXPECT_GT(F32(*regs, 0), 200);
  EXPECT_LT(F32(*regs, 0), 260);
  EXPECT_NEAR(F32(*regs, 50), 50, 0.2);
  EXPECT_GT(F32(*regs, 68), 0);  // import counter
  float cos = F32(*regs, 44);
  EXPECT_GE(std::abs(cos), 0.85f);
}

TEST_F(FleetTest, EchoesAnyUnitId) {
  modbus::TcpClient client(io_.get_executor(), "127.0.0.1", fleet_.endpoints()[1].port);
  // The client rejects replies whose unit id differs from the request's.
  for (uint8_t unit : {0, 1, 42, 255}) {
    auto regs = RunUntilDone(io_, client.ReadRegisters(unit, 3, 19050, 2));
    ASSERT_TRUE(regs.has_value()) << int(unit) << ": " << regs.error().ToString();
  }
}

TEST_F(FleetTest, AnswersExceptionsOutsideTheMap) {
  modbus::TcpClient client(io_.get_executor(), "127.0.0.1", fleet_.endpoints()[2].port);
  auto outside = RunUntilDone(io_, client.ReadRegisters(1, 3, 19120, 4));
  ASSERT_FALSE(outside.has_value());
  EXPECT_NE(outside.error().message().find("illegal data address"), std::string::npos);
  auto input = RunUntilDone(io_, client.ReadRegisters(1, 4, 19000, 2));
  ASSERT_FALSE(input.has_value());
  EXPECT_EQ(input.error().code(), Code::kFailedPrecondition);
  auto last = RunUntilDone(io_, client.ReadRegisters(1, 3, 19120, 2));
  EXPECT_TRUE(last.has_value());
}

TEST_F(FleetTest, WritesMetersFile) {
  auto path = std::filesystem::temp_directory_path() /
              ("wattline-meters-" + std::to_string(::getpid()) + ".toml");
  ASSERT_TRUE(fleet_.WriteMetersFile(path).ok());
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path);
  EXPECT_NE(text.find("[[meter]]\nkey = \"meter-01\"\nhost = \"127.0.0.1\"\nport = " +
                      std::to_string(fleet_.endpoints()[0].port) +
                      "\nunit_id = 1\nprofile = \"janitza-umg96rm-e\""),
            std::string::npos)
      << text;
}

TEST(FleetOptionsTest, RejectsBadMeterCount) {
  asio::io_context io;
  Fleet fleet(io, FleetOptions{.meters = 0});
  EXPECT_EQ(fleet.Start().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace wattline::sim
