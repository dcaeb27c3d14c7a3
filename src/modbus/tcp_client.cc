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

struct TcpClient::Waiter {
  explicit Waiter(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  bool granted = false;
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
      conn_(std::make_shared<Connection>(executor_)) {}

TcpClient::~TcpClient() { Close(); }

bool TcpClient::connected() const { return conn_->connected; }

void TcpClient::Close() {
  conn_->cancelled = true;
  conn_->Shut();
  conn_->timer.cancel();
  conn_ = std::make_shared<Connection>(executor_);
  for (auto& w : waiters_) w->timer.cancel();
  waiters_.clear();
}

asio::awaitable<Status> TcpClient::Acquire() {
  if (!busy_) {
    busy_ = true;
    co_return Status::Ok();
  }
  auto w = std::make_shared<Waiter>(executor_);
  w->timer.expires_at(asio::steady_timer::time_point::max());
  waiters_.push_back(w);
  error_code ec;
  co_await w->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  // Only Release() grants; a cancel from Close() (or the client's destruction) does not, and
  // then `this` must not be touched.
  if (!w->granted) co_return Status(Code::kCancelled, "modbus client closed");
  co_return Status::Ok();
}

void TcpClient::Release() {
  if (!waiters_.empty()) {
    // Hand the turn over directly: busy_ stays true.
    auto w = waiters_.front();
    waiters_.pop_front();
    w->granted = true;
    w->timer.cancel();
    return;
  }
  busy_ = false;
}

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
  if (Status s = co_await Acquire(); !s.ok()) co_return Fail(s);
  Conn c = conn_;
  Result<std::string> result = Fail(Unavailable("not connected"));
  Status connected = Status::Ok();
  if (!c->connected) connected = co_await Connect(c);
  if (connected.ok()) {
    result = co_await Exchange(c, unit, request_pdu);
  } else {
    result = Fail(connected);
  }
  // After Close() the waiters were dropped and busy_ must simply be cleared by whoever held it.
  Release();
  co_return result;
}

asio::awaitable<Result<std::vector<uint16_t>>> TcpClient::ReadRegisters(uint8_t unit,
                                                                        uint8_t function,
                                                                        uint16_t address,
                                                                        uint16_t count) {
  ReadRequest request{function, address, count};
  auto pdu = EncodeReadRequest(request);
  if (!pdu) co_return Fail(pdu.error());
  auto reply = co_await Transact(unit, std::move(*pdu));
  if (!reply) co_return Fail(reply.error());
  co_return DecodeReadResponse(*reply, request);
}

}  // namespace wattline::modbus
