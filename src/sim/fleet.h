// Fleet: N simulated meters of any mix of types, each with its own seed and physics, all served
// from one io_context. A direct meter has its own Modbus TCP listener and answers any unit id
// (echoed back); gateway meters sit behind a sim::Gateway (one port, unit ids 1..n, one request
// at a time with RS-485 bus timing). Every meter answers through its own FaultInjector (no faults
// unless configured), so faults can be switched on and off at run time.
// A meter of type X serves its physics through driver profile X (ProfileRegisterMap). Without
// a profile registry only janitza-umg96rm-e is available, served by the built-in UMG register
// map (umg_register_map.h). Each meter keeps its own clock (MeterClock: an offset against `time`),
// set by Modbus clock writes and by a fault's clock_offset_s.
// Thread-safety: not thread-safe; create, Start and Stop on the io_context's thread (or before
// it runs). `time` must outlive the fleet.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "modbus/tcp_server.h"
#include "profiles/profile_registry.h"
#include "sim/faults.h"
#include "sim/gateway.h"
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

// A simulated Modbus TCP -> RTU gateway and the meters on its bus (unit ids 1..n in order).
struct GatewaySpec {
  uint16_t port = 0;  // 0: an ephemeral port
  uint32_t baud = 9600;
  std::vector<MeterTypeCount> meters;
};

// Faults for the meter with key `meter` ("meter-03").
struct MeterFault {
  std::string meter;
  FaultConfig config;
};

struct FleetOptions {
  int meters = 10;  // used when `types` and `gateways` are empty: that many janitza-umg96rm-e
  std::string host = "127.0.0.1";
  uint16_t base_port = 5020;  // meter i listens on base_port + i; 0: an ephemeral port each
  // One address per meter, as on a LAN: direct meter i listens on `host` + i (an IPv4 address
  // counted up), every one on base_port. Loopback addresses 127.x.y.z need no set-up on Linux.
  bool host_per_meter = false;
  uint64_t seed = 1;                       // meter i uses seed + i
  std::vector<MeterTypeCount> types = {};  // the mix, in order; meters are numbered across it
  // Profiles to serve the meters through; must outlive the fleet. nullptr: built-in UMG map.
  const profiles::ProfileRegistry* profiles = nullptr;
  // Gateways with their meters, numbered after the direct meters.
  std::vector<GatewaySpec> gateways = {};
  // Faults configured at Start; every other meter starts without faults.
  std::vector<MeterFault> faults = {};
};

// What the connector needs to reach one simulated meter.
struct MeterEndpoint {
  std::string key;  // "meter-01"
  std::string host;
  uint16_t port = 0;
  uint8_t unit_id = 1;
  std::string profile;       // "janitza-umg96rm-e"
  bool via_gateway = false;  // behind a gateway: the connector must queue it with its bus
};

class Fleet {
 public:
  Fleet(boost::asio::io_context& io, FleetOptions options, TimeSource& time = RealTime());
  ~Fleet();

  // Binds every listener. kInvalidArgument for bad options (meters outside 1..1000, ports past
  // 65535, a type missing from the registry, a type other than janitza-umg96rm-e without a
  // registry, more than 247 meters behind a gateway, a fault for an unknown meter), kUnavailable
  // when a port cannot be bound (listeners already opened are closed).
  Status Start();
  void Stop();

  // Valid after Start.
  const std::vector<MeterEndpoint>& endpoints() const { return endpoints_; }
  // The physics of meter i (for tests).
  MeterPhysics& physics(size_t i) { return meters_[i]->physics; }
  // The profile-driven register map of meter i; nullptr for the built-in UMG map.
  const ProfileRegisterMap* register_map(size_t i) const { return meters_[i]->map.get(); }
  // The fault injector in front of meter i.
  FaultInjector& faults(size_t i) { return *meters_[i]->faults; }
  // The clock of meter i (offset against the fleet's TimeSource; set by clock writes).
  MeterClock& clock(size_t i) { return meters_[i]->clock; }

  // Sets the faults of every meter: those in `faults`, no faults for the rest. Returns one line
  // per meter whose faults changed ("meter-03: none -> max_read_registers=10"). A meter whose
  // clock_offset_s changed gets its clock set to simulator time + that offset (a clock set by a
  // Modbus write is otherwise left alone). kInvalidArgument (and nothing changed) when a key
  // names no meter. Valid after Start.
  Result<std::vector<std::string>> ApplyFaults(const std::vector<MeterFault>& faults);

  // The endpoints as TOML [[meter]] tables (key, host, port, unit_id, profile; gateway meters
  // also transport = "tcp").
  std::string MetersToml() const;
  // Writes MetersToml() to `path` (via a temporary file and rename). kUnavailable on I/O errors.
  Status WriteMetersFile(const std::filesystem::path& path) const;

 private:
  // The index of "meter-NN" among `count` meters.
  static std::optional<size_t> MeterIndex(std::string_view key, size_t count);

  struct Meter {
    Meter(uint64_t seed, TimeSource& time) : physics(seed, time) {}
    MeterPhysics physics;
    MeterClock clock;
    std::unique_ptr<ProfileRegisterMap> map;  // null: built-in UMG map
    std::unique_ptr<FaultInjector> faults;
    std::unique_ptr<modbus::TcpServer> server;  // null behind a gateway
  };

  boost::asio::io_context& io_;
  FleetOptions options_;
  TimeSource& time_;
  std::vector<std::unique_ptr<Meter>> meters_;
  std::vector<MeterEndpoint> endpoints_;
  // After meters_: gateways call into the meters' injectors, so they go first.
  std::vector<std::unique_ptr<Gateway>> gateways_;
};

// "none", or the non-default fields as "latency_ms=50 timeout_rate=0.1 ...".
std::string DescribeFaults(const FaultConfig& config);

}  // namespace wattline::sim
