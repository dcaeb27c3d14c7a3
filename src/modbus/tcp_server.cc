#include "modbus/tcp_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <list>

#include "modbus/pdu.h"

namespace wattline::modbus {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

struct TcpServer::State {
  State(asio::io_context& io, ReplyHandler h) : acceptor(io), handler(std::move(h)) {}
  tcp::acceptor acceptor;
  ReplyHandler handler;
  uint16_t port = 0;
  bool stopped = false;
  std::list<std::shared_ptr<tcp::socket>> sockets;  // open connections, closed by Stop()
};

namespace {

asio::awaitable<void> Serve(std::shared_ptr<TcpServer::State> state,
                            std::shared_ptr<tcp::socket> socket) {
  error_code ec;
  std::string peer = "?";
  if (auto ep = socket->remote_endpoint(ec); !ec)
    peer = fmt::format("{}:{}", ep.address().to_string(), ep.port());
  for (;;) {
    std::array<char, kMbapHeaderSize> header;
    co_await asio::async_read(*socket, asio::buffer(header),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;  // peer closed or Stop()
    auto h = ParseMbapHeader(std::string_view(header.data(), header.size()));
    if (!h) {
      spdlog::warn("modbus server :{}: closing connection from {}: {}", state->port, peer,
                   h.error().message());
      break;
    }
    std::string pdu(h->pdu_size(), '\0');
    co_await asio::async_read(*socket, asio::buffer(pdu),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    TcpServer::Reply reply;
    try {
      reply = state->handler(h->unit_id, pdu);
    } catch (const std::exception& e) {
      spdlog::error("modbus server :{}: handler failed for {}: {}", state->port, peer, e.what());
      break;
    }
    if (reply.delay.count() > 0) {
      asio::steady_timer timer(socket->get_executor(), reply.delay);
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (state->stopped) break;
    }
    using Action = TcpServer::Reply::Action;
    if (reply.action == Action::kClose) break;
    if (reply.action == Action::kNone) continue;
    if (reply.bytes.empty()) continue;
    std::string frame;
    if (reply.action == Action::kRaw) {
      frame = std::move(reply.bytes);
    } else {
      if (reply.bytes.size() > kMaxMbapLength - 1) {
        spdlog::error("modbus server :{}: handler returned a {}-byte PDU; closing", state->port,
                      reply.bytes.size());
        break;
      }
      frame = EncodeFrame(static_cast<uint16_t>(h->transaction_id + reply.transaction_id_delta),
                          h->unit_id, reply.bytes);
    }
    co_await asio::async_write(*socket, asio::buffer(frame),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
  socket->close(ec);
  state->sockets.remove(socket);
}

asio::awaitable<void> Accept(std::shared_ptr<TcpServer::State> state) {
  for (;;) {
    auto socket = std::make_shared<tcp::socket>(state->acceptor.get_executor());
    error_code ec;
    co_await state->acceptor.async_accept(*socket, asio::redirect_error(asio::use_awaitable, ec));
    if (state->stopped) co_return;
    if (ec) {
      // Transient (e.g. too many open files): log and keep accepting.
      spdlog::warn("modbus server :{}: accept failed: {}", state->port, ec.message());
      continue;
    }
    socket->set_option(tcp::no_delay(true), ec);
    state->sockets.push_back(socket);
    asio::co_spawn(state->acceptor.get_executor(), Serve(state, socket), asio::detached);
  }
}

}  // namespace

TcpServer::TcpServer(asio::io_context& io, Handler handler)
    : state_(
          std::make_shared<State>(io, [h = std::move(handler)](uint8_t unit, std::string_view pdu) {
            return Reply{Reply::Action::kPdu, h(unit, pdu)};
          })) {}

TcpServer::TcpServer(asio::io_context& io, ReplyHandler handler)
    : state_(std::make_shared<State>(io, std::move(handler))) {}

TcpServer::~TcpServer() { Stop(); }

Status TcpServer::Listen(const std::string& host, uint16_t port) {
  if (state_->acceptor.is_open()) return FailedPrecondition("modbus server already listening");
  error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return InvalidArgument(fmt::format("bad listen address '{}': {}", host, ec.message()));
  tcp::endpoint endpoint(address, port);
  auto& acc = state_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acc.close();
    return Unavailable(fmt::format("cannot listen on {}:{}: {}", host, port, ec.message()));
  }
  state_->port = acc.local_endpoint(ec).port();
  asio::co_spawn(acc.get_executor(), Accept(state_), asio::detached);
  return Status::Ok();
}

uint16_t TcpServer::port() const { return state_->port; }

void TcpServer::Stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  error_code ec;
  state_->acceptor.close(ec);
  for (auto& s : state_->sockets) s->close(ec);
}

}  // namespace wattline::modbus
