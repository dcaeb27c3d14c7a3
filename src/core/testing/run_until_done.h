// Test helper: runs one coroutine on an io_context from the test's thread until it finishes.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>

namespace wattline::test {

// Runs `aw` on `io` (driving io from this thread) until it completes or `limit` passes, and
// returns its result; past the limit, get() on the unfinished future reports the hang.
template <typename T>
T RunUntilDone(boost::asio::io_context& io, boost::asio::awaitable<T> aw,
               std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto fut = boost::asio::co_spawn(io, std::move(aw), boost::asio::use_future);
  io.restart();  // a previous run may have stopped it
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready &&
         std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(std::chrono::milliseconds(50));
  }
  return fut.get();
}

}  // namespace wattline::test
