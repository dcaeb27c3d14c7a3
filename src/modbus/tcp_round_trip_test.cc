#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "core/testing/run_until_done.h"
#include "modbus/pdu.h"
#include "modbus/register_decode.h"
#include "modbus/tcp_client.h"
#include "modbus/tcp_server.h"

namespace wattline::modbus {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

using test::RunUntilDone;

// Serves registers 19000..19003 = 230.1f, 50.0f for fc 03; exception 02 elsewhere.
std::string MeterHandler(uint8_t /*unit*/, std::string_view pdu) {
  auto req = DecodeReadRequest(pdu);
  if (!req)
    return EncodeException(pdu.empty() ? 0 : static_cast<uint8_t>(pdu[0]),
                           ExceptionCode::kIllegalFunction);
  if (req->function != kReadHoldingRegisters)
    return EncodeException(req->function, ExceptionCode::kIllegalFunction);
  if (req->address < 19000 || req->address + req->count > 19004) {
    return EncodeException(req->function, ExceptionCode::kIllegalDataAddress);
  }
  std::vector<uint16_t> image;
  for (float f : {230.1f, 50.0f}) {
    auto r = EncodeFloat32(f, WordOrder::kABCD);
    image.insert(image.end(), r.begin(), r.end());
  }
  return EncodeReadResponse(3, std::span(image).subspan(req->address - 19000, req->count));
}

class TcpRoundTripTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<TcpServer>(io_, [this](uint8_t unit, std::string_view pdu) {
      last_unit_ = unit;
      if (silent_) return std::string();
      return MeterHandler(unit, pdu);
    });
    ASSERT_TRUE(server_->Listen("127.0.0.1", 0).ok());
    ASSERT_NE(server_->port(), 0);
  }

  asio::io_context io_;
  std::unique_ptr<TcpServer> server_;
  uint8_t last_unit_ = 0;
  bool silent_ = false;
};

TEST_F(TcpRoundTripTest, ReadsFloatsOverLoopback) {
  TcpClient client(io_.get_executor(), "127.0.0.1", server_->port());
  auto regs = RunUntilDone(io_, client.ReadRegisters(17, kReadHoldingRegisters, 19000, 4));
  ASSERT_TRUE(regs.has_value()) << regs.error().ToString();
  EXPECT_FLOAT_EQ(DecodeFloat32(std::span(*regs).first<2>(), WordOrder::kABCD), 230.1f);
  EXPECT_FLOAT_EQ(DecodeFloat32(std::span(*regs).subspan<2, 2>(), WordOrder::kABCD), 50.0f);
  EXPECT_EQ(last_unit_, 17);
  EXPECT_TRUE(client.connected());
}

TEST_F(TcpRoundTripTest, ReusesConnectionAcrossRequests) {
  TcpClient client(io_.get_executor(), "127.0.0.1", server_->port());
  for (int i = 0; i < 5; ++i) {
    auto regs = RunUntilDone(io_, client.ReadRegisters(1, kReadHoldingRegisters, 19002, 2));
    ASSERT_TRUE(regs.has_value()) << regs.error().ToString();
  }
}

TEST_F(TcpRoundTripTest, ExceptionReplyBecomesStatus) {
  TcpClient client(io_.get_executor(), "127.0.0.1", server_->port());
  auto regs = RunUntilDone(io_, client.ReadRegisters(1, kReadHoldingRegisters, 100, 2));
  ASSERT_FALSE(regs.has_value());
  EXPECT_EQ(regs.error().code(), Code::kInvalidArgument);
  EXPECT_NE(regs.error().message().find("illegal data address"), std::string::npos);
  auto fc4 = RunUntilDone(io_, client.ReadRegisters(1, kReadInputRegisters, 19000, 2));
  EXPECT_EQ(fc4.error().code(), Code::kFailedPrecondition);
}

TEST_F(TcpRoundTripTest, SilentServerTimesOutThenRecovers) {
  TcpClient client(io_.get_executor(), "127.0.0.1", server_->port(), {1000ms, 200ms});
  silent_ = true;
  auto regs = RunUntilDone(io_, client.ReadRegisters(1, kReadHoldingRegisters, 19000, 2));
  ASSERT_FALSE(regs.has_value());
  EXPECT_EQ(regs.error().code(), Code::kDeadlineExceeded);
  silent_ = false;
  auto again = RunUntilDone(io_, client.ReadRegisters(1, kReadHoldingRegisters, 19000, 2));
  EXPECT_TRUE(again.has_value()) << again.error().ToString();
}

// The deadline timer is re-armed lazily (modbus/deadline.h): a request sent while the wait armed
// by an earlier one is still pending must still get its own full timeout, no less and not much
// more.
TEST_F(TcpRoundTripTest, EachRequestGetsItsFullTimeoutAfterQuickOnes) {
  TcpClient client(io_.get_executor(), "127.0.0.1", server_->port(),
                   {.request_timeout = 300ms, .retries = 0});
  for (int i = 0; i < 50; ++i) {
    auto quick = RunUntilDone(io_, client.ReadRegisters(1, kReadHoldingRegisters, 19000, 2));
    ASSERT_TRUE(quick.has_value()) << quick.error().ToString();
  }
  io_.restart();
  io_.run_for(200ms);  // the deadline wait armed by the first requests is still pending
  silent_ = true;
  auto start = std::chrono::steady_clock::now();
  auto regs = RunUntilDone(io_, client.ReadRegisters(1, kReadHoldingRegisters, 19000, 2));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(regs.has_value());
  EXPECT_EQ(regs.error().code(), Code::kDeadlineExceeded);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 900ms);
  silent_ = false;
  auto again = RunUntilDone(io_, client.ReadRegisters(1, kReadHoldingRegisters, 19000, 2));
  EXPECT_TRUE(again.has_value()) << again.error().ToString();
}

TEST_F(TcpRoundTripTest, ConcurrentRequestsAreSerialized) {
  TcpClient client(io_.get_executor(), "127.0.0.1", server_->port());
  auto a = asio::co_spawn(io_, client.ReadRegisters(1, 3, 19000, 2), asio::use_future);
  auto b = asio::co_spawn(io_, client.ReadRegisters(2, 3, 19002, 2), asio::use_future);
  auto c = RunUntilDone(io_, client.ReadRegisters(3, 3, 19000, 4));
  EXPECT_TRUE(c.has_value());
  ASSERT_EQ(a.wait_for(0s), std::future_status::ready);
  ASSERT_EQ(b.wait_for(0s), std::future_status::ready);
  EXPECT_TRUE(a.get().has_value());
  EXPECT_TRUE(b.get().has_value());
}

TEST_F(TcpRoundTripTest, GarbageClosesOnlyThatConnection) {
  asio::ip::tcp::socket raw(io_);
  raw.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
  // Protocol id 0x1234: not Modbus.
  const char garbage[] = {0, 1, 0x12, 0x34, 0, 6, 1, 3, 0, 0, 0, 1};
  asio::write(raw, asio::buffer(garbage));
  TcpClient client(io_.get_executor(), "127.0.0.1", server_->port());
  auto regs = RunUntilDone(io_, client.ReadRegisters(1, kReadHoldingRegisters, 19000, 2));
  EXPECT_TRUE(regs.has_value());
  char byte;
  boost::system::error_code ec;
  raw.read_some(asio::buffer(&byte, 1), ec);
  // Closed by the server: eof, or a reset because our unread request bytes were discarded.
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

TEST_F(TcpRoundTripTest, RefusedConnectionIsUnavailable) {
  uint16_t port = server_->port();
  server_->Stop();
  TcpClient client(io_.get_executor(), "127.0.0.1", port);
  auto regs = RunUntilDone(io_, client.ReadRegisters(1, kReadHoldingRegisters, 19000, 2));
  ASSERT_FALSE(regs.has_value());
  EXPECT_EQ(regs.error().code(), Code::kUnavailable);
}

// A peer that answers with the wrong unit id, then with a stale transaction id followed by the
// right reply.
TEST(TcpClientTest, WrongUnitIsErrorAndStaleTransactionIsSkipped) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  uint16_t port = acceptor.local_endpoint().port();
  std::thread peer([&] {
    for (int round = 0; round < 2; ++round) {
      asio::ip::tcp::socket s(io);
      acceptor.accept(s);
      char req[12];
      asio::read(s, asio::buffer(req));
      uint16_t tid = static_cast<uint16_t>((uint8_t(req[0]) << 8) | uint8_t(req[1]));
      std::string reply = EncodeReadResponse(3, std::vector<uint16_t>{0x4366, 0x199A});
      if (round == 0) {
        asio::write(s, asio::buffer(EncodeFrame(tid, req[6] + 1, reply)));
      } else {
        asio::write(s, asio::buffer(EncodeFrame(tid - 1, req[6], reply)));
        asio::write(s, asio::buffer(EncodeFrame(tid, req[6], reply)));
      }
      char more;
      boost::system::error_code ec;
      s.read_some(asio::buffer(&more, 1), ec);  // until the client closes or reconnects
    }
  });
  {
    TcpClient client(io.get_executor(), "127.0.0.1", port);
    auto wrong = RunUntilDone(io, client.ReadRegisters(5, 3, 19000, 2));
    ASSERT_FALSE(wrong.has_value());
    EXPECT_NE(wrong.error().message().find("unit"), std::string::npos);
    auto ok = RunUntilDone(io, client.ReadRegisters(5, 3, 19000, 2));
    ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
    EXPECT_EQ((*ok)[0], 0x4366);
  }
  peer.join();
}

}  // namespace
}  // namespace wattline::modbus
