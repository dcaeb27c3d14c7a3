// The end of every program's main(): run the io_context until SIGINT or SIGTERM, then call
// `stop` (which ends the program's work cleanly) and stop the io_context.
#pragma once

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <functional>

namespace wattline {

inline void RunUntilSignal(boost::asio::io_context& io, std::function<void()> stop) {
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", sig);
    stop();
    io.stop();
  });
  io.run();
  spdlog::info("stopped");
}

}  // namespace wattline
