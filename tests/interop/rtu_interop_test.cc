// Our RTU client on a serial line against a peer we did not write: pymodbus's RTU server on the
// other end of a socat pseudo-terminal pair.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "core/testing/run_until_done.h"
#include "interop/peer_process.h"
#include "modbus/register_decode.h"
#include "modbus/rtu_client.h"

namespace wattline {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Serial exchanges through socat at 9600 baud, with retries, need more than the default limit.
template <typename T>
T RunUntilDone(asio::io_context& io, asio::awaitable<T> aw) {
  return test::RunUntilDone(io, std::move(aw), 20s);
}

class RtuInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wattline-rtu-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ours_ = (dir_ / "ours").string();
    theirs_ = (dir_ / "theirs").string();
    socat_ = std::make_unique<testing::PeerProcess>(
        std::vector<std::string>{"/usr/bin/socat", "pty,raw,echo=0,link=" + ours_,
                                 "pty,raw,echo=0,link=" + theirs_},
        "", 0ms);
    for (int i = 0;
         i < 100 && !(std::filesystem::exists(ours_) && std::filesystem::exists(theirs_)); ++i) {
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(std::filesystem::exists(theirs_)) << "socat did not create the pty pair";
    peer_ = std::make_unique<testing::PeerProcess>(
        std::vector<std::string>{"/usr/bin/python3", WATTLINE_PYMODBUS_RTU_PEER, "--device",
                                 theirs_, "--baud", "19200"},
        "READY");
    ASSERT_EQ(peer_->ready_line(), "READY") << "pymodbus RTU peer did not start";
  }
  void TearDown() override {
    peer_.reset();
    socat_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::filesystem::path dir_;
  std::string ours_, theirs_;
  std::unique_ptr<testing::PeerProcess> socat_, peer_;
  asio::io_context io_;
};

TEST_F(RtuInteropTest, ReadsFloatsFromPymodbusOverSerial) {
  modbus::ClientOptions options;
  options.request_timeout = 2000ms;
  auto client = modbus::RtuClient::OnSerialPort(
      io_.get_executor(), {ours_, 19200, modbus::Parity::kNone, 1, 8}, options);
  for (int i = 0; i < 3; ++i) {
    auto regs = RunUntilDone(io_, client->ReadRegisters(1, 3, 19000, 20));
    ASSERT_TRUE(regs.has_value()) << regs.error().ToString();
    ASSERT_EQ(regs->size(), 20u);
    auto u = modbus::DecodeAsDouble(*regs, modbus::ValueType::kFloat32, modbus::WordOrder::kABCD);
    EXPECT_DOUBLE_EQ(u.value(), 230.0);
    auto i_l1 = modbus::DecodeAsDouble(std::span(*regs).subspan(12), modbus::ValueType::kFloat32,
                                       modbus::WordOrder::kABCD);
    EXPECT_DOUBLE_EQ(i_l1.value(), 10.0);
  }
  client->Close();
}

TEST_F(RtuInteropTest, UnmappedAddressIsException02) {
  modbus::ClientOptions options;
  options.request_timeout = 2000ms;
  auto client = modbus::RtuClient::OnSerialPort(
      io_.get_executor(), {ours_, 19200, modbus::Parity::kNone, 1, 8}, options);
  auto regs = RunUntilDone(io_, client->ReadRegisters(1, 3, 100, 2));
  ASSERT_FALSE(regs.has_value());
  EXPECT_NE(regs.error().message().find("exception 02"), std::string::npos)
      << regs.error().ToString();
  client->Close();
}

}  // namespace
}  // namespace wattline
