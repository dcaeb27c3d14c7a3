#include "sim/fleet.h"

#include <fmt/format.h>

#include <fstream>

#include "sim/umg_register_map.h"

namespace wattline::sim {

Fleet::Fleet(boost::asio::io_context& io, FleetOptions options, TimeSource& time)
    : io_(io), options_(std::move(options)), time_(time) {}

Fleet::~Fleet() { Stop(); }

Status Fleet::Start() {
  if (options_.meters < 1 || options_.meters > 1000) {
    return InvalidArgument(fmt::format("--meters {} outside 1..1000", options_.meters));
  }
  if (options_.base_port != 0 && options_.base_port + options_.meters - 1 > 65535) {
    return InvalidArgument(fmt::format("ports {}..{} run past 65535", options_.base_port,
                                       options_.base_port + options_.meters - 1));
  }
  for (int i = 0; i < options_.meters; ++i) {
    auto meter = std::make_unique<Meter>(options_.seed + i, time_);
    Meter* m = meter.get();
    meter->server = std::make_unique<modbus::TcpServer>(io_, [m](uint8_t, std::string_view pdu) {
      // State advances lazily: only when someone asks.
      return AnswerUmgRequest(UmgRegisterImage(m->physics.Advance()), pdu);
    });
    uint16_t port = options_.base_port == 0 ? 0 : static_cast<uint16_t>(options_.base_port + i);
    if (Status s = meter->server->Listen(options_.host, port); !s.ok()) {
      Stop();
      return s;
    }
    endpoints_.push_back({fmt::format("meter-{:02}", i + 1), options_.host, meter->server->port(),
                          1, "janitza-umg96rm-e"});
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
