#include "modbus/tcp_client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <limits>

namespace wattline::modbus {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// Socket state shared with the deadline timer's handler, so that a handler that fires after the
// client moved on (or was destroyed) never touches freed memory.
struct TcpClient::Connection {
  explicit Connection(const asio::any_io_executor& ex) : socket(ex), resolver(ex), timer(ex) {}

  void Shut() {
    error_code ignored;
    socket.close(ignored);
    resolver.cancel();
    connected = false;
  }

  tcp::socket socket;
  tcp::resolver resolver;
  asio::steady_timer timer;
  uint64_t generation = 0;  // bumped per armed deadline; stale timer handlers compare it
  bool timed_out = false;
  bool connected = false;
  bool cancelled = false;  // Close() was called
};

namespace {

using Conn = std::shared_ptr<TcpClient::Connection>;

}  // namespace

// The deadline closes the socket (and cancels resolving) when it passes, which completes
// whatever operation is pending with operation_aborted; timed_out tells that apart from Close().
static void Arm(const std::shared_ptr<TcpClient::Connection>& c, std::chrono::milliseconds d) {
  uint64_t gen = ++c->generation;
  c->timed_out = false;
  c->timer.expires_after(d);
  c->timer.async_wait([c, gen](error_code ec) {
    if (ec || c->generation != gen) return;
    c->timed_out = true;
    c->Shut();
  });
}

static void Disarm(const std::shared_ptr<TcpClient::Connection>& c) {
  ++c->generation;
  c->timer.cancel();
}

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
  conn_->timer.cancel();
  conn_ = std::make_shared<Connection>(executor_);
  queue_.Close();
}

std::string TcpClient::Describe() const { return fmt::format("tcp://{}:{}", host_, port_); }

asio::awaitable<Status> TcpClient::Connect(Conn c) {
  Arm(c, options_.connect_timeout);
  error_code ec;
  auto endpoints = co_await c->resolver.async_resolve(
      host_, std::to_string(port_), asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    co_await asio::async_connect(c->socket, endpoints,
                                 asio::redirect_error(asio::use_awaitable, ec));
  }
  bool timed_out = c->timed_out;
  Disarm(c);
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
  c->connected = true;
  co_return Status::Ok();
}

asio::awaitable<Result<std::string>> TcpClient::Exchange(Conn c, uint8_t unit,
                                                         const std::string& request_pdu) {
  Arm(c, options_.request_timeout);
  uint16_t tid = ++next_transaction_id_;
  const std::string frame = EncodeFrame(tid, unit, request_pdu);

  auto failed = [&](error_code ec, std::string_view what) -> Status {
    bool timed_out = c->timed_out;
    Disarm(c);
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

  error_code ec;
  co_await asio::async_write(c->socket, asio::buffer(frame),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return Fail(failed(ec, "sending request"));

  for (;;) {
    std::array<char, kMbapHeaderSize> header;
    co_await asio::async_read(c->socket, asio::buffer(header),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Fail(failed(ec, "reading reply header"));
    auto h = ParseMbapHeader(std::string_view(header.data(), header.size()));
    if (!h) {
      // We cannot find the next frame boundary in a stream we do not understand: reconnect.
      Disarm(c);
      c->Shut();
      co_return Fail(
          InvalidArgument(fmt::format("{}:{}: bad reply: {}", host_, port_, h.error().message())));
    }
    std::string pdu(h->pdu_size(), '\0');
    co_await asio::async_read(c->socket, asio::buffer(pdu),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Fail(failed(ec, "reading reply body"));
    if (h->transaction_id != tid) {
      // A late reply to an earlier request that timed out; skip it and keep waiting.
      spdlog::debug("modbus {}:{}: discarding reply with transaction id {} (waiting for {})", host_,
                    port_, h->transaction_id, tid);
      continue;
    }
    Disarm(c);
    if (h->unit_id != unit) {
      c->Shut();
      co_return Fail(InvalidArgument(fmt::format(
          "{}:{}: reply from unit {} to a request for unit {}", host_, port_, h->unit_id, unit)));
    }
    co_return pdu;
  }
}

asio::awaitable<Result<std::string>> TcpClient::Transact(uint8_t unit, std::string request_pdu) {
  if (request_pdu.empty() || request_pdu.size() > kMaxMbapLength - 1) {
    co_return Fail(InvalidArgument(fmt::format("request PDU of {} bytes", request_pdu.size())));
  }
  if (Status s = co_await queue_.Acquire(); !s.ok()) co_return Fail(s);
  Result<std::string> result = Fail(Unavailable("not attempted"));
  for (int attempt = 0; attempt <= options_.retries; ++attempt) {
    result = co_await Attempt(unit, request_pdu);
    if (result || result.error().code() == Code::kCancelled) break;
    // Only transient transport failures are retried; a refused connect starts the backoff, so
    // a retry would only be refused again.
    Code code = result.error().code();
    if ((code != Code::kDeadlineExceeded && code != Code::kUnavailable) || !queue_.MayConnect())
      break;
  }
  if (result || result.error().code() != Code::kCancelled) {
    queue_.MarkIdle();
    queue_.Release();
  }
  co_return result;
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
