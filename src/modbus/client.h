// Client: what the poller needs from any Modbus transport (Modbus TCP, RTU over TCP, RTU on a
// serial line). One Client object is one physical endpoint: a TCP device, a TCP->RTU gateway or
// a serial line. Its requests are serialized (one in flight at a time, optional pause between
// them), so several unit ids behind one endpoint share one Client.
//
// Failures are Status values, never exceptions:
//   kUnavailable        cannot connect/open (also while backing off after failed connects),
//                       connection reset, or a Modbus exception 04/05/06/0A/0B
//   kDeadlineExceeded   no complete reply within the request timeout (after the retries)
//   kInvalidArgument    malformed or mismatched reply, exception 02/03, bad request parameters
//   kFailedPrecondition exception 01 (function not supported)
//   kCancelled          Close() was called while the request was queued or in flight
//
// Thread-safety: not thread-safe. Use from coroutines on a single-threaded io_context. The
// client must outlive the coroutines that call it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace wattline::modbus {

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds request_timeout{1000};
  // Further attempts after a timeout or a lost connection (not after a Modbus exception or a
  // malformed reply). Each attempt gets the full request_timeout.
  int retries = 1;
  // Idle time kept between the end of one exchange and the next request on this endpoint
  // (slow devices, RS-485 bridges). RTU transports add the 3.5-character silent interval.
  std::chrono::milliseconds pause_between_requests{0};
  // After a failed connect, the endpoint is not tried again for a delay that doubles per
  // consecutive failure from reconnect_min up to reconnect_max, with jitter (50..100 %).
  std::chrono::milliseconds reconnect_min{500};
  std::chrono::milliseconds reconnect_max{30000};
};

class Client {
 public:
  virtual ~Client() = default;

  // Sends `request_pdu` to `unit` and returns the reply PDU, which may be an exception response
  // (the caller decodes it). Replies with a stale transaction id or from another unit are never
  // returned as this request's reply.
  virtual boost::asio::awaitable<Result<std::string>> Transact(uint8_t unit,
                                                               std::string request_pdu) = 0;

  // Reads `count` (1..125) registers at protocol address `address` with function 03 or 04.
  // Returns exactly `count` registers; an exception response becomes ExceptionStatus().
  boost::asio::awaitable<Result<std::vector<uint16_t>>> ReadRegisters(uint8_t unit,
                                                                      uint8_t function,
                                                                      uint16_t address,
                                                                      uint16_t count);

  // Writes `values` (1..123 registers) at protocol address `address` with function 16 and checks
  // that the reply echoes address and count; an exception response becomes ExceptionStatus().
  boost::asio::awaitable<Status> WriteRegisters(uint8_t unit, uint16_t address,
                                                std::vector<uint16_t> values);

  // Closes the connection and fails queued and in-flight requests with kCancelled.
  virtual void Close() = 0;

  // "tcp://127.0.0.1:502", "rtu-over-tcp://10.0.0.5:4001", "serial:///dev/ttyUSB0", for logs.
  virtual std::string Describe() const = 0;
};

}  // namespace wattline::modbus
