// TcpServer: a Modbus TCP server that hands each request PDU to a handler and sends back the
// handler's response PDU, framed with the request's transaction id and unit id.
//
// Each accepted connection is served by its own coroutine; requests on one connection are
// answered in order. A frame with a bad MBAP header (protocol id not 0, length outside 2..254)
// closes that connection with a log line; the server keeps accepting. A handler that throws
// also closes only that connection. A handler returning an empty string sends no reply (useful
// to simulate a silent device). A ReplyHandler can also delay its answer (only that connection
// waits), close the connection, send raw bytes instead of a frame, or answer with a different
// transaction id: the hooks the simulator's fault injection needs.
//
// Thread-safety: not thread-safe; call all methods on the io_context's thread (or before it
// runs). The handler is called on that thread. Destroying the server stops it; its coroutines
// hold shared state, so they finish safely on the next run of the io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace wattline::modbus {

class TcpServer {
 public:
  using Handler = std::function<std::string(uint8_t unit, std::string_view request_pdu)>;

  struct Reply {
    enum class Action : uint8_t {
      kPdu = 0,    // frame `bytes` as the response PDU (empty: no reply)
      kNone = 1,   // send nothing, keep the connection
      kClose = 2,  // close the connection without answering
      kRaw = 3,    // write `bytes` as they are (garbage, partial frames)
    };
    Action action = Action::kPdu;
    std::string bytes;
    std::chrono::microseconds delay{0};  // before acting; later requests on the connection wait
    int transaction_id_delta = 0;        // kPdu: answer with the request's id plus this
  };
  using ReplyHandler = std::function<Reply(uint8_t unit, std::string_view request_pdu)>;

  TcpServer(boost::asio::io_context& io, Handler handler);
  TcpServer(boost::asio::io_context& io, ReplyHandler handler);
  ~TcpServer();
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  // Binds host:port (port 0 picks an ephemeral port) and starts accepting. Returns
  // kInvalidArgument for an unparsable address, kUnavailable when binding fails,
  // kFailedPrecondition when already listening.
  Status Listen(const std::string& host, uint16_t port);

  // The bound port (valid after a successful Listen).
  uint16_t port() const;

  // Stops accepting and closes every open connection. Idempotent.
  void Stop();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace wattline::modbus
