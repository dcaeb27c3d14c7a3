#include "http/websocket_session.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>

namespace wattline::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

WebSocketSession::WebSocketSession(TlsStream stream) : ws_(std::move(stream)) {}

void WebSocketSession::Send(std::shared_ptr<const std::string> text) {
  if (closed_) return;
  if (queue_.size() >= kMaxQueued) {
    queue_.pop_front();
    ++dropped_;
  }
  queue_.push_back(std::move(text));
  // Frames queued before the handshake is done wait for it: Run starts the write loop.
  if (accepted_ && !writing_) {
    writing_ = true;
    asio::co_spawn(
        ws_.get_executor(), [self = shared_from_this()] { return self->WriteLoop(); },
        asio::detached);
  }
}

asio::awaitable<void> WebSocketSession::WriteLoop() {
  auto self = shared_from_this();
  while (!queue_.empty() && !closed_) {
    std::shared_ptr<const std::string> frame = std::move(queue_.front());
    queue_.pop_front();
    beast::error_code ec;
    ws_.text(true);
    co_await ws_.async_write(asio::buffer(*frame), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      spdlog::debug("websocket write failed: {}", ec.message());
      Finish();
      break;
    }
  }
  writing_ = false;
}

void WebSocketSession::Close() {
  if (closed_) return;
  asio::co_spawn(
      ws_.get_executor(),
      [self = shared_from_this()]() -> asio::awaitable<void> {
        beast::error_code ec;
        co_await self->ws_.async_close(websocket::close_code::going_away,
                                       asio::redirect_error(asio::use_awaitable, ec));
      },
      asio::detached);
}

void WebSocketSession::Finish() {
  if (closed_) return;
  closed_ = true;
  queue_.clear();
  // The callbacks may drop the last other reference to this session.
  auto self = shared_from_this();
  auto callbacks = std::move(on_close_);
  on_close_.clear();
  for (auto& cb : callbacks) cb();
}

asio::awaitable<void> WebSocketSession::Run(BeastRequest upgrade_request) {
  auto self = shared_from_this();
  beast::get_lowest_layer(ws_).expires_never();
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws_.read_message_max(kMaxMessageBytes);
  // One frame per message: Beast's default splits messages into 4 KB frames, each its own TLS
  // record and send, which multiplies the cost of a broadcast to many clients.
  ws_.auto_fragment(false);
  beast::error_code ec;
  co_await ws_.async_accept(upgrade_request, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    spdlog::info("websocket handshake failed: {}", ec.message());
    Finish();
    co_return;
  }
  accepted_ = true;
  if (!queue_.empty() && !writing_) {
    writing_ = true;
    asio::co_spawn(
        ws_.get_executor(), [self = shared_from_this()] { return self->WriteLoop(); },
        asio::detached);
  }
  beast::flat_buffer buffer;
  while (!closed_) {
    co_await ws_.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    if (on_message_) on_message_(beast::buffers_to_string(buffer.data()));
    buffer.consume(buffer.size());
  }
  Finish();
}

}  // namespace wattline::http
