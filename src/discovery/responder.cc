#include "discovery/responder.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <variant>

namespace wattline::discovery {
namespace asio = boost::asio;
using asio::ip::udp;

RateLimiter::RateLimiter(int limit, Clock::duration window, size_t max_keys)
    : limit_(limit), window_(window), max_keys_(max_keys) {}

bool RateLimiter::Allow(uint32_t key, Clock::time_point now) {
  auto it = events_.find(key);
  if (it == events_.end()) {
    if (events_.size() >= max_keys_) {
      // Forget the key whose last event is oldest: it is the least likely to be limited.
      auto oldest = events_.begin();
      for (auto i = events_.begin(); i != events_.end(); ++i) {
        if (i->second.empty() ||
            (!oldest->second.empty() && i->second.back() < oldest->second.back())) {
          oldest = i;
        }
      }
      events_.erase(oldest);
    }
    it = events_.emplace(key, std::deque<Clock::time_point>{}).first;
  }
  auto& q = it->second;
  while (!q.empty() && now - q.front() >= window_) q.pop_front();
  if (static_cast<int>(q.size()) >= limit_) return false;
  q.push_back(now);
  return true;
}

struct Responder::State {
  State(asio::io_context& io, ResponderOptions o)
      : socket(io),
        options(std::move(o)),
        limiter(options.max_queries_per_second, std::chrono::seconds(1)) {}

  udp::socket socket;
  ResponderOptions options;
  std::vector<Answer> nodes;
  RateLimiter limiter;
  ResponderStats stats;
  bool started = false;
  bool stopped = false;
};

namespace {

asio::awaitable<void> ReceiveLoop(std::shared_ptr<Responder::State> s) {
  std::string buf(kMaxDatagram + 1, '\0');
  while (!s->stopped) {
    udp::endpoint from;
    boost::system::error_code ec;
    size_t n = co_await s->socket.async_receive_from(asio::buffer(buf.data(), buf.size()), from,
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (s->stopped || ec == asio::error::operation_aborted) break;
    if (ec) {
      spdlog::debug("discovery responder: receive failed: {}", ec.message());
      continue;
    }
    auto msg = DecodeDatagram(std::string_view(buf.data(), n));
    if (!msg) {
      ++s->stats.malformed;
      spdlog::debug("discovery responder: ignored {} bytes from {}:{}: {}", n,
                    from.address().to_string(), from.port(), msg.error().message());
      continue;
    }
    const auto* query = std::get_if<Query>(&*msg);
    if (!query) {
      ++s->stats.malformed;
      spdlog::debug("discovery responder: ignored an answer from {}:{}", from.address().to_string(),
                    from.port());
      continue;
    }
    ++s->stats.queries;
    uint32_t key = from.address().is_v4() ? from.address().to_v4().to_uint() : 0;
    if (!s->limiter.Allow(key, RateLimiter::Clock::now())) {
      ++s->stats.rate_limited;
      spdlog::debug("discovery responder: rate limit: query from {} dropped",
                    from.address().to_string());
      continue;
    }
    bool any = false;
    for (Answer node : s->nodes) {
      if (!Wants(*query, node.kind)) continue;
      node.nonce = query->nonce;
      auto bytes = EncodeAnswer(node);
      if (!bytes) continue;  // checked at Start
      co_await s->socket.async_send_to(asio::buffer(*bytes), from,
                                       asio::redirect_error(asio::use_awaitable, ec));
      if (s->stopped) co_return;
      if (ec) {
        spdlog::debug("discovery responder: answer to {}:{} failed: {}", from.address().to_string(),
                      from.port(), ec.message());
        break;
      }
      any = true;
    }
    if (any) ++s->stats.answered;
  }
}

}  // namespace

Responder::Responder(asio::io_context& io, std::vector<Answer> nodes, ResponderOptions options)
    : state_(std::make_shared<State>(io, std::move(options))) {
  for (auto& node : nodes) {
    if (auto bytes = EncodeAnswer(node); !bytes) {
      spdlog::warn("discovery responder: node '{} {}' not announced: {}", node.identity.vendor,
                   node.identity.model, bytes.error().message());
      continue;
    }
    state_->nodes.push_back(std::move(node));
  }
}

Responder::~Responder() { Stop(); }

Status Responder::Start() {
  State& s = *state_;
  if (s.started) return FailedPrecondition("discovery responder already started");
  boost::system::error_code ec;
  auto address = asio::ip::make_address_v4(s.options.address, ec);
  if (ec) return InvalidArgument("discovery responder: bad IPv4 address " + s.options.address);
  udp::endpoint ep(address, s.options.port);
  if (s.socket.open(udp::v4(), ec); ec) {
    return Unavailable("discovery responder: cannot open a UDP socket: " + ec.message());
  }
  s.socket.set_option(asio::socket_base::reuse_address(true), ec);
  if (s.socket.bind(ep, ec); ec) {
    s.socket.close();
    return Unavailable(fmt::format("discovery responder: cannot bind {}:{}: {}", s.options.address,
                                   s.options.port, ec.message()));
  }
  s.started = true;
  asio::co_spawn(s.socket.get_executor(), ReceiveLoop(state_), asio::detached);
  spdlog::info("discovery: answering on udp {}:{} for {} node(s)", s.options.address, port(),
               s.nodes.size());
  return Status::Ok();
}

void Responder::Stop() {
  State& s = *state_;
  if (s.stopped) return;
  s.stopped = true;
  boost::system::error_code ec;
  s.socket.close(ec);
}

uint16_t Responder::port() const {
  boost::system::error_code ec;
  auto ep = state_->socket.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

ResponderStats Responder::stats() const { return state_->stats; }

}  // namespace wattline::discovery
