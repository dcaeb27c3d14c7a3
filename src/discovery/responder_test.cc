#include "discovery/responder.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <set>
#include <thread>

namespace wattline::discovery {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using namespace std::chrono_literals;

TEST(RateLimiterTest, AllowsLimitPerWindowPerKey) {
  RateLimiter limiter(3, 1s);
  auto t0 = RateLimiter::Clock::time_point{} + 100s;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow(1, t0 + i * 100ms)) << i;
  EXPECT_FALSE(limiter.Allow(1, t0 + 500ms));
  EXPECT_TRUE(limiter.Allow(2, t0 + 500ms));  // another source has its own budget
  EXPECT_FALSE(limiter.Allow(1, t0 + 999ms));
  EXPECT_TRUE(limiter.Allow(1, t0 + 1000ms));  // the first event left the window
  EXPECT_FALSE(limiter.Allow(1, t0 + 1050ms));
}

TEST(RateLimiterTest, ForgetsOldestKeyWhenFull) {
  RateLimiter limiter(1, 1s, 2);
  auto t0 = RateLimiter::Clock::time_point{} + 100s;
  EXPECT_TRUE(limiter.Allow(1, t0));
  EXPECT_TRUE(limiter.Allow(2, t0 + 10ms));
  EXPECT_TRUE(limiter.Allow(3, t0 + 20ms));  // key 1 forgotten
  EXPECT_TRUE(limiter.Allow(1, t0 + 30ms));  // so it starts afresh
  EXPECT_FALSE(limiter.Allow(1, t0 + 40ms));
}

Answer Node(NodeKind kind, std::string name, uint16_t port) {
  Answer a;
  a.kind = kind;
  a.identity = {.vendor = "Wattline", .model = "test", .serial = "", .name = std::move(name)};
  a.endpoints.push_back({.ipv4 = 0x7F000001, .port = port, .unit_ids = {1}, .profile = "x"});
  return a;
}

class ResponderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<Answer> nodes = {Node(NodeKind::kMeter, "m1", 5020),
                                 Node(NodeKind::kMeter, "m2", 5021),
                                 Node(NodeKind::kGateway, "g1", 6000)};
    responder_ = std::make_unique<Responder>(
        io_, nodes,
        ResponderOptions{.address = "127.0.0.7", .port = 0, .max_queries_per_second = 3});
    ASSERT_TRUE(responder_->Start().ok());
    ASSERT_NE(responder_->port(), 0);
    client_.open(udp::v4());
    client_.bind(udp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
    server_ = udp::endpoint(asio::ip::make_address_v4("127.0.0.7"), responder_->port());
  }

  void Send(const std::string& bytes) { client_.send_to(asio::buffer(bytes), server_); }

  // Runs the io_context for `d` (the responder answers meanwhile), then reads what arrived.
  std::vector<Answer> Collect(std::chrono::milliseconds d = 300ms) {
    io_.restart();
    io_.run_for(d);
    std::vector<Answer> out;
    client_.non_blocking(true);
    std::string buf(2048, '\0');
    while (true) {
      boost::system::error_code ec;
      udp::endpoint from;
      size_t n = client_.receive_from(asio::buffer(buf), from, 0, ec);
      if (ec) break;
      auto m = DecodeDatagram(std::string_view(buf.data(), n));
      EXPECT_TRUE(m.has_value());
      if (m && std::holds_alternative<Answer>(*m)) out.push_back(std::get<Answer>(*m));
    }
    return out;
  }

  asio::io_context io_;
  std::unique_ptr<Responder> responder_;
  udp::socket client_{io_};
  udp::endpoint server_;
};

TEST_F(ResponderTest, AnswersEveryNodeWithTheQueryNonce) {
  Send(EncodeQuery({.nonce = 42, .kinds = 0}));
  auto answers = Collect();
  ASSERT_EQ(answers.size(), 3u);
  std::set<std::string> names;
  for (const auto& a : answers) {
    EXPECT_EQ(a.nonce, 42u);
    names.insert(a.identity.name);
  }
  EXPECT_EQ(names, (std::set<std::string>{"m1", "m2", "g1"}));
  EXPECT_EQ(responder_->stats().answered, 1u);
}

TEST_F(ResponderTest, AnswersOnlyTheKindsAskedFor) {
  Send(EncodeQuery({.nonce = 7, .kinds = KindBit(NodeKind::kGateway)}));
  auto answers = Collect();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].kind, NodeKind::kGateway);
  Send(EncodeQuery({.nonce = 8, .kinds = KindBit(NodeKind::kServer)}));
  EXPECT_TRUE(Collect().empty());
}

TEST_F(ResponderTest, IgnoresMalformedDatagramsAndAnswers) {
  std::string query = EncodeQuery({.nonce = 9, .kinds = 0});
  std::string corrupt = query;
  corrupt[10] ^= 0x55;
  Send("hello");
  Send(corrupt);
  Send(*EncodeAnswer(Node(NodeKind::kMeter, "stray", 1)));
  EXPECT_TRUE(Collect().empty());
  EXPECT_EQ(responder_->stats().malformed, 3u);
  // Still serving afterwards.
  Send(query);
  EXPECT_EQ(Collect().size(), 3u);
}

TEST_F(ResponderTest, RateLimitsOneSource) {
  for (uint64_t i = 0; i < 10; ++i) Send(EncodeQuery({.nonce = 100 + i, .kinds = 0}));
  auto answers = Collect();
  EXPECT_EQ(answers.size(), 3u * 3u);  // 3 queries answered, 3 nodes each
  EXPECT_EQ(responder_->stats().rate_limited, 7u);
  EXPECT_EQ(responder_->stats().queries, 10u);
}

TEST(ResponderStartTest, RefusesBadAddressAndDoubleStart) {
  asio::io_context io;
  Responder bad(io, {},
                ResponderOptions{.address = "not-an-ip", .port = 0, .max_queries_per_second = 1});
  EXPECT_EQ(bad.Start().code(), Code::kInvalidArgument);
  Responder ok(io, {},
               ResponderOptions{.address = "127.0.0.1", .port = 0, .max_queries_per_second = 1});
  ASSERT_TRUE(ok.Start().ok());
  EXPECT_EQ(ok.Start().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace wattline::discovery
