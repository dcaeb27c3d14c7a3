// Gateway: a simulated Modbus TCP -> RTU gateway. One Modbus TCP front (modbus::TcpServer)
// forwards each request by unit id to that unit's handler, and models the RS-485 line behind
// it: one exchange at a time, each taking the time on the wire of the RTU request and response
// frames at the configured baud rate (11 bits per character), plus the 3.5-character silent
// interval. Requests that arrive while the line is busy (from any connection) wait their turn;
// the answer is sent when the simulated exchange ends. An unknown unit id gets exception 0B
// (gateway target failed to respond), or no answer when so configured.
//
// Thread-safety: construct, AddUnit, Listen and Stop on the io_context's thread (or before it
// runs). Handlers are called on that thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "modbus/tcp_server.h"

namespace wattline::sim {

struct GatewayOptions {
  uint32_t baud = 9600;
  uint32_t bits_per_char = 11;        // start + 8 data + parity + stop
  bool silent_unknown_units = false;  // false: exception 0B; true: no answer
};

class Gateway {
 public:
  using UnitHandler = std::function<std::string(uint8_t unit, std::string_view pdu)>;

  Gateway(boost::asio::io_context& io, GatewayOptions options = {});
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Serves `unit` with `handler` (replacing an earlier one). The rich form takes a
  // FaultInjector::AsHandler() or anything else that can delay, drop or garble.
  void AddUnit(uint8_t unit, UnitHandler handler);
  void AddUnit(uint8_t unit, modbus::TcpServer::ReplyHandler handler);

  // As modbus::TcpServer::Listen.
  Status Listen(const std::string& host, uint16_t port);
  uint16_t port() const;
  void Stop();

  // Time the line is busy for one exchange of PDUs of these sizes: silent interval, request
  // frame (PDU + 3 bytes), response frame (0: no response), at `baud`.
  static std::chrono::microseconds BusTime(size_t request_pdu_bytes, size_t response_pdu_bytes,
                                           uint32_t baud, uint32_t bits_per_char = 11);

  // Answers one request as the TCP front does (for tests and for wrapping).
  modbus::TcpServer::Reply Handle(uint8_t unit, std::string_view pdu);

 private:
  GatewayOptions options_;
  std::map<uint8_t, modbus::TcpServer::ReplyHandler> units_;
  std::chrono::steady_clock::time_point line_free_at_{};
  std::unique_ptr<modbus::TcpServer> server_;
};

}  // namespace wattline::sim
