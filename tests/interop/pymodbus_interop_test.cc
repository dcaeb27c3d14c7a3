// Our Modbus client and the bundled Janitza profile against a peer we did not write: a
// pymodbus server (tests/peers/pymodbus_umg.py) serving known values.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cmath>
#include <future>
#include <map>
#include <string>

#include "core/testing/run_until_done.h"
#include "interop/peer_process.h"
#include "modbus/tcp_client.h"
#include "profiles/profile.h"
#include "profiles/read_plan.h"

namespace wattline {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// The pymodbus peer on an ephemeral port ("READY <port>"), stopped by its PID on destruction.
class PymodbusPeer {
 public:
  PymodbusPeer() : process_({"/usr/bin/python3", WATTLINE_PYMODBUS_PEER, "--port", "0"}, "READY ") {
    if (!process_.ready_line().empty())
      port_ = static_cast<uint16_t>(std::stoi(process_.ready_line().substr(6)));
  }
  uint16_t port() const { return port_; }

 private:
  testing::PeerProcess process_;
  uint16_t port_ = 0;
};

using test::RunUntilDone;

TEST(PymodbusInteropTest, ProfileDecodesKnownValues) {
  PymodbusPeer peer;
  ASSERT_NE(peer.port(), 0) << "pymodbus peer did not start";
  auto profile = profiles::LoadProfile(WATTLINE_PROFILES_DIR "/janitza-umg96rm-e.xml");
  ASSERT_TRUE(profile.has_value()) << profile.error().ToString();
  auto plan = profiles::PlanReads(*profile);

  asio::io_context io;
  modbus::TcpClient client(io.get_executor(), "127.0.0.1", peer.port());
  std::vector<std::vector<uint16_t>> blocks;
  for (const auto& b : plan.blocks) {
    auto regs = RunUntilDone(io, client.ReadRegisters(1, b.function, b.address, b.count));
    ASSERT_TRUE(regs.has_value()) << regs.error().ToString();
    blocks.push_back(*regs);
  }
  auto values = profiles::Decode(*profile, plan, blocks);
  ASSERT_TRUE(values.has_value()) << values.error().ToString();

  const double p = 230.0 * 10.0 * 0.9, s = 2300.0, q = std::sqrt(s * s - p * p);
  const std::map<std::string, double> expected = {{"voltage_l1_n", 230},
                                                  {"voltage_l3_n", 230},
                                                  {"voltage_l2_l3", 398},
                                                  {"current_l2", 10},
                                                  {"current_sum", 30},
                                                  {"active_power_l1", p},
                                                  {"active_power_total", 3 * p},
                                                  {"apparent_power_l3", s},
                                                  {"reactive_power_l2", q},
                                                  {"cos_phi_l1", 0.9},
                                                  {"frequency", 50},
                                                  {"active_energy_total", 1e6},
                                                  {"active_energy_import", 1e6},
                                                  {"active_energy_export", 0}};
  size_t checked = 0;
  for (const auto& v : *values) {
    auto it = expected.find(v.signal);
    if (it == expected.end()) continue;
    // float32 on the wire: compare with float precision.
    EXPECT_NEAR(v.value, it->second, 1e-6 * std::max(1.0, std::abs(it->second))) << v.signal;
    ++checked;
  }
  EXPECT_EQ(checked, expected.size());
}

TEST(PymodbusInteropTest, GapOutsideBlockIsIllegalDataAddress) {
  PymodbusPeer peer;
  ASSERT_NE(peer.port(), 0);
  asio::io_context io;
  modbus::TcpClient client(io.get_executor(), "127.0.0.1", peer.port());
  auto regs = RunUntilDone(io, client.ReadRegisters(1, 3, 18990, 20));
  ASSERT_FALSE(regs.has_value());
  EXPECT_NE(regs.error().message().find("illegal data address"), std::string::npos)
      << regs.error().ToString();
}

}  // namespace
}  // namespace wattline
