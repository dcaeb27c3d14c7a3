// A pymodbus client (tests/peers/pymodbus_clock_client.py), a peer we did not write, sets the
// clock of our simulator through the test profile with <clock> and <history>, reads it back and
// reads the newest history record.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include "interop/peer_process.h"
#include "profiles/clock_history.h"
#include "profiles/profile_registry.h"
#include "sim/fake_time.h"
#include "sim/fleet.h"

namespace wattline {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST(PymodbusClockTest, PymodbusSetsAndReadsTheSimulatorsClock) {
  profiles::ProfileRegistry registry;
  auto profile = profiles::LoadProfile(WATTLINE_TESTDATA_DIR "/profiles/wattline-test-history.xml");
  ASSERT_TRUE(profile.has_value()) << profile.error().ToString();
  ASSERT_TRUE(registry.Add(*profile).ok());
  const profiles::Profile& p = *registry.Find("wattline-test-history");

  const SystemTime sim_now =
      SystemTime(std::chrono::sys_days(std::chrono::year(2026) / 3 / 10)) + 19h + 30min;
  sim::FakeTime time(sim_now);
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  sim::Fleet fleet(io,
                   sim::FleetOptions{.host = "127.0.0.1",
                                     .base_port = 0,
                                     .seed = 4,
                                     .types = {{"wattline-test-history", 2}},
                                     .profiles = &registry},
                   time);
  ASSERT_TRUE(fleet.Start().ok());
  std::thread thread([&io] { io.run(); });

  auto [rc, out] = testing::RunProgram(
      {"/usr/bin/python3", WATTLINE_PYMODBUS_CLOCK_PEER, "--port",
       std::to_string(fleet.endpoints()[0].port), "--read-address",
       std::to_string(p.clock->address), "--write-address", std::to_string(p.clock->write_address),
       "--year-base", std::to_string(p.clock->year_base), "--history-address",
       std::to_string(p.history->address), "--time", "2031-05-06T07:08:09"});
  asio::post(io, [&] {
    fleet.Stop();
    work.reset();
  });
  thread.join();

  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("BAD 3\n"), std::string::npos) << out;  // month 13: illegal data value
  EXPECT_NE(out.find("SET ok\n"), std::string::npos) << out;
  // The fake clock stands still, so the meter reads exactly what pymodbus wrote.
  EXPECT_NE(out.find("CLOCK 2031-05-06 07:08:09\n"), std::string::npos) << out;
  const std::chrono::sys_seconds set =
      std::chrono::sys_days(std::chrono::year(2031) / 5 / 6) + 7h + 8min + 9s;
  EXPECT_EQ(fleet.clock(0).offset, SystemTime(set) - sim_now);
  EXPECT_EQ(fleet.clock(1).offset, SystemTime::duration(0));

  // The newest record ends at 07:00:00 by the meter's clock, 8 min 9 s before its now: the
  // import counter at that instant of the simulator, in kWh.
  size_t at = out.find("HISTORY ");
  ASSERT_NE(at, std::string::npos) << out;
  double kwh = std::strtod(out.c_str() + at + 8, nullptr);
  auto counters = fleet.physics(0).CountersAt(sim_now - 8min - 9s);
  ASSERT_TRUE(counters.has_value());
  float expected = static_cast<float>(counters->import_wh / 1000);
  EXPECT_NEAR(kwh, expected,
              std::nextafter(expected, std::numeric_limits<float>::infinity()) - expected)
      << out;
}

}  // namespace
}  // namespace wattline
