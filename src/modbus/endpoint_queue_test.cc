#include "modbus/endpoint_queue.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

namespace wattline::modbus {
namespace {

using namespace std::chrono_literals;

TEST(EndpointQueueTest, BackoffDoublesWithJitterUpToMax) {
  boost::asio::io_context io;
  EndpointQueue q(io.get_executor(), 100ms, 1000ms);
  EXPECT_TRUE(q.MayConnect());
  int64_t expected_max = 100;
  for (int i = 0; i < 6; ++i) {
    q.ConnectFailed();
    EXPECT_FALSE(q.MayConnect());
    auto left = q.BackoffLeft().count();
    EXPECT_LE(left, expected_max) << i;
    EXPECT_GE(left, expected_max / 2 - 5) << i;
    expected_max = std::min<int64_t>(expected_max * 2, 1000);
  }
  q.ConnectSucceeded();
  EXPECT_TRUE(q.MayConnect());
  EXPECT_EQ(q.BackoffLeft().count(), 0);
}

}  // namespace
}  // namespace wattline::modbus
