// Poller: the connector's meter poll scheduler. One coroutine per meter polls on the meter's
// cycle, aligned to wall-clock boundaries (cycle 1 s: every full second) plus the meter's slot
// within the cycle (PollerOptions::stagger spreads the endpoints evenly), reads the registers
// its profile needs with as few block reads as the read plan allows, decodes them and hands one
// wire::MeterReading per successful poll to the sink, stamped with the poll's scheduled time.
//
// Meters on one physical endpoint (unit ids behind one gateway at host:port, or one serial line)
// share one modbus::Client, whose requests are serialized (with the RTU silent interval and the
// largest pause of its meters: MeterConfig::pause_between_requests or the profile's pause-ms);
// meters on different endpoints are polled in parallel. Block reads a device rejects with
// exception 02/03 are split and the split is remembered for that meter (AdaptiveReads). A meter
// that times out or answers garbage is counted in its MeterStatus and logged (first failure, then
// at most once a minute, and on recovery); it never stops the poller and never delays meters on
// other endpoints. A poll that overruns its cycle skips the missed slots.
//
// After a meter's first successful poll the poller reads, once, its identity signals and (when
// the profile has <history>) its recorded interval values, delivering those older than the first
// poll as readings of the history signal, so nothing the meter recorded before is lost; and it
// reads the meter's clock. Once a day (PollerOptions::clock_sync_time) it sets the clocks of the
// meters whose profile has <clock> (edge/meter_contact.h). Results are in MeterStatus.
//
// Thread-safety: construct, Start and Stop on the io_context's thread (or before it runs); the
// sink is called on that thread. Statuses() is safe from any thread. The registry must outlive
// the poller; after Stop the io_context must run once more to let coroutines finish (or be
// destroyed), which is safe because they hold the poller's state alive themselves.
#pragma once

#include <toml++/toml.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "modbus/client.h"
#include "modbus/rtu_client.h"
#include "profiles/profile_registry.h"
#include "wire/reading.h"

namespace wattline::edge {

enum class Transport : uint8_t {
  kTcp = 0,         // Modbus TCP (MBAP)
  kRtuOverTcp = 1,  // RTU frames on a TCP connection to a transparent serial gateway
  kSerial = 2,      // RTU on a local serial port
};

// "tcp", "rtu-over-tcp", "serial" (as in configs, the web API and endpoint ids), and back;
// nullopt for any other text.
std::string_view TransportName(Transport transport);
std::optional<Transport> ParseTransport(std::string_view name);

struct MeterConfig {
  std::string key;  // stable device key, e.g. "meter-01"
  std::string host;
  uint16_t port = 502;
  uint8_t unit_id = 1;
  std::string profile;  // profile id, e.g. "janitza-umg96rm-e"
  std::chrono::milliseconds cycle{1000};
  Transport transport = Transport::kTcp;
  // kSerial: the line settings (device, baud, parity, stop bits). kRtuOverTcp: serial.baud is
  // the baud rate of the line behind the gateway (for the silent interval).
  modbus::SerialOptions serial{};
  std::chrono::milliseconds pause_between_requests{0};
};

// Reads the `[[meter]]` array of tables of a config: key, profile (required), transport ("tcp"
// default, "rtu-over-tcp", "serial"), host and port (required for tcp and rtu-over-tcp),
// serial_port (required for serial), baud (default 9600), parity ("N", "E" default, "O"),
// stop_bits (1 default, or 2), unit_id (default 1), cycle_ms (default 1000, at least 100),
// pause_ms (default 0). kInvalidArgument naming the meter, the key and the line for a missing
// or wrong-typed value, an out-of-range number or a duplicate key. No [[meter]] tables gives an
// empty list.
Result<std::vector<MeterConfig>> MeterConfigsFromToml(const toml::table& config);

struct MeterStatus {
  std::string key;
  Status last_error;                   // Ok when the last poll succeeded (or none ran yet)
  int64_t last_response_time_ms = -1;  // duration of the last successful poll, -1: none yet
  uint64_t request_count = 0;          // Modbus requests sent
  uint64_t error_count = 0;            // failed polls
  uint64_t split_count = 0;            // block reads split after exception 02/03 (learned)
  int64_t last_success_ts_ms = 0;      // scheduled time of the last successful poll, 0: none
  int64_t slot_offset_ms = 0;          // the meter's slot: polled at multiples of its cycle + this
  // First contact (after the first successful poll): identity and recorded history.
  bool contacted = false;
  std::map<std::string, std::string> identity;  // "serial_number" -> "70000042", ...
  uint32_t history_records = 0;                 // recorded values delivered at first contact
  Status contact_error;                         // what first contact could not read
  // The meter's clock (profiles with <clock>): read at first contact and at each daily sync.
  bool clock_known = false;
  int64_t clock_drift_ms = 0;      // meter clock minus the connector's, at the last read
  int64_t last_clock_sync_ms = 0;  // wall-clock time of the last successful sync, 0: none
  Status clock_error;              // of the last clock read or sync
};

struct PollerOptions {
  modbus::ClientOptions client;  // connect and per-request timeouts
  // Spread the endpoints over their cycle: with n endpoints on a cycle c, the k-th (in
  // configuration order) is polled at every multiple of c plus k*c/n, and its readings carry
  // that time. Off: every meter is polled at the multiples of its cycle.
  bool stagger = true;
  // Daily clock synchronization of every meter whose profile has a <clock>: each day at this
  // time (UTC, after midnight) the meter's clock is set to the connector's. nullopt: off.
  std::optional<std::chrono::seconds> clock_sync_time = std::chrono::minutes(5);
};

class Poller {
 public:
  using Sink = std::function<void(wire::MeterReading)>;

  Poller(boost::asio::io_context& io, const profiles::ProfileRegistry& registry,
         std::vector<MeterConfig> meters, Sink sink, PollerOptions options = {},
         TimeSource& time = RealTime());
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Starts one poll coroutine per meter. kFailedPrecondition when a meter names a profile the
  // registry does not have, kInvalidArgument for duplicate keys or a zero cycle, also when
  // already started.
  Status Start();

  // Stops polling: cancels waits and in-flight requests, closes connections. Idempotent.
  void Stop();

  // One entry per meter, in configuration order.
  std::vector<MeterStatus> Statuses() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace wattline::edge
