// wattline-sim: a fleet of simulated meters (any mix of the bundled profiles) on Modbus TCP.
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/flags.h"
#include "core/program.h"
#include "core/run_until_signal.h"
#include "discovery/responder.h"
#include "sim/fleet.h"
#include "sim/sim_config.h"

namespace {

// SIGHUP: the [[fault]] tables of `path` become every meter's faults (a bad file changes nothing).
void ReloadFaults(wattline::sim::Fleet& fleet, const std::string& path) {
  if (path.empty()) {
    spdlog::warn("SIGHUP: no --config file to reload faults from");
    return;
  }
  auto faults = wattline::sim::LoadFaults(path);
  if (!faults) {
    spdlog::error("SIGHUP: faults not changed: {}", faults.error().message());
    return;
  }
  auto changes = fleet.ApplyFaults(*faults);
  if (!changes) {
    spdlog::error("SIGHUP: faults not changed: {}", changes.error().message());
    return;
  }
  spdlog::info("SIGHUP: reloaded faults from {}: {} meter(s) changed", path, changes->size());
  for (const auto& change : *changes) spdlog::info("faults changed: {}", change);
}

// What the discovery responder announces: each direct meter as a meter node, the meters
// behind a gateway as gateway nodes (one endpoint per unit id, 16 per answer datagram).
std::vector<wattline::discovery::Answer> DiscoveryNodes(
    const wattline::sim::Fleet& fleet, const wattline::profiles::ProfileRegistry* registry) {
  namespace d = wattline::discovery;
  std::vector<d::Answer> out;
  std::map<uint16_t, size_t> gateway_node;  // port -> index in `out` of its current node
  for (size_t i = 0; i < fleet.endpoints().size(); ++i) {
    const auto& e = fleet.endpoints()[i];
    auto ip = d::ParseIpv4(e.host);  // 0.0.0.0 (or a name): "the answer's source address"
    d::Endpoint ep{
        .ipv4 = ip ? *ip : 0, .port = e.port, .unit_ids = {e.unit_id}, .profile = e.profile};
    if (e.via_gateway) {
      auto it = gateway_node.find(e.port);
      if (it == gateway_node.end() || out[it->second].endpoints.size() >= 16) {
        d::Answer gw;
        gw.kind = d::NodeKind::kGateway;
        gw.identity = {.vendor = "Wattline",
                       .model = "simulated gateway",
                       .serial = "",
                       .name = fmt::format("gateway:{}", e.port)};
        gateway_node[e.port] = out.size();
        out.push_back(std::move(gw));
        it = gateway_node.find(e.port);
      }
      out[it->second].endpoints.push_back(std::move(ep));
      continue;
    }
    const auto* profile = registry ? registry->Find(e.profile) : nullptr;
    const auto* map = fleet.register_map(i);
    d::Answer meter;
    meter.kind = d::NodeKind::kMeter;
    meter.identity = {.vendor = profile ? profile->vendor : "Janitza",
                      .model = profile ? profile->model : "UMG 96RM-E",
                      .serial = map ? map->IdentityText("serial_number") : "",
                      .name = e.key};
    meter.endpoints.push_back(std::move(ep));
    out.push_back(std::move(meter));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace wattline;
  Options options(
      "wattline-sim",
      "Simulates power meters over Modbus TCP, each served through its driver profile.");
  options.Add("meters", "10",
              "number of simulated meters (of janitza-umg96rm-e; see --types); none when --config "
              "has [[gateway]] tables");
  options.Add("types", "",
              "mix of meter types as profile:count,... e.g. janitza-umg96rm-e:5,eastron-sdm630:3 "
              "(overrides --meters)");
  options.Add("profiles_dir", "profiles",
              "folder of driver profiles (*.xml); when missing, only janitza-umg96rm-e is "
              "available (built-in register map)");
  options.Add("host", "127.0.0.1", "address to listen on");
  options.Add("base_port", "5020", "meter i listens on base_port + i; 0 = an ephemeral port each");
  options.Add("host_per_meter", "false",
              "one address per meter, as on a LAN: meter i listens on --host + i, all on "
              "--base_port (e.g. --host 127.0.1.1 for 127.0.1.1, 127.0.1.2, ...)");
  options.Add("meters_file", "", "after binding, write the meters as TOML [[meter]] tables here");
  options.Add("seed", "1", "seed of the first meter (meter i uses seed + i)");
  options.Add("discovery_port", "0",
              "answer discovery queries (UDP, docs/discovery.md) for every meter on this port, "
              "e.g. 1111; 0 = off");
  if (auto exit_code = StartProgram(options, argc, argv, "sim")) return *exit_code;
  auto meters = options.GetInt("meters");
  auto base_port = options.GetInt("base_port");
  auto seed = options.GetInt("seed");
  auto discovery_port = options.GetInt("discovery_port");
  for (const auto* r : {&meters, &base_port, &seed, &discovery_port}) {
    if (!r->has_value()) {
      spdlog::error("{}", r->error().ToString());
      return 2;
    }
  }
  if (*meters < 0 || *meters > 10000) {
    spdlog::error("--meters {} outside 0..10000", *meters);
    return 2;
  }
  if (*discovery_port < 0 || *discovery_port > 65535) {
    spdlog::error("--discovery_port {} outside 0..65535", *discovery_port);
    return 2;
  }
  if (*base_port < 0 || *base_port > 65535) {
    spdlog::error("--base_port {} outside 0..65535", *base_port);
    return 2;
  }

  auto host_per_meter = options.GetBool("host_per_meter");
  if (!host_per_meter) {
    spdlog::error("{}", host_per_meter.error().ToString());
    return 2;
  }
  auto types = sim::ParseMeterTypes(options.Get("types"));
  if (!types) {
    spdlog::error("--types: {}", types.error().message());
    return 2;
  }
  profiles::ProfileRegistry registry;
  const std::filesystem::path profiles_dir = options.Get("profiles_dir");
  std::error_code ec;
  bool have_profiles = std::filesystem::is_directory(profiles_dir, ec);
  if (have_profiles) {
    if (Status s = registry.LoadDirectory(profiles_dir); !s.ok()) {
      spdlog::error("{}", s.ToString());
      return 1;
    }
  } else {
    spdlog::info("no profile directory {}: serving the built-in UMG register map",
                 profiles_dir.string());
  }

  auto config = sim::ParseSimConfig(options.toml(), have_profiles ? &registry : nullptr);
  if (!config) {
    spdlog::error("--config {}: {}", options.Get("config"), config.error().message());
    return 2;
  }

  boost::asio::io_context io(1);
  sim::Fleet fleet(io, sim::FleetOptions{.meters = static_cast<int>(*meters),
                                         .host = options.Get("host"),
                                         .base_port = static_cast<uint16_t>(*base_port),
                                         .host_per_meter = *host_per_meter,
                                         .seed = static_cast<uint64_t>(*seed),
                                         .types = *types,
                                         .profiles = have_profiles ? &registry : nullptr,
                                         .gateways = config->gateways,
                                         .faults = config->faults});
  if (Status s = fleet.Start(); !s.ok()) {
    spdlog::error("{}", s.ToString());
    return s.code() == Code::kInvalidArgument ? 2 : 1;
  }
  for (const auto& f : config->faults) {
    spdlog::info("{} faults: {}", f.meter, sim::DescribeFaults(f.config));
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

  std::unique_ptr<discovery::Responder> responder;
  if (*discovery_port != 0) {
    responder = std::make_unique<discovery::Responder>(
        io, DiscoveryNodes(fleet, have_profiles ? &registry : nullptr),
        discovery::ResponderOptions{.port = static_cast<uint16_t>(*discovery_port)});
    if (Status s = responder->Start(); !s.ok()) {
      spdlog::error("{}", s.ToString());
      return 1;
    }
  }

  boost::asio::signal_set hangup(io, SIGHUP);
  std::function<void()> wait_hangup = [&] {
    hangup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      ReloadFaults(fleet, options.Get("config"));
      wait_hangup();
    });
  };
  wait_hangup();
  RunUntilSignal(io, [&] {
    fleet.Stop();
    if (responder) responder->Stop();
    hangup.cancel();
  });
  return 0;
}
