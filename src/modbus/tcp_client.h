// TcpClient: an asynchronous Modbus TCP client for one endpoint (host:port), on Boost.Asio
// C++20 coroutines. One TCP connection (TCP_NODELAY) is opened lazily on the first request and
// reused; after any error the connection is closed and the next request reconnects.
//
// Requests are serialized: a call made while another is in flight waits its turn, so several
// unit ids behind one gateway can share one client (Modbus gateways handle one request at a
// time). Each request gets the next transaction id; a reply whose transaction id differs (a late
// answer to an earlier, timed-out request) is discarded, a reply with the wrong unit id or
// function code is an error. Failures are Status values, never exceptions:
//   kUnavailable       cannot resolve/connect, connection reset or closed by the peer,
//                      or a Modbus exception 04/05/06/0A/0B
//   kDeadlineExceeded  connect or request timeout
//   kInvalidArgument   malformed or mismatched reply, exception 02/03, bad request parameters
//   kFailedPrecondition exception 01 (function not supported)
//   kCancelled         Close() was called while the request was queued or in flight
//
// Thread-safety: not thread-safe. Use from coroutines on a single-threaded io_context (or one
// strand). The client must outlive the coroutines that call it; destroying it closes the socket.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "modbus/pdu.h"

namespace wattline::modbus {

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds request_timeout{1000};
};

class TcpClient {
 public:
  TcpClient(boost::asio::any_io_executor executor, std::string host, uint16_t port,
            ClientOptions options = {});
  ~TcpClient();
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  // Reads `count` (1..125) registers starting at protocol address `address` with function
  // `function` (03 holding or 04 input) from `unit`. Returns exactly `count` registers.
  boost::asio::awaitable<Result<std::vector<uint16_t>>> ReadRegisters(uint8_t unit,
                                                                      uint8_t function,
                                                                      uint16_t address,
                                                                      uint16_t count);

  // Sends `request_pdu` to `unit` and returns the reply PDU (which may be an exception
  // response; the caller decodes it). Errors as in the class comment.
  boost::asio::awaitable<Result<std::string>> Transact(uint8_t unit, std::string request_pdu);

  // Closes the connection and fails queued and in-flight requests with kCancelled.
  void Close();

  bool connected() const;
  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }

 public:
  // Implementation details, declared here for the .cc's free helpers.
  struct Connection;
  struct Waiter;

 private:
  boost::asio::awaitable<Status> Acquire();
  void Release();
  boost::asio::awaitable<Status> Connect(std::shared_ptr<Connection> c);
  boost::asio::awaitable<Result<std::string>> Exchange(std::shared_ptr<Connection> c, uint8_t unit,
                                                       const std::string& request_pdu);

  boost::asio::any_io_executor executor_;
  std::string host_;
  uint16_t port_;
  ClientOptions options_;
  std::shared_ptr<Connection> conn_;
  uint16_t next_transaction_id_ = 0;
  bool busy_ = false;
  bool closing_ = false;
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace wattline::modbus
