#include "modbus/endpoint_queue.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace wattline::modbus {

namespace asio = boost::asio;
using boost::system::error_code;

struct EndpointQueue::Waiter {
  explicit Waiter(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  bool granted = false;
};

EndpointQueue::EndpointQueue(asio::any_io_executor executor,
                             std::chrono::milliseconds reconnect_min,
                             std::chrono::milliseconds reconnect_max)
    : executor_(std::move(executor)),
      reconnect_min_(reconnect_min),
      reconnect_max_(reconnect_max),
      pace_timer_(std::make_shared<asio::steady_timer>(executor_)),
      rng_(std::random_device{}()) {}

asio::awaitable<Status> EndpointQueue::Acquire() {
  if (!busy_) {
    busy_ = true;
    co_return Status::Ok();
  }
  auto w = std::make_shared<Waiter>(executor_);
  w->timer.expires_at(asio::steady_timer::time_point::max());
  waiters_.push_back(w);
  error_code ec;
  co_await w->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  // Only Release() grants; a cancel from Close() does not, and then `this` must not be touched.
  if (!w->granted) co_return Status(Code::kCancelled, "modbus client closed");
  co_return Status::Ok();
}

asio::awaitable<Result<std::string>> EndpointQueue::Run(
    int retries, const std::function<asio::awaitable<Result<std::string>>()>& attempt) {
  if (Status s = co_await Acquire(); !s.ok()) co_return Fail(s);
  Result<std::string> result = Fail(Unavailable("not attempted"));
  for (int i = 0; i <= retries; ++i) {
    result = co_await attempt();
    if (result || result.error().code() == Code::kCancelled) break;
    Code code = result.error().code();
    if ((code != Code::kDeadlineExceeded && code != Code::kUnavailable) || !MayConnect()) break;
  }
  if (result || result.error().code() != Code::kCancelled) {
    MarkIdle();
    Release();
  }
  co_return result;
}

void EndpointQueue::Release() {
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

void EndpointQueue::Close() {
  for (auto& w : waiters_) w->timer.cancel();
  waiters_.clear();
  // The holder of the turn sees kCancelled and does not Release(): the queue is free again.
  busy_ = false;
  pace_timer_->cancel();
  // A fresh timer: a pacing wait that was cancelled returns false without touching `this`.
  pace_timer_ = std::make_shared<asio::steady_timer>(executor_);
}

asio::awaitable<bool> EndpointQueue::WaitPace(std::chrono::microseconds gap) {
  auto ready = idle_since_ + gap;
  if (gap.count() <= 0 || Clock::now() >= ready) co_return true;
  auto timer = pace_timer_;
  timer->expires_at(ready);
  error_code ec;
  co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

std::chrono::milliseconds EndpointQueue::BackoffLeft() const {
  auto left = next_connect_ - Clock::now();
  if (left.count() < 0) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(left);
}

void EndpointQueue::ConnectFailed() {
  // min * 2^failures, capped; then a uniform draw in [d/2, d] so that many connectors (or many
  // endpoints) that failed together do not retry in lockstep.
  int64_t d = reconnect_min_.count();
  for (int i = 0; i < connect_failures_ && d < reconnect_max_.count(); ++i) d *= 2;
  d = std::min<int64_t>(d, reconnect_max_.count());
  ++connect_failures_;
  std::uniform_int_distribution<int64_t> jitter(d / 2, d);
  next_connect_ = Clock::now() + std::chrono::milliseconds(jitter(rng_));
}

void EndpointQueue::ConnectSucceeded() {
  connect_failures_ = 0;
  next_connect_ = {};
}

}  // namespace wattline::modbus
