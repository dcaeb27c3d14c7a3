// Fleet: N simulated meters of any mix of types, each with its own seed, physics and Modbus TCP
// listener, all served from one io_context. Each meter answers any unit id (echoed back).
// A meter of type X serves its physics through driver profile X (ProfileRegisterMap). Without
// a profile registry only janitza-umg96rm-e is available, served by the built-in UMG register
// map (umg_register_map.h).
// Thread-safety: not thread-safe; create, Start and Stop on the io_context's thread (or before
// it runs). `time` must outlive the fleet.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "modbus/tcp_server.h"
#include "profiles/profile_registry.h"
#include "sim/meter_physics.h"
#include "sim/profile_register_map.h"

namespace wattline::sim {

inline constexpr std::string_view kDefaultMeterType = "janitza-umg96rm-e";

// `count` meters of profile `profile`.
struct MeterTypeCount {
  std::string profile;
  int count = 0;
};

// Parses "janitza-umg96rm-e:5,eastron-sdm630:3" (a missing ":N" means 1). kInvalidArgument for
// an empty id or a count outside 1..1000.
Result<std::vector<MeterTypeCount>> ParseMeterTypes(std::string_view text);

struct FleetOptions {
  int meters = 10;  // used when `types` is empty: that many janitza-umg96rm-e
  std::string host = "127.0.0.1";
  uint16_t base_port = 5020;  // meter i listens on base_port + i; 0: an ephemeral port each
  uint64_t seed = 1;          // meter i uses seed + i
  std::vector<MeterTypeCount> types = {};  // the mix, in order; meters are numbered across it
  // Profiles to serve the meters through; must outlive the fleet. nullptr: built-in UMG map.
  const profiles::ProfileRegistry* profiles = nullptr;
};

// What the connector needs to reach one simulated meter.
struct MeterEndpoint {
  std::string key;  // "meter-01"
  std::string host;
  uint16_t port = 0;
  uint8_t unit_id = 1;
  std::string profile;  // "janitza-umg96rm-e"
};

class Fleet {
 public:
  Fleet(boost::asio::io_context& io, FleetOptions options, TimeSource& time = RealTime());
  ~Fleet();

  // Binds every listener. kInvalidArgument for bad options (meters outside 1..1000, ports past
  // 65535, a type missing from the registry, a type other than janitza-umg96rm-e without a
  // registry), kUnavailable when a port cannot be bound (listeners already opened are closed).
  Status Start();
  void Stop();

  // Valid after Start.
  const std::vector<MeterEndpoint>& endpoints() const { return endpoints_; }
  // The physics of meter i (for tests).
  MeterPhysics& physics(size_t i) { return meters_[i]->physics; }
  // The profile-driven register map of meter i; nullptr for the built-in UMG map.
  const ProfileRegisterMap* register_map(size_t i) const { return meters_[i]->map.get(); }

  // The endpoints as TOML [[meter]] tables (key, host, port, unit_id, profile).
  std::string MetersToml() const;
  // Writes MetersToml() to `path` (via a temporary file and rename). kUnavailable on I/O errors.
  Status WriteMetersFile(const std::filesystem::path& path) const;

 private:
  struct Meter {
    Meter(uint64_t seed, TimeSource& time) : physics(seed, time) {}
    MeterPhysics physics;
    std::unique_ptr<ProfileRegisterMap> map;  // null: built-in UMG map
    std::unique_ptr<modbus::TcpServer> server;
  };

  boost::asio::io_context& io_;
  FleetOptions options_;
  TimeSource& time_;
  std::vector<std::unique_ptr<Meter>> meters_;
  std::vector<MeterEndpoint> endpoints_;
};

}  // namespace wattline::sim
