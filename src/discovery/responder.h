// Responder: answers discovery queries (protocol.h) on one UDP socket for a fixed list of
// nodes: each query that asks for a node's kind gets one Answer datagram per such node, sent
// back to the query's source address and port.
//
// Rate limit: one source address gets at most `max_queries_per_second` queries answered per
// second (a sliding one-second window); further queries are dropped, so a flood of spoofed
// queries cannot turn the node into an amplifier. Malformed datagrams and answers are ignored
// with a debug log line.
//
// Thread-safety: not thread-safe; construct, Start and Stop on the io_context's thread (or
// before it runs). Destroying the responder stops it; its receive loop holds shared state and
// ends safely on the next run of the io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "discovery/protocol.h"

namespace wattline::discovery {

// Sliding-window limit of events per key: at most `limit` in any `window`. Tracks at most
// `max_keys` keys (the oldest-used key is forgotten first). Pure: time is passed in.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  RateLimiter(int limit, Clock::duration window, size_t max_keys = 4096);

  // True (and the event is counted) when `key` has had fewer than `limit` events in the window
  // ending at `now`.
  bool Allow(uint32_t key, Clock::time_point now);

 private:
  int limit_;
  Clock::duration window_;
  size_t max_keys_;
  std::map<uint32_t, std::deque<Clock::time_point>> events_;
};

struct ResponderOptions {
  std::string address = "0.0.0.0";  // 0.0.0.0 also receives broadcasts
  uint16_t port = kDefaultPort;     // 0: an ephemeral port
  int max_queries_per_second = 5;   // per source address
};

struct ResponderStats {
  uint64_t queries = 0;       // well-formed queries received
  uint64_t answered = 0;      // queries answered (with at least one datagram)
  uint64_t rate_limited = 0;  // queries dropped by the rate limit
  uint64_t malformed = 0;     // datagrams that failed to decode, and stray answers
};

class Responder {
 public:
  // `nodes`: what to answer (their nonces are replaced by the query's). Nodes that do not
  // encode (EncodeAnswer fails) are logged and skipped at Start.
  Responder(boost::asio::io_context& io, std::vector<Answer> nodes, ResponderOptions options = {});
  ~Responder();
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  // Binds the socket (SO_REUSEADDR, so several responders on one host all get broadcasts) and
  // starts answering. kInvalidArgument for a bad address, kUnavailable when binding fails,
  // kFailedPrecondition when already started.
  Status Start();
  void Stop();

  // The bound port (after Start).
  uint16_t port() const;
  ResponderStats stats() const;

 public:
  // Implementation detail, declared here for the .cc's free helpers.
  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace wattline::discovery
