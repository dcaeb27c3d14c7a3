#include "sim/fleet.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>

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
  std::vector<std::string> types;
  if (options_.types.empty()) {
    types.assign(std::max(options_.meters, 0), std::string(kDefaultMeterType));
  }
  for (const auto& t : options_.types) {
    if (t.count < 1 || t.count > 1000 || types.size() + t.count > 1000) {
      return InvalidArgument(fmt::format("meter type {}: count {} does not fit in 1..1000 meters",
                                         t.profile, t.count));
    }
    types.insert(types.end(), t.count, t.profile);
  }
  int count = static_cast<int>(types.size());
  if (count < 1 || count > 1000) {
    return InvalidArgument(fmt::format("--meters {} outside 1..1000", count));
  }
  if (options_.base_port != 0 && options_.base_port + count - 1 > 65535) {
    return InvalidArgument(fmt::format("ports {}..{} run past 65535", options_.base_port,
                                       options_.base_port + count - 1));
  }
  for (const auto& type : types) {
    if (options_.profiles ? options_.profiles->Find(type) == nullptr : type != kDefaultMeterType) {
      return InvalidArgument(fmt::format("meter type '{}': no such profile{}", type,
                                         options_.profiles ? "" : " (no profile directory given)"));
    }
  }
  for (int i = 0; i < count; ++i) {
    auto meter = std::make_unique<Meter>(options_.seed + i, time_);
    Meter* m = meter.get();
    if (options_.profiles) {
      m->map = std::make_unique<ProfileRegisterMap>(
          *options_.profiles->Find(types[i]), static_cast<uint32_t>(70000000 + options_.seed + i));
    }
    meter->server = std::make_unique<modbus::TcpServer>(io_, [m](uint8_t, std::string_view pdu) {
      // State advances lazily: only when someone asks.
      if (m->map) return m->map->Answer(m->physics.Advance(), pdu);
      return AnswerUmgRequest(UmgRegisterImage(m->physics.Advance()), pdu);
    });
    uint16_t port = options_.base_port == 0 ? 0 : static_cast<uint16_t>(options_.base_port + i);
    if (Status s = meter->server->Listen(options_.host, port); !s.ok()) {
      Stop();
      return s;
    }
    endpoints_.push_back(
        {fmt::format("meter-{:02}", i + 1), options_.host, meter->server->port(), 1, types[i]});
    meters_.push_back(std::move(meter));
  }
  return Status::Ok();
}

void Fleet::Stop() {
  for (auto& m : meters_) {
    if (m->server) m->server->Stop();
  }
}

std::string Fleet::MetersToml() const {
  std::string out = "# Simulated meters, written by wattline-sim.\n";
  for (const auto& e : endpoints_) {
    out += fmt::format(
        "\n[[meter]]\nkey = \"{}\"\nhost = \"{}\"\nport = {}\nunit_id = {}\nprofile = \"{}\"\n",
        e.key, e.host, e.port, e.unit_id, e.profile);
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
