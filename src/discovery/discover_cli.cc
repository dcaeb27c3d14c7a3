#include "discovery/discover_cli.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/flags.h"
#include "core/program.h"
#include "core/run_until_signal.h"

namespace wattline::discovery {
namespace asio = boost::asio;

std::string DeviceJson(const Device& d, const std::string& event) {
  nlohmann::ordered_json j;
  if (!event.empty()) j["event"] = event;
  j["host"] = d.host;
  j["port"] = d.port;
  j["unit_id"] = d.unit_id;
  j["profile"] =
      d.profile.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(d.profile);
  j["matched_by"] = d.matched_by.empty() ? "none" : d.matched_by;
  if (!d.candidates.empty()) j["candidates"] = d.candidates;
  j["identity"] = d.identity;
  j["serial"] = d.serial;
  if (!d.name.empty()) j["name"] = d.name;
  j["kind"] = std::string(NodeKindName(d.kind));
  auto how = nlohmann::ordered_json::array();
  if (d.found_by & kFoundByBroadcast) how.push_back("broadcast");
  if (d.found_by & kFoundByScan) how.push_back("scan");
  j["found_by"] = how;
  // Texts from the network may hold invalid UTF-8: replace it rather than throw.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

namespace {

Result<std::vector<int64_t>> IntList(std::string_view name, std::string_view text, int64_t min,
                                     int64_t max) {
  std::vector<int64_t> out;
  for (const auto& item : SplitCommaList(text)) {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec != std::errc() || ptr != item.data() + item.size() || v < min || v > max) {
      return Fail(InvalidArgument(
          fmt::format("--{}: '{}' is not a number in {}..{}", name, item, min, max)));
    }
    out.push_back(v);
  }
  if (out.empty()) return Fail(InvalidArgument(fmt::format("--{} is empty", name)));
  return out;
}

Result<int64_t> IntOption(const Options& o, const std::string& name, int64_t min, int64_t max) {
  auto v = o.GetInt(name);
  if (!v) return v;
  if (*v < min || *v > max) {
    return Fail(InvalidArgument(fmt::format("--{} {} outside {}..{}", name, *v, min, max)));
  }
  return v;
}

}  // namespace

void AddDiscoveryFlags(Options& options, const std::string& prefix, int scan_interval_s) {
  auto add = [&](const char* name, const char* value, const char* help) {
    options.Add(prefix + name, value, help);
  };
  add("targets", "", "also send the discovery query to these addresses (comma list)");
  add("interfaces", "true", "send the query to every local subnet's broadcast address");
  add("ports", "502", "TCP ports to scan (comma list)");
  add("unit_ids", "1", "Modbus unit ids to identify on each host (comma list)");
  add("timeout_ms", "500", "TCP connect and Modbus request timeout");
  add("window_ms", "1500", "how long to collect answers to a discovery query");
  add("discovery_port", "1111", "UDP port of the discovery protocol");
  add("rate", "50", "at most this many new TCP connects per second");
  add("parallel", "16", "at most this many probes at once");
  add("broadcast_interval_s", "10", "continuous: seconds between discovery queries");
  const std::string interval = std::to_string(scan_interval_s);
  add("scan_interval_s", interval.c_str(), "continuous: seconds between scans (0 = never)");
}

Result<DiscoveryFlags> ReadDiscoveryFlags(const Options& options, const std::string& prefix,
                                          const std::vector<std::string>& scan) {
  DiscoveryFlags out;
  DiscovererOptions& d = out.discoverer;
  for (const auto& item : scan) {
    auto r = item.find('/') != std::string::npos ? ParseCidrHosts(item) : ParseRange(item);
    if (!r) return Fail(r.error());
    d.scan_ranges.push_back(*r);
  }
  auto name = [&](const char* n) { return prefix + n; };
  d.query_targets = SplitCommaList(options.Get(name("targets")));
  auto ports = IntList(name("ports"), options.Get(name("ports")), 1, 65535);
  auto units = IntList(name("unit_ids"), options.Get(name("unit_ids")), 0, 255);
  auto timeout = IntOption(options, name("timeout_ms"), 10, 60000);
  auto window = IntOption(options, name("window_ms"), 10, 60000);
  auto dport = IntOption(options, name("discovery_port"), 1, 65535);
  auto rate = IntOption(options, name("rate"), 1, 10000);
  auto parallel = IntOption(options, name("parallel"), 1, 1024);
  auto binterval = IntOption(options, name("broadcast_interval_s"), 1, 86400);
  auto sinterval = IntOption(options, name("scan_interval_s"), 0, 86400 * 7);
  auto interfaces = options.GetBool(name("interfaces"));
  if (!ports) return Fail(ports.error());
  if (!units) return Fail(units.error());
  for (const auto* r : {&timeout, &window, &dport, &rate, &parallel, &binterval, &sinterval}) {
    if (!*r) return Fail(r->error());
  }
  if (!interfaces) return Fail(interfaces.error());
  d.ports.clear();
  for (auto p : *ports) d.ports.push_back(static_cast<uint16_t>(p));
  d.unit_ids.clear();
  for (auto u : *units) d.unit_ids.push_back(static_cast<uint8_t>(u));
  d.connect_timeout = d.request_timeout = std::chrono::milliseconds(*timeout);
  d.answer_window = std::chrono::milliseconds(*window);
  d.discovery_port = static_cast<uint16_t>(*dport);
  d.connects_per_second = static_cast<int>(*rate);
  d.max_parallel = static_cast<int>(*parallel);
  d.broadcast_interfaces = *interfaces;
  out.continuous.broadcast_interval = std::chrono::seconds(*binterval);
  out.continuous.scan_interval = std::chrono::seconds(*sinterval);
  return out;
}

int RunDiscoverCommand(int argc, char** argv) {
  // --subnet and --range may repeat (Options keeps one value per name): collect them first.
  std::vector<std::string> subnets, ranges;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    bool taken = false;
    for (auto [flag, list] : {std::pair{"--subnet", &subnets}, std::pair{"--range", &ranges}}) {
      std::string_view f = flag;
      if (arg == f && i + 1 < argc) {
        for (auto& item : SplitCommaList(argv[++i])) list->push_back(item);
        taken = true;
      } else if (arg.starts_with(f) && arg.size() > f.size() && arg[f.size()] == '=') {
        for (auto& item : SplitCommaList(arg.substr(f.size() + 1))) list->push_back(item);
        taken = true;
      }
    }
    if (!taken) rest.push_back(argv[i]);
  }

  Options options(
      "wattline-edge discover",
      "Finds meters: a discovery query (UDP) to every local subnet's broadcast address, then an "
      "active scan (TCP connect, then Modbus identification through the profiles) of the local "
      "subnets (/22 or smaller) or of the given subnets and ranges. Progress goes to stderr, one "
      "JSON object per device to stdout.");
  options.Add("subnet", "", "scan this subnet (CIDR, /22 or smaller); repeatable or comma list");
  options.Add("range", "", "scan this range, e.g. 10.0.0.1-10.0.0.40; repeatable or comma list");
  options.Add("broadcast", "true", "use the discovery protocol");
  options.Add("scan", "true", "run the active scan");
  options.Add("profiles_dir", "profiles", "folder of driver profiles (*.xml)");
  options.Add(
      "continuous", "false",
      "keep going: print {\"event\":\"new\"|\"vanished\",...} lines as devices come and go");
  options.Add("duration_s", "0", "continuous: stop after this many seconds (0 = at SIGINT/TERM)");
  AddDiscoveryFlags(options, "", 300);
  if (auto exit_code = StartProgram(options, static_cast<int>(rest.size()), rest.data(), "edge")) {
    return *exit_code;
  }
  for (const char* name : {"subnet", "range"}) {
    if (!options.Get(name).empty()) {  // from --config
      for (auto& item : SplitCommaList(options.Get(name))) {
        (std::string(name) == "subnet" ? subnets : ranges).push_back(item);
      }
    }
  }

  auto fail = [](const Status& s) {
    std::cerr << "wattline-edge discover: " << s.message() << "\n";
    return 2;
  };
  // A subnet must be CIDR and a range must not be: ReadDiscoveryFlags tells them apart by '/'.
  for (const auto& s : subnets) {
    if (s.find('/') == std::string::npos) {
      return fail(InvalidArgument("--subnet " + s + ": expected CIDR, e.g. 10.0.0.0/24"));
    }
  }
  for (const auto& r : ranges) {
    if (r.find('/') != std::string::npos) {
      return fail(
          InvalidArgument("--range " + r + ": expected FIRST-LAST, e.g. 10.0.0.1-10.0.0.40"));
    }
  }
  std::vector<std::string> scan_targets = subnets;
  scan_targets.insert(scan_targets.end(), ranges.begin(), ranges.end());
  auto flags = ReadDiscoveryFlags(options, "", scan_targets);
  if (!flags) return fail(flags.error());
  auto duration = IntOption(options, "duration_s", 0, 86400 * 365);
  auto use_broadcast = options.GetBool("broadcast");
  auto use_scan = options.GetBool("scan");
  auto continuous = options.GetBool("continuous");
  if (!duration) return fail(duration.error());
  for (const auto* r : {&use_broadcast, &use_scan, &continuous}) {
    if (!*r) return fail(r->error());
  }
  DiscovererOptions dopts = flags->discoverer;

  profiles::ProfileRegistry registry;
  if (Status s = registry.LoadDirectory(options.Get("profiles_dir")); !s.ok()) {
    std::cerr << "wattline-edge discover: profiles: " << s.ToString() << "\n";
    return 1;
  }

  asio::io_context io(1);
  Discoverer discoverer(io.get_executor(), registry, dopts);
  size_t last_reported = 0;
  auto progress = [&last_reported](size_t done, size_t total) {
    // About twenty lines per scan, and always the last one.
    if (done == total || done >= last_reported + std::max<size_t>(total / 20, 1)) {
      last_reported = done;
      std::cerr << fmt::format("discover: scanned {}/{} host:port\n", done, total);
    }
  };

  if (!*continuous) {
    std::vector<Device> devices;
    auto run = [&]() -> asio::awaitable<void> {
      if (*use_broadcast) {
        auto found = co_await discoverer.Broadcast();
        std::cerr << fmt::format("discover: {} answer(s) to the discovery query\n", found.size());
        MergeDevices(devices, found);
      }
      if (*use_scan) {
        auto found = co_await discoverer.Scan(progress);
        std::cerr << fmt::format("discover: scan found {} Modbus device(s)\n", found.size());
        MergeDevices(devices, found);
      }
    };
    asio::co_spawn(io, run(), asio::detached);
    io.run();
    for (const auto& d : devices) std::cout << DeviceJson(d) << std::endl;
    return 0;
  }

  ContinuousOptions copts = flags->continuous;
  if (!*use_scan) copts.scan_interval = std::chrono::milliseconds(0);
  if (!*use_broadcast) copts.broadcast_interval = std::chrono::milliseconds(0);
  ContinuousDiscovery cd(discoverer, copts, [](const Device& d, bool appeared) {
    std::cout << DeviceJson(d, appeared ? "new" : "vanished") << std::endl;
  });
  cd.Start();
  asio::steady_timer end(io);
  if (*duration > 0) {
    end.expires_after(std::chrono::seconds(*duration));
    end.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      cd.Stop();
      io.stop();
    });
  }
  RunUntilSignal(io, [&] {
    cd.Stop();
    end.cancel();
  });
  return 0;
}

}  // namespace wattline::discovery
