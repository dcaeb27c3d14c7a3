// FaultInjector: wraps a simulated meter's request handler and misbehaves like real devices and
// networks do: added latency, no answer (timeout), Modbus exceptions 02/04/06/0B, dropped
// connections, replies with a wrong transaction id, garbage bytes, and a maximum read size
// smaller than the profile claims (exception 03 above N registers). Faults are drawn per request
// with the configured probabilities (1.0: every request) from a seeded generator, and the
// configuration can be changed at run time with Set().
//
// Thread-safety: Set(), config() and stats() may be called from any thread; Handle() runs on the
// server's io_context thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

#include "modbus/tcp_server.h"

namespace wattline::sim {

struct FaultConfig {
  std::chrono::milliseconds latency{0};  // added before every answer
  double timeout_rate = 0;               // no answer at all
  double exception_rate = 0;             // answer `exception` instead
  uint8_t exception = 0x04;              // 02, 04, 06 or 0B (any code is sent as given)
  double drop_rate = 0;                  // close the connection instead of answering
  double wrong_tid_rate = 0;             // answer with transaction id + 1 (a stale-looking reply)
  double garbage_rate = 0;               // send bytes that are no Modbus frame
  uint16_t max_read_registers = 0;       // >0: reads of more registers get exception 03
  // The meter's clock runs this many seconds ahead (negative: behind) of the simulator's. Set on
  // the meter's MeterClock by Fleet when the value changes (at Start, on ApplyFaults); the
  // injector ignores it.
  int64_t clock_offset_s = 0;
};

struct FaultStats {
  uint64_t requests = 0;
  uint64_t timeouts = 0;
  uint64_t exceptions = 0;  // from exception_rate
  uint64_t drops = 0;
  uint64_t wrong_tids = 0;
  uint64_t garbage = 0;
  uint64_t oversized_reads = 0;  // answered 03 because of max_read_registers
};

class FaultInjector {
 public:
  using Handler = std::function<std::string(uint8_t unit, std::string_view pdu)>;

  explicit FaultInjector(Handler inner, FaultConfig config = {}, uint32_t seed = 1);

  void Set(const FaultConfig& config);
  FaultConfig config() const;
  FaultStats stats() const;

  // Answers one request: the inner handler's reply, or a fault.
  modbus::TcpServer::Reply Handle(uint8_t unit, std::string_view pdu);

  // A handler for modbus::TcpServer or sim::Gateway that calls Handle() on this injector, which
  // must outlive it.
  modbus::TcpServer::ReplyHandler AsHandler();

 private:
  bool Roll(double rate);

  Handler inner_;
  mutable std::mutex mutex_;
  FaultConfig config_;
  FaultStats stats_;
  std::mt19937 rng_;
};

}  // namespace wattline::sim
