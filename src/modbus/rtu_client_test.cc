// RtuClient over TCP against a scripted serial gateway (a thread speaking raw RTU frames).
#include "modbus/rtu_client.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <future>
#include <thread>

#include "core/testing/run_until_done.h"
#include "modbus/pdu.h"
#include "modbus/rtu.h"

namespace wattline::modbus {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

using test::RunUntilDone;

// Accepts one connection and answers each 8-byte request with `reply(request_adu)` (raw bytes).
class ScriptedGateway {
 public:
  explicit ScriptedGateway(std::function<std::string(const std::string&)> reply)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this, reply] {
      asio::ip::tcp::socket s(io_);
      acceptor_.accept(s);
      for (;;) {
        std::string req(8, '\0');
        boost::system::error_code ec;
        asio::read(s, asio::buffer(req), ec);
        if (ec) return;
        asio::write(s, asio::buffer(reply(req)), ec);
      }
    });
  }
  ~ScriptedGateway() { thread_.join(); }
  uint16_t port() const { return port_; }

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  uint16_t port_;
  std::thread thread_;
};

const std::vector<uint16_t> kRegs{0x4366, 0x199A};

TEST(RtuClientTest, ReadsRegistersOverTcp) {
  ScriptedGateway gw([](const std::string& req) {
    auto f = DecodeRtuFrame(req);
    return EncodeRtuFrame(f->unit, EncodeReadResponse(3, kRegs));
  });
  asio::io_context io;
  {
    auto client = RtuClient::OverTcp(io.get_executor(), "127.0.0.1", gw.port(), 115200);
    EXPECT_EQ(client->Describe(), "rtu-over-tcp://127.0.0.1:" + std::to_string(gw.port()));
    for (int i = 0; i < 3; ++i) {
      auto regs = RunUntilDone(io, client->ReadRegisters(7, 3, 19000, 2));
      ASSERT_TRUE(regs.has_value()) << regs.error().ToString();
      EXPECT_EQ(*regs, kRegs);
    }
  }
}

TEST(RtuClientTest, FrameFromOtherUnitIsDiscarded) {
  ScriptedGateway gw([](const std::string& req) {
    auto f = DecodeRtuFrame(req);
    // A late reply from unit 9 first, in two pieces, then ours.
    return EncodeRtuFrame(9, EncodeReadResponse(3, std::vector<uint16_t>{1, 2})) +
           EncodeRtuFrame(f->unit, EncodeReadResponse(3, kRegs));
  });
  asio::io_context io;
  auto client = RtuClient::OverTcp(io.get_executor(), "127.0.0.1", gw.port(), 115200);
  auto regs = RunUntilDone(io, client->ReadRegisters(7, 3, 19000, 2));
  ASSERT_TRUE(regs.has_value()) << regs.error().ToString();
  EXPECT_EQ(*regs, kRegs);
  client->Close();
}

TEST(RtuClientTest, CrcMismatchIsInvalidArgument) {
  ScriptedGateway gw([](const std::string& req) {
    auto f = DecodeRtuFrame(req);
    std::string adu = EncodeRtuFrame(f->unit, EncodeReadResponse(3, kRegs));
    adu[3] ^= 0x40;
    return adu;
  });
  asio::io_context io;
  auto client = RtuClient::OverTcp(io.get_executor(), "127.0.0.1", gw.port(), 115200);
  auto regs = RunUntilDone(io, client->ReadRegisters(7, 3, 19000, 2));
  ASSERT_FALSE(regs.has_value());
  EXPECT_EQ(regs.error().code(), Code::kInvalidArgument);
  EXPECT_NE(regs.error().message().find("CRC"), std::string::npos);
}

TEST(RtuClientTest, SilentDeviceTimesOutWithRetry) {
  ScriptedGateway gw([](const std::string&) { return std::string(); });
  asio::io_context io;
  ClientOptions options;
  options.request_timeout = 100ms;
  options.retries = 1;
  auto client = RtuClient::OverTcp(io.get_executor(), "127.0.0.1", gw.port(), 9600, options);
  auto start = std::chrono::steady_clock::now();
  auto regs = RunUntilDone(io, client->ReadRegisters(7, 3, 19000, 2));
  ASSERT_FALSE(regs.has_value());
  EXPECT_EQ(regs.error().code(), Code::kDeadlineExceeded);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);  // one retry
  client->Close();
}

TEST(RtuClientTest, BadSerialSettingsAreInvalidArgument) {
  asio::io_context io;
  auto client =
      RtuClient::OnSerialPort(io.get_executor(), {"/nonexistent", 9600, Parity::kNone, 3, 8});
  auto regs = RunUntilDone(io, client->ReadRegisters(1, 3, 0, 1));
  ASSERT_FALSE(regs.has_value());
  EXPECT_EQ(regs.error().code(), Code::kInvalidArgument);
}

TEST(RtuClientTest, MissingSerialPortIsUnavailable) {
  asio::io_context io;
  auto client = RtuClient::OnSerialPort(io.get_executor(), {"/nonexistent/tty", 9600});
  auto regs = RunUntilDone(io, client->ReadRegisters(1, 3, 0, 1));
  ASSERT_FALSE(regs.has_value());
  EXPECT_EQ(regs.error().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace wattline::modbus
