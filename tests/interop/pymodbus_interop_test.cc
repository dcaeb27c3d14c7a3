// Our Modbus client and the bundled Janitza profile against a peer we did not write: a
// pymodbus server (tests/peers/pymodbus_umg.py) serving known values.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cmath>
#include <future>
#include <map>
#include <string>

#include "core/testing/run_until_done.h"
#include "modbus/tcp_client.h"
#include "profiles/profile.h"
#include "profiles/read_plan.h"

extern char** environ;

namespace wattline {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Starts the pymodbus peer on an ephemeral port and kills it (by PID) on destruction.
class PymodbusPeer {
 public:
  PymodbusPeer() {
    int fds[2];
    if (pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::string script = WATTLINE_PYMODBUS_PEER;
    char* argv[] = {const_cast<char*>("/usr/bin/python3"), script.data(),
                    const_cast<char*>("--port"), const_cast<char*>("0"), nullptr};
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv, environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    // Wait up to 15 s for "READY <port>".
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline &&
           line.find('\n') == std::string::npos) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[64];
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    close(fds[0]);
    if (line.rfind("READY ", 0) == 0) port_ = static_cast<uint16_t>(std::stoi(line.substr(6)));
  }
  ~PymodbusPeer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status;
      waitpid(pid_, &status, 0);
    }
  }
  uint16_t port() const { return port_; }

 private:
  pid_t pid_ = -1;
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
