// EndpointQueue: the one-request-at-a-time turn of a physical Modbus endpoint (TCP device,
// gateway, serial line), plus its pacing and reconnect backoff. A coroutine Acquire()s the turn,
// does its exchange, and Release()s it; waiters are served in FIFO order. Before a request,
// WaitPace() keeps the configured idle time after the previous exchange.
//
// Thread-safety: not thread-safe; one io_context thread. Close() fails current waiters with
// kCancelled; the object must outlive the coroutines using it (destroy after Close() and one more
// run of the io_context, or rely on Close() having woken them before they touch it again).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "core/status.h"

namespace wattline::modbus {

class EndpointQueue {
 public:
  using Clock = std::chrono::steady_clock;

  EndpointQueue(boost::asio::any_io_executor executor, std::chrono::milliseconds reconnect_min,
                std::chrono::milliseconds reconnect_max);

  // One request's whole turn: waits for it, calls `attempt` up to 1 + `retries` times -- again
  // only after a transient transport failure (kDeadlineExceeded, kUnavailable) and not while
  // connects back off, since a retry would only be refused -- then marks the endpoint idle and
  // passes the turn on. Returns the last attempt's result; kCancelled when Close() was called
  // meanwhile (then `this` is not touched again).
  boost::asio::awaitable<Result<std::string>> Run(
      int retries, const std::function<boost::asio::awaitable<Result<std::string>>()>& attempt);

  // Waits for this caller's turn. kCancelled when Close() was called meanwhile (then the caller
  // must not call Release() nor touch the owner).
  boost::asio::awaitable<Status> Acquire();
  void Release();
  // Fails all waiters with kCancelled.
  void Close();

  // Sleeps until `gap` has passed since the last MarkIdle(). Returns false when cancelled.
  boost::asio::awaitable<bool> WaitPace(std::chrono::microseconds gap);
  void MarkIdle() { idle_since_ = Clock::now(); }

  // Reconnect backoff: whether a connect may be tried now, the time left otherwise.
  bool MayConnect() const { return Clock::now() >= next_connect_; }
  std::chrono::milliseconds BackoffLeft() const;
  void ConnectFailed();
  void ConnectSucceeded();

 private:
  struct Waiter;
  boost::asio::any_io_executor executor_;
  std::chrono::milliseconds reconnect_min_;
  std::chrono::milliseconds reconnect_max_;
  bool busy_ = false;
  std::deque<std::shared_ptr<Waiter>> waiters_;
  std::shared_ptr<boost::asio::steady_timer> pace_timer_;
  Clock::time_point idle_since_{};
  Clock::time_point next_connect_{};
  int connect_failures_ = 0;
  std::minstd_rand rng_;
};

}  // namespace wattline::modbus
