// wattline-sim: a fleet of simulated Janitza UMG meters speaking Modbus TCP.
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>

#include "core/flags.h"
#include "core/program.h"
#include "sim/fleet.h"

int main(int argc, char** argv) {
  using namespace wattline;
  Options options("wattline-sim", "Simulates Janitza UMG meters over Modbus TCP.");
  options.Add("meters", "10", "number of simulated meters");
  options.Add("host", "127.0.0.1", "address to listen on");
  options.Add("base_port", "5020", "meter i listens on base_port + i; 0 = an ephemeral port each");
  options.Add("meters_file", "", "after binding, write the meters as TOML [[meter]] tables here");
  options.Add("seed", "1", "seed of the first meter (meter i uses seed + i)");
  if (auto exit_code = StartProgram(options, argc, argv, "sim")) return *exit_code;
  auto meters = options.GetInt("meters");
  auto base_port = options.GetInt("base_port");
  auto seed = options.GetInt("seed");
  for (const auto* r : {&meters, &base_port, &seed}) {
    if (!r->has_value()) {
      spdlog::error("{}", r->error().ToString());
      return 2;
    }
  }
  if (*meters < 0 || *meters > 10000) {
    spdlog::error("--meters {} outside 0..10000", *meters);
    return 2;
  }
  if (*base_port < 0 || *base_port > 65535) {
    spdlog::error("--base_port {} outside 0..65535", *base_port);
    return 2;
  }

  boost::asio::io_context io(1);
  sim::Fleet fleet(io, sim::FleetOptions{.meters = static_cast<int>(*meters),
                                         .host = options.Get("host"),
                                         .base_port = static_cast<uint16_t>(*base_port),
                                         .seed = static_cast<uint64_t>(*seed)});
  if (Status s = fleet.Start(); !s.ok()) {
    spdlog::error("{}", s.ToString());
    return 1;
  }
  for (const auto& e : fleet.endpoints()) {
    spdlog::info("{} ({}) listening on {}:{} unit {}", e.key, e.profile, e.host, e.port, e.unit_id);
  }
  if (const auto& path = options.Get("meters_file"); !path.empty()) {
    if (Status s = fleet.WriteMetersFile(path); !s.ok()) {
      spdlog::error("{}", s.ToString());
      return 1;
    }
    spdlog::info("wrote {}", path);
  }

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signal);
    fleet.Stop();
    io.stop();
  });
  io.run();
  return 0;
}
