// Discoverer: finds Modbus meters on the connector's networks in two ways.
//
//  - Broadcast: sends a discovery Query (protocol.h) to the broadcast address of every local
//    IPv4 subnet that can broadcast (and to configured extra targets), and collects the Answers
//    that arrive within a window. Each offered endpoint and unit id becomes a Device.
//  - Active scan: tries a TCP connect to every host of the local subnets (only subnets of /22
//    or smaller) or of configured ranges, on the configured ports, at most
//    `connects_per_second` new connects per second and `max_parallel` at once. Hosts that accept
//    are identified over Modbus: the FC43/14 basic objects against every profile's <device-id>
//    rules, else the profiles' <register> rules, else the FC43 vendor and product code against
//    the profiles' vendor and model (see docs/discovery.md for ties).
//
// ContinuousDiscovery repeats both on intervals and reports devices that appear and vanish.
//
// Thread-safety: not thread-safe; use from coroutines on one single-threaded io_context. The
// registry must outlive the discoverer, the discoverer the coroutines that use it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "discovery/protocol.h"
#include "profiles/profile_registry.h"

namespace wattline::discovery {

// Addresses first..last (host byte order, inclusive).
struct Ipv4Range {
  uint32_t first = 0;
  uint32_t last = 0;
  uint64_t size() const { return uint64_t{last} - first + 1; }
  bool operator==(const Ipv4Range&) const = default;
};

// The hosts of a subnet: "10.0.0.0/24" -> 10.0.0.1..10.0.0.254 (a /31 or /32: all of it).
// kInvalidArgument for bad text or a prefix shorter than `min_prefix` (too many hosts to scan).
Result<Ipv4Range> ParseCidrHosts(std::string_view cidr, int min_prefix = 22);
// "127.0.1.1-127.0.1.40". kInvalidArgument for bad text, first > last, or more than 4096 hosts.
Result<Ipv4Range> ParseRange(std::string_view text);

// One IPv4 address of a local interface that is up and not loopback.
struct LocalSubnet {
  std::string interface;
  uint32_t address = 0;
  int prefix = 0;
  uint32_t broadcast = 0;  // 0 when the interface cannot broadcast
};
// The host's subnets (getifaddrs). Empty when none or getifaddrs fails.
std::vector<LocalSubnet> LocalIpv4Subnets();

// How a device was found: bits, a device may be found both ways.
inline constexpr uint8_t kFoundByBroadcast = 1;
inline constexpr uint8_t kFoundByScan = 2;

struct Device {
  std::string host;  // dotted quad
  uint16_t port = 0;
  uint8_t unit_id = 1;
  std::string profile;     // matched or announced profile id; empty: unknown Modbus device
  std::string matched_by;  // "announced", "device-id", "registers", "name", "" (unknown)
  std::vector<std::string> candidates;  // every profile that matched, when more than one did
  std::string identity;                 // "Janitza UMG 96RM-E 1.0.0", or "unknown Modbus device"
  std::string serial;
  std::string name;  // the node's own name (broadcast answers only)
  NodeKind kind = NodeKind::kMeter;
  uint8_t found_by = 0;  // kFoundBy* bits

  // "10.0.0.5:502/1": what identifies a device across rounds.
  std::string Key() const;
};

// Adds `found` into `into`: a device already there (same Key) gains the new found_by bits and
// keeps its profile unless it had none.
void MergeDevices(std::vector<Device>& into, const std::vector<Device>& found);

struct DiscovererOptions {
  uint16_t discovery_port = kDefaultPort;
  // Query every local subnet's broadcast address.
  bool broadcast_interfaces = true;
  // Further addresses to query (unicast or broadcast), e.g. 127.0.0.2 in loopback tests.
  std::vector<std::string> query_targets;
  std::chrono::milliseconds answer_window{1500};

  // Hosts to scan; empty: the hosts of the local subnets of /22 or smaller.
  std::vector<Ipv4Range> scan_ranges;
  std::vector<uint16_t> ports{502};
  std::vector<uint8_t> unit_ids{1};
  int connects_per_second = 50;
  int max_parallel = 16;
  std::chrono::milliseconds connect_timeout{500};
  std::chrono::milliseconds request_timeout{500};
  // Scan targets for which this returns true are not probed, e.g. endpoints the connector polls
  // already (many meters accept only one or two TCP connections). Unset: probe everything.
  std::function<bool(const std::string& host, uint16_t port)> skip;
};

// (probes done, probes in total); one probe is one host:port.
using ProgressFn = std::function<void(size_t done, size_t total)>;

class Discoverer {
 public:
  Discoverer(boost::asio::any_io_executor executor, const profiles::ProfileRegistry& profiles,
             DiscovererOptions options);

  // Queries and collects answers for options.answer_window. Malformed answers and answers to
  // another nonce are ignored (debug log). A target that cannot be sent to is logged and skipped.
  boost::asio::awaitable<std::vector<Device>> Broadcast();

  // Connects to every scan target (rate-limited) and identifies the ones that accept.
  // `progress` is called after each probe.
  boost::asio::awaitable<std::vector<Device>> Scan(ProgressFn progress = {});

  // Identifies the Modbus device(s) at host:port, one per configured unit id that answers
  // Modbus. Empty when nothing answers Modbus there.
  boost::asio::awaitable<std::vector<Device>> Identify(std::string host, uint16_t port);

  // What Scan probes: options.scan_ranges, or the local subnets' hosts without our own address.
  std::vector<Ipv4Range> ScanRanges() const;

  const DiscovererOptions& options() const { return options_; }
  boost::asio::any_io_executor executor() const { return executor_; }

 private:
  boost::asio::awaitable<std::vector<Device>> IdentifyAll(std::string host, uint16_t port);

  boost::asio::any_io_executor executor_;
  const profiles::ProfileRegistry& profiles_;
  DiscovererOptions options_;
};

struct ContinuousOptions {
  std::chrono::milliseconds broadcast_interval{10000};               // 0: never broadcast
  std::chrono::milliseconds scan_interval{std::chrono::minutes(5)};  // 0: never scan
  // A device vanishes after this many broadcasts in a row that missed it (if broadcast found
  // it) or one scan that missed it (if only the scan found it).
  int broadcast_misses = 3;
};

// Runs broadcasts and scans on their intervals and reports changes. `on_change(device, true)`
// for a device seen for the first time (or again after it vanished), `(device, false)` when
// it vanished. Thread-safety as Discoverer.
class ContinuousDiscovery {
 public:
  using ChangeFn = std::function<void(const Device& device, bool appeared)>;
  ContinuousDiscovery(Discoverer& discoverer, ContinuousOptions options, ChangeFn on_change);
  ~ContinuousDiscovery();

  // Starts the loop on the discoverer's executor (first broadcast and scan at once).
  void Start();
  // Stops the loop: no callback runs after Stop returns (a round in progress finishes its
  // network I/O on the executor and reports nothing).
  void Stop();

  // Bookkeeping of one round (public for tests): `found_by` is kFoundByBroadcast or
  // kFoundByScan, `found` that round's devices.
  void Update(uint8_t found_by, const std::vector<Device>& found);

  // The devices currently present.
  std::vector<Device> devices() const;

 private:
  struct Tracked {
    Device device;
    int broadcast_misses = 0;
    int scan_misses = 0;
  };
  boost::asio::awaitable<void> Loop(std::shared_ptr<bool> stopped);

  Discoverer& discoverer_;
  ContinuousOptions options_;
  ChangeFn on_change_;
  std::map<std::string, Tracked> present_;
  std::shared_ptr<bool> stopped_;
  std::unique_ptr<boost::asio::steady_timer> timer_;
};

}  // namespace wattline::discovery
