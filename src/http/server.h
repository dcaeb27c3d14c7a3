// HttpsServer: accepts TLS connections, parses HTTP/1.1 requests (keep-alive, size limits,
// timeouts), dispatches /api routes to a Router, upgrades WebSocket requests through a
// WebSocketHandler, and serves the browser app's static files from a folder (unknown paths
// without a file extension fall back to index.html so that client-side routes reload).
// Thread-safety: construct, Listen and Stop on the I/O thread; run the io_context on one thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "http/router.h"
#include "http/websocket_session.h"

namespace wattline::http {

// Decides about a WebSocket upgrade: returns an error Status to refuse (answered as a JSON
// error, e.g. 401), or a function that receives the accepted session and wires its callbacks.
using WebSocketOpen = std::function<void(std::shared_ptr<WebSocketSession>)>;
using WebSocketHandler = std::function<Result<WebSocketOpen>(Request&)>;

struct ServerOptions {
  std::string web_root;                  // static files; empty = none
  size_t body_limit = 16 * 1024 * 1024;  // larger bodies get 413
  int idle_timeout_s = 60;               // keep-alive connections idle longer are closed
};

class HttpsServer {
 public:
  HttpsServer(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> tls,
              const Router& router, ServerOptions options);
  ~HttpsServer();

  // Routes WebSocket upgrades for `path` to `handler`.
  void AddWebSocket(std::string path, WebSocketHandler handler);

  // Binds and starts accepting. Returns the bound port (useful with port 0), or kUnavailable
  // when the address cannot be bound.
  Result<uint16_t> Listen(const std::string& address, uint16_t port);

  // Stops accepting and closes open WebSocket sessions.
  void Stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Splits "host:port" (IPv4, [IPv6]:port or name:port). kInvalidArgument when malformed.
Result<std::pair<std::string, uint16_t>> ParseHostPort(const std::string& text);

}  // namespace wattline::http
