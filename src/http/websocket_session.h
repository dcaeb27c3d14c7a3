// A server-side WebSocket connection over TLS. The owner pushes text frames with Send(); at most
// one write is in flight and at most kMaxQueued frames wait: a slow client loses its oldest
// frames rather than growing memory without bound.
// Thread-safety: every method must be called on the server's I/O thread (single-threaded
// io_context), which is where handlers and broadcasts run.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/message.h"

namespace wattline::http {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

class WebSocketSession : public std::enable_shared_from_this<WebSocketSession> {
 public:
  static constexpr size_t kMaxQueued = 64;
  static constexpr size_t kMaxMessageBytes = 1024 * 1024;

  explicit WebSocketSession(TlsStream stream);

  // Queues a text frame; the frame may be shared with other sessions (a broadcast is built once)
  // and must not change afterwards. Drops the oldest queued frame when the queue is full.
  void Send(std::shared_ptr<const std::string> text);
  // Starts a close handshake; the session ends afterwards.
  void Close();
  // Adds a callback called once when the session ends (client closed, error, or Close()).
  // Callbacks run in the order they were added (the server's own and the handler's).
  void OnClose(std::function<void()> callback) { on_close_.push_back(std::move(callback)); }
  // Called for each text message the client sends (at most kMaxMessageBytes; a larger one ends
  // the session with close code 1009).
  void OnMessage(std::function<void(const std::string&)> callback) {
    on_message_ = std::move(callback);
  }
  size_t dropped_frames() const { return dropped_; }

  // Accepts the upgrade request and runs the read loop until the connection ends.
  boost::asio::awaitable<void> Run(BeastRequest upgrade_request);

 private:
  boost::asio::awaitable<void> WriteLoop();
  void Finish();

  boost::beast::websocket::stream<TlsStream> ws_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  bool accepted_ = false;  // the upgrade handshake is done: frames may be written
  bool writing_ = false;
  bool closed_ = false;
  size_t dropped_ = 0;
  std::vector<std::function<void()>> on_close_;
  std::function<void(const std::string&)> on_message_;
};

}  // namespace wattline::http
