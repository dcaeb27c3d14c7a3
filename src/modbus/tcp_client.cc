#include "modbus/tcp_client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <limits>

#include "modbus/deadline.h"

namespace wattline::modbus {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// Socket state shared with the deadline timer's handler, so that a handler that fires after the
// client moved on (or was destroyed) never touches freed memory.
struct TcpClient::Connection {
  explicit Connection(const asio::any_io_executor& ex) : socket(ex), resolver(ex), deadline(ex) {}

  void Shut() {
    error_code ignored;
    socket.close(ignored);
    resolver.cancel();
    connected = false;
    rx_size = 0;
  }
  // The deadline passed: closing completes the pending operation with operation_aborted.
  void ShutForTimeout() { Shut(); }

  tcp::socket socket;
  tcp::resolver resolver;
  Deadline deadline;
  bool connected = false;
  bool cancelled = false;  // Close() was called
  // Received bytes not yet consumed: replies are read with read_some into this buffer, so a
  // reply usually takes one read call instead of a header read and a body read. Room for two
  // frames of the largest size (MBAP header + length field's maximum - the unit id byte).
  std::array<char, 2 * (kMbapHeaderSize + kMaxMbapLength - 1)> rx;
  size_t rx_size = 0;
};

namespace {

using Conn = std::shared_ptr<TcpClient::Connection>;

}  // namespace

TcpClient::TcpClient(asio::any_io_executor executor, std::string host, uint16_t port,
                     ClientOptions options)
    : executor_(std::move(executor)),
      host_(std::move(host)),
      port_(port),
      options_(options),
      conn_(std::make_shared<Connection>(executor_)),
      queue_(executor_, options.reconnect_min, options.reconnect_max) {}

TcpClient::~TcpClient() { Close(); }

bool TcpClient::connected() const { return conn_->connected; }

void TcpClient::Close() {
  conn_->cancelled = true;
  conn_->Shut();
  conn_->deadline.timer.cancel();
  conn_ = std::make_shared<Connection>(executor_);
  queue_.Close();
}

std::string TcpClient::Describe() const { return fmt::format("tcp://{}:{}", host_, port_); }

asio::awaitable<Status> TcpClient::Connect(Conn c) {
  ArmDeadline(c, options_.connect_timeout);
  error_code ec;
  auto endpoints = co_await c->resolver.async_resolve(
      host_, std::to_string(port_), asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    co_await asio::async_connect(c->socket, endpoints,
                                 asio::redirect_error(asio::use_awaitable, ec));
  }
  bool timed_out = c->deadline.timed_out;
  DisarmDeadline(c->deadline);
  if (c->cancelled) co_return Status(Code::kCancelled, "modbus client closed");
  if (ec || timed_out) {
    c->Shut();
    if (timed_out) {
      co_return DeadlineExceeded(fmt::format("connect to {}:{} timed out after {} ms", host_, port_,
                                             options_.connect_timeout.count()));
    }
    co_return Unavailable(fmt::format("connect to {}:{}: {}", host_, port_, ec.message()));
  }
  c->socket.set_option(tcp::no_delay(true), ec);
  if (!ec) c->socket.non_blocking(true, ec);
  if (ec) {
    c->Shut();
    co_return Unavailable(fmt::format("{}:{}: socket options: {}", host_, port_, ec.message()));
  }
  c->connected = true;
  co_return Status::Ok();
}

asio::awaitable<Result<std::string>> TcpClient::Exchange(Conn c, uint8_t unit,
                                                         const std::string& request_pdu) {
  ArmDeadline(c, options_.request_timeout);
  uint16_t tid = ++next_transaction_id_;
  const std::string frame = EncodeFrame(tid, unit, request_pdu);

  auto failed = [&](error_code ec, std::string_view what) -> Status {
    bool timed_out = c->deadline.timed_out;
    DisarmDeadline(c->deadline);
    c->Shut();
    if (c->cancelled) return Status(Code::kCancelled, "modbus client closed");
    if (timed_out) {
      return DeadlineExceeded(fmt::format("{}:{} unit {}: no reply within {} ms", host_, port_,
                                          unit, options_.request_timeout.count()));
    }
    if (ec == asio::error::eof) {
      return Unavailable(
          fmt::format("{}:{}: connection closed by peer while {}", host_, port_, what));
    }
    return Unavailable(fmt::format("{}:{}: {} failed: {}", host_, port_, what, ec.message()));
  };

  // The socket is in non-blocking mode. A request is small, so one send nearly always takes it
  // whole at once; only a full send buffer falls back to waiting. Both this and the read below
  // save a trip through the reactor per request compared with async_write/async_read_some,
  // which matters on a fast link (docs/benchmarks.md).
  error_code ec;
  size_t sent = c->socket.write_some(asio::buffer(frame), ec);
  if (ec == asio::error::would_block) {
    ec = {};
    sent = 0;
  }
  if (!ec && sent < frame.size()) {
    co_await asio::async_write(c->socket, asio::buffer(frame) + sent,
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) co_return Fail(failed(ec, "sending request"));

  for (;;) {
    // Frames are taken from the front of c->rx; read on until one is complete.
    std::string_view have(c->rx.data(), c->rx_size);
    if (have.size() >= kMbapHeaderSize) {
      auto h = ParseMbapHeader(have.substr(0, kMbapHeaderSize));
      if (!h) {
        // We cannot find the next frame boundary in a stream we do not understand: reconnect.
        DisarmDeadline(c->deadline);
        c->Shut();
        co_return Fail(InvalidArgument(
            fmt::format("{}:{}: bad reply: {}", host_, port_, h.error().message())));
      }
      const size_t frame_size = kMbapHeaderSize + h->pdu_size();
      if (have.size() >= frame_size) {
        std::string pdu(have.substr(kMbapHeaderSize, h->pdu_size()));
        std::memmove(c->rx.data(), c->rx.data() + frame_size, have.size() - frame_size);
        c->rx_size -= frame_size;
        if (h->transaction_id != tid) {
          // A late reply to an earlier request that timed out; skip it and keep waiting.
          spdlog::debug("modbus {}:{}: discarding reply with transaction id {} (waiting for {})",
                        host_, port_, h->transaction_id, tid);
          continue;
        }
        DisarmDeadline(c->deadline);
        if (h->unit_id != unit) {
          c->Shut();
          co_return Fail(
              InvalidArgument(fmt::format("{}:{}: reply from unit {} to a request for unit {}",
                                          host_, port_, h->unit_id, unit)));
        }
        co_return pdu;
      }
    }
    // Wait until readable first: right after the request the reply cannot be there yet, so an
    // immediate read would only fail with EAGAIN.
    co_await c->socket.async_wait(tcp::socket::wait_read,
                                  asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Fail(failed(ec, "waiting for the reply"));
    size_t n =
        c->socket.read_some(asio::buffer(c->rx.data() + c->rx_size, c->rx.size() - c->rx_size), ec);
    if (ec == asio::error::would_block) continue;  // a spurious wake-up
    if (ec) co_return Fail(failed(ec, "reading reply"));
    c->rx_size += n;
  }
}

asio::awaitable<Result<std::string>> TcpClient::Transact(uint8_t unit, std::string request_pdu) {
  if (request_pdu.empty() || request_pdu.size() > kMaxMbapLength - 1) {
    co_return Fail(InvalidArgument(fmt::format("request PDU of {} bytes", request_pdu.size())));
  }
  // A local, not a temporary in the co_await expression (GCC 12 coroutine bug).
  const std::function<asio::awaitable<Result<std::string>>()> attempt = [&] {
    return Attempt(unit, request_pdu);
  };
  co_return co_await queue_.Run(options_.retries, attempt);
}

asio::awaitable<Result<std::string>> TcpClient::Attempt(uint8_t unit,
                                                        const std::string& request_pdu) {
  Conn c = conn_;
  if (!c->connected) {
    if (!queue_.MayConnect()) {
      co_return Fail(
          Unavailable(fmt::format("{}:{}: not reconnecting for another {} ms after "
                                  "failed connects",
                                  host_, port_, queue_.BackoffLeft().count())));
    }
    Status connected = co_await Connect(c);
    if (c->cancelled) co_return Fail(Status(Code::kCancelled, "modbus client closed"));
    if (!connected.ok()) {
      queue_.ConnectFailed();
      co_return Fail(connected);
    }
    queue_.ConnectSucceeded();
  }
  if (!co_await queue_.WaitPace(options_.pause_between_requests))
    co_return Fail(Status(Code::kCancelled, "modbus client closed"));
  co_return co_await Exchange(c, unit, request_pdu);
}

}  // namespace wattline::modbus
