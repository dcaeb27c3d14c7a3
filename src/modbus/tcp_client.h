// TcpClient: the Modbus TCP transport (MBAP framing) for one endpoint (host:port), on Boost.Asio
// C++20 coroutines. One TCP connection (TCP_NODELAY) is opened lazily on the first request and
// reused; after a timeout or I/O error the connection is closed and the next attempt reconnects
// (failed connects back off exponentially with jitter, see ClientOptions).
//
// Requests are serialized (EndpointQueue), so several unit ids behind one gateway can share one
// client. Each request gets the next transaction id; a reply whose transaction id differs (a late
// answer to an earlier, timed-out request) is discarded, a reply with the wrong unit id or
// function code is an error (kInvalidArgument) and closes the connection. Other errors as in
// Client.
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
#include "modbus/client.h"
#include "modbus/endpoint_queue.h"
#include "modbus/pdu.h"

namespace wattline::modbus {

class TcpClient : public Client {
 public:
  TcpClient(boost::asio::any_io_executor executor, std::string host, uint16_t port,
            ClientOptions options = {});
  ~TcpClient() override;
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  // Sends `request_pdu` to `unit` and returns the reply PDU (which may be an exception
  // response; the caller decodes it). Errors as in the class comment.
  boost::asio::awaitable<Result<std::string>> Transact(uint8_t unit,
                                                       std::string request_pdu) override;

  // Closes the connection and fails queued and in-flight requests with kCancelled.
  void Close() override;
  std::string Describe() const override;

  bool connected() const;
  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }

 public:
  // Implementation details, declared here for the .cc's free helpers.
  struct Connection;

 private:
  boost::asio::awaitable<Result<std::string>> Attempt(uint8_t unit, const std::string& request_pdu);
  boost::asio::awaitable<Status> Connect(std::shared_ptr<Connection> c);
  boost::asio::awaitable<Result<std::string>> Exchange(std::shared_ptr<Connection> c, uint8_t unit,
                                                       const std::string& request_pdu);

  boost::asio::any_io_executor executor_;
  std::string host_;
  uint16_t port_;
  ClientOptions options_;
  std::shared_ptr<Connection> conn_;
  uint16_t next_transaction_id_ = 0;
  EndpointQueue queue_;
};

}  // namespace wattline::modbus
