#include "sim/fleet.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/address_v4.hpp>
#include <charconv>
#include <fstream>
#include <optional>

#include "sim/umg_register_map.h"

namespace wattline::sim {

Fleet::Fleet(boost::asio::io_context& io, FleetOptions options, TimeSource& time)
    : io_(io), options_(std::move(options)), time_(time) {}

Fleet::~Fleet() { Stop(); }

Result<std::vector<MeterTypeCount>> ParseMeterTypes(std::string_view text) {
  std::vector<MeterTypeCount> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    size_t colon = item.find(':');
    MeterTypeCount t{std::string(item.substr(0, colon)), 1};
    if (colon != std::string_view::npos) {
      std::string_view n = item.substr(colon + 1);
      auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), t.count);
      if (n.empty() || ec != std::errc() || ptr != n.data() + n.size() || t.count < 1 ||
          t.count > 1000) {
        return Fail(InvalidArgument(fmt::format("meter type '{}': count not in 1..1000", item)));
      }
    }
    if (t.profile.empty()) {
      return Fail(InvalidArgument(fmt::format("meter type '{}' has no profile id", item)));
    }
    out.push_back(std::move(t));
  }
  return out;
}

Status Fleet::Start() {
  // Direct meters first, then each gateway's meters: `types` lists them all in that order.
  std::vector<std::string> types;
  if (options_.types.empty() && options_.gateways.empty()) {
    types.assign(std::max(options_.meters, 0), std::string(kDefaultMeterType));
  }
  auto add = [&types](const MeterTypeCount& t) -> Status {
    if (t.count < 1 || t.count > 1000 || types.size() + t.count > 1000) {
      return InvalidArgument(fmt::format("meter type {}: count {} does not fit in 1..1000 meters",
                                         t.profile, t.count));
    }
    types.insert(types.end(), t.count, t.profile);
    return Status::Ok();
  };
  for (const auto& t : options_.types) {
    if (Status s = add(t); !s.ok()) return s;
  }
  const size_t direct = types.size();
  std::vector<size_t> gateway_of;  // for meters past `direct`: index into options_.gateways
  for (size_t g = 0; g < options_.gateways.size(); ++g) {
    size_t before = types.size();
    for (const auto& t : options_.gateways[g].meters) {
      if (Status s = add(t); !s.ok()) return s;
    }
    if (types.size() == before || types.size() - before > 247) {
      return InvalidArgument(fmt::format("gateway {}: {} meters, expected 1..247 (unit ids)", g + 1,
                                         types.size() - before));
    }
    gateway_of.insert(gateway_of.end(), types.size() - before, g);
  }
  int count = static_cast<int>(types.size());
  if (count < 1 || count > 1000) {
    return InvalidArgument(fmt::format("--meters {} outside 1..1000", count));
  }
  std::vector<std::string> hosts(direct, options_.host);
  if (options_.host_per_meter) {
    boost::system::error_code ec;
    auto first = boost::asio::ip::make_address_v4(options_.host, ec);
    if (ec || uint64_t{first.to_uint()} + direct > 0xffffffffu) {
      return InvalidArgument("host_per_meter needs an IPv4 --host with room for " +
                             std::to_string(direct) + " addresses after it");
    }
    for (size_t i = 0; i < direct; ++i) {
      hosts[i] =
          boost::asio::ip::address_v4(first.to_uint() + static_cast<uint32_t>(i)).to_string();
    }
  } else if (options_.base_port != 0 && options_.base_port + direct - 1 > 65535) {
    return InvalidArgument(fmt::format("ports {}..{} run past 65535", options_.base_port,
                                       options_.base_port + direct - 1));
  }
  for (const auto& type : types) {
    if (options_.profiles ? options_.profiles->Find(type) == nullptr : type != kDefaultMeterType) {
      return InvalidArgument(fmt::format("meter type '{}': no such profile{}", type,
                                         options_.profiles ? "" : " (no profile directory given)"));
    }
  }
  for (const auto& f : options_.faults) {
    if (!MeterIndex(f.meter, count)) {
      return InvalidArgument(
          fmt::format("fault for unknown meter '{}' (meter-01..meter-{:02})", f.meter, count));
    }
  }
  for (const auto& g : options_.gateways) {
    gateways_.push_back(std::make_unique<Gateway>(io_, GatewayOptions{.baud = g.baud}));
  }
  for (int i = 0; i < count; ++i) {
    auto meter = std::make_unique<Meter>(options_.seed + i, time_);
    Meter* m = meter.get();
    if (options_.profiles) {
      m->map = std::make_unique<ProfileRegisterMap>(
          *options_.profiles->Find(types[i]), static_cast<uint32_t>(70000000 + options_.seed + i));
    }
    std::string key = fmt::format("meter-{:02}", i + 1);
    m->faults = std::make_unique<FaultInjector>(
        [m, key](uint8_t, std::string_view pdu) {
          // State advances lazily: only when someone asks.
          if (!m->map) return AnswerUmgRequest(UmgRegisterImage(m->physics.Advance()), pdu);
          auto offset = m->clock.offset;
          std::string reply = m->map->Answer(m->physics, m->clock, pdu);
          if (m->clock.offset != offset) {
            spdlog::info("{}: clock set over Modbus, now {:+.3f} s off the simulator's", key,
                         std::chrono::duration<double>(m->clock.offset).count());
          }
          return reply;
        },
        FaultConfig{}, static_cast<uint32_t>(options_.seed + i));
    if (static_cast<size_t>(i) < direct) {
      meter->server = std::make_unique<modbus::TcpServer>(io_, m->faults->AsHandler());
      uint16_t port = options_.base_port == 0 || options_.host_per_meter
                          ? options_.base_port
                          : static_cast<uint16_t>(options_.base_port + i);
      if (Status s = meter->server->Listen(hosts[i], port); !s.ok()) {
        Stop();
        return s;
      }
      endpoints_.push_back({key, hosts[i], meter->server->port(), 1, types[i], false});
    } else {
      // Unit ids count from 1 on each gateway, in the order of its meters.
      size_t g = gateway_of[i - direct];
      uint8_t unit = 1;
      for (size_t j = direct; j < static_cast<size_t>(i); ++j) unit += gateway_of[j - direct] == g;
      gateways_[g]->AddUnit(unit, m->faults->AsHandler());
      endpoints_.push_back({key, options_.host, 0, unit, types[i], true});
    }
    meters_.push_back(std::move(meter));
  }
  for (size_t g = 0; g < gateways_.size(); ++g) {
    if (Status s = gateways_[g]->Listen(options_.host, options_.gateways[g].port); !s.ok()) {
      Stop();
      return s;
    }
  }
  for (size_t i = direct; i < endpoints_.size(); ++i) {
    endpoints_[i].port = gateways_[gateway_of[i - direct]]->port();
  }
  if (auto applied = ApplyFaults(options_.faults); !applied) return applied.error();
  return Status::Ok();
}

void Fleet::Stop() {
  for (auto& g : gateways_) g->Stop();
  for (auto& m : meters_) {
    if (m->server) m->server->Stop();
  }
}

std::optional<size_t> Fleet::MeterIndex(std::string_view key, size_t count) {
  int n = 0;
  if (!key.starts_with("meter-")) return std::nullopt;
  std::string_view digits = key.substr(6);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || n < 1 ||
      static_cast<size_t>(n) > count || key != fmt::format("meter-{:02}", n)) {
    return std::nullopt;
  }
  return static_cast<size_t>(n - 1);
}

Result<std::vector<std::string>> Fleet::ApplyFaults(const std::vector<MeterFault>& faults) {
  std::vector<FaultConfig> configs(meters_.size());
  for (const auto& f : faults) {
    auto i = MeterIndex(f.meter, meters_.size());
    if (!i) return Fail(InvalidArgument(fmt::format("fault for unknown meter '{}'", f.meter)));
    configs[*i] = f.config;
  }
  std::vector<std::string> changes;
  for (size_t i = 0; i < meters_.size(); ++i) {
    FaultConfig old = meters_[i]->faults->config();
    std::string before = DescribeFaults(old);
    std::string after = DescribeFaults(configs[i]);
    meters_[i]->faults->Set(configs[i]);
    if (old.clock_offset_s != configs[i].clock_offset_s) {
      meters_[i]->clock.offset = std::chrono::seconds(configs[i].clock_offset_s);
    }
    if (before != after)
      changes.push_back(fmt::format("{}: {} -> {}", endpoints_[i].key, before, after));
  }
  return changes;
}

std::string DescribeFaults(const FaultConfig& c) {
  std::string out;
  auto add = [&out](std::string item) {
    if (!out.empty()) out += ' ';
    out += item;
  };
  if (c.latency.count() > 0) add(fmt::format("latency_ms={}", c.latency.count()));
  if (c.timeout_rate > 0) add(fmt::format("timeout_rate={}", c.timeout_rate));
  if (c.exception_rate > 0) {
    add(fmt::format("exception_rate={} exception=0x{:02X}", c.exception_rate, c.exception));
  }
  if (c.drop_rate > 0) add(fmt::format("drop_rate={}", c.drop_rate));
  if (c.wrong_tid_rate > 0) add(fmt::format("wrong_tid_rate={}", c.wrong_tid_rate));
  if (c.garbage_rate > 0) add(fmt::format("garbage_rate={}", c.garbage_rate));
  if (c.max_read_registers > 0) add(fmt::format("max_read_registers={}", c.max_read_registers));
  if (c.clock_offset_s != 0) add(fmt::format("clock_offset_s={}", c.clock_offset_s));
  return out.empty() ? "none" : out;
}

std::string Fleet::MetersToml() const {
  std::string out = "# Simulated meters, written by wattline-sim.\n";
  for (const auto& e : endpoints_) {
    out += fmt::format(
        "\n[[meter]]\nkey = \"{}\"\nhost = \"{}\"\nport = {}\nunit_id = {}\nprofile = \"{}\"\n{}",
        e.key, e.host, e.port, e.unit_id, e.profile,
        // The gateway speaks Modbus TCP; the shared host:port puts its meters in one queue.
        e.via_gateway ? "transport = \"tcp\"\n" : "");
  }
  return out;
}

Status Fleet::WriteMetersFile(const std::filesystem::path& path) const {
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << MetersToml();
    out.close();
    if (!out) return Unavailable(fmt::format("cannot write {}", tmp.string()));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    return Unavailable(
        fmt::format("cannot rename {} to {}: {}", tmp.string(), path.string(), ec.message()));
  return Status::Ok();
}

}  // namespace wattline::sim
