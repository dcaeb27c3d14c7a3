// Deadline: the request timeout of one connection, checked by a lazily re-armed timer.
//
// A client arms the deadline before each exchange and disarms it after. Arming a timer per
// request costs two timerfd_settime calls (arm, cancel) and two reactor operations, a measurable
// share of a loopback round trip. Here at most one timer wait is in flight: arming only moves
// `at` while the pending wait expires no later than the new deadline, and when the wait fires it
// re-checks `at` -- expired: the connection is shut (which completes its pending I/O with
// operation_aborted) and `timed_out` is set; not yet: it waits again until `at`; disarmed:
// nothing. So a connection busy with 100,000 requests a second touches the timer about once per
// timeout period.
//
// Use: a connection type C (held by shared_ptr, so a late timer handler never sees freed memory)
// with a member `Deadline deadline` and a method `void ShutForTimeout()`. Cancel the timer
// (`deadline.timer.cancel()`) when the connection is closed for good.
// Thread-safety: not thread-safe; the connection's io_context thread only.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>

namespace wattline::modbus {

struct Deadline {
  using Clock = boost::asio::steady_timer::clock_type;

  explicit Deadline(const boost::asio::any_io_executor& ex) : timer(ex) {}

  boost::asio::steady_timer timer;
  Clock::time_point at = Clock::time_point::max();  // max: disarmed
  uint64_t wait_id = 0;                             // id of the newest timer wait
  bool waiting = false;                             // a wait with id `wait_id` is pending
  bool timed_out = false;                           // the last armed deadline passed
};

namespace deadline_internal {

template <class C>
void Watch(const std::shared_ptr<C>& c) {
  Deadline& d = c->deadline;
  d.waiting = true;
  uint64_t id = ++d.wait_id;
  d.timer.async_wait([c, id](boost::system::error_code ec) {
    Deadline& d = c->deadline;
    if (id != d.wait_id) return;  // superseded by a wait for an earlier deadline
    d.waiting = false;
    if (ec || d.at == Deadline::Clock::time_point::max()) return;  // cancelled, or disarmed
    if (Deadline::Clock::now() < d.at) {
      d.timer.expires_at(d.at);
      Watch(c);
      return;
    }
    d.at = Deadline::Clock::time_point::max();
    d.timed_out = true;
    c->ShutForTimeout();
  });
}

}  // namespace deadline_internal

// Starts the deadline `timeout` from now and clears timed_out.
template <class C>
void ArmDeadline(const std::shared_ptr<C>& c, std::chrono::milliseconds timeout) {
  Deadline& d = c->deadline;
  d.timed_out = false;
  d.at = Deadline::Clock::now() + timeout;
  if (d.waiting && d.timer.expiry() <= d.at) return;  // that wait re-checks `at` when it fires
  d.timer.expires_at(d.at);  // cancels a later wait, whose handler then sees a stale id
  deadline_internal::Watch(c);
}

// The exchange is over: a pending wait finds nothing to do. Keeps timed_out.
inline void DisarmDeadline(Deadline& d) { d.at = Deadline::Clock::time_point::max(); }

}  // namespace wattline::modbus
