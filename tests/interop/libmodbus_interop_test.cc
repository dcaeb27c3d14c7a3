// Modbus TCP against libmodbus, both ways: our client reads a libmodbus server
// (tests/peers/libmodbus_server.c), and a libmodbus client (tests/peers/libmodbus_client.c)
// reads our simulated gateway, including its exception for an unknown unit.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "core/testing/run_until_done.h"
#include "interop/peer_process.h"
#include "modbus/pdu.h"
#include "modbus/register_decode.h"
#include "modbus/tcp_client.h"
#include "sim/gateway.h"

namespace wattline {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

using test::RunUntilDone;

TEST(LibmodbusInteropTest, OurClientReadsLibmodbusServer) {
  testing::PeerProcess server({WATTLINE_LIBMODBUS_SERVER}, "READY ");
  ASSERT_FALSE(server.ready_line().empty()) << "libmodbus server did not start";
  uint16_t port = static_cast<uint16_t>(std::stoi(server.ready_line().substr(6)));
  asio::io_context io;
  modbus::TcpClient client(io.get_executor(), "127.0.0.1", port);
  auto regs = RunUntilDone(io, client.ReadRegisters(1, 3, 19000, 52));
  ASSERT_TRUE(regs.has_value()) << regs.error().ToString();
  using modbus::DecodeAsDouble;
  constexpr auto kF = modbus::ValueType::kFloat32;
  constexpr auto kAbcd = modbus::WordOrder::kABCD;
  EXPECT_DOUBLE_EQ(DecodeAsDouble(*regs, kF, kAbcd).value(), 230.0);
  EXPECT_DOUBLE_EQ(DecodeAsDouble(std::span(*regs).subspan(12), kF, kAbcd).value(), 10.0);
  EXPECT_DOUBLE_EQ(DecodeAsDouble(std::span(*regs).subspan(50), kF, kAbcd).value(), 50.0);

  auto outside = RunUntilDone(io, client.ReadRegisters(1, 3, 100, 2));
  ASSERT_FALSE(outside.has_value());
  EXPECT_NE(outside.error().message().find("exception 02"), std::string::npos)
      << outside.error().ToString();
  client.Close();
}

// Our gateway on its own io_context thread, so that the libmodbus client process can block.
class GatewayThread {
 public:
  GatewayThread() : gateway_(io_, {.baud = 115200}) {
    for (uint8_t unit : {1, 2}) {
      gateway_.AddUnit(unit, [](uint8_t u, std::string_view pdu) {
        auto r = modbus::DecodeReadRequest(pdu);
        if (!r) return modbus::EncodeException(0x03, modbus::ExceptionCode::kIllegalFunction);
        std::vector<uint16_t> regs(r->count);
        for (uint16_t i = 0; i < r->count; ++i) regs[i] = static_cast<uint16_t>(u * 1000 + i);
        return modbus::EncodeReadResponse(r->function, regs);
      });
    }
    ok_ = gateway_.Listen("127.0.0.1", 0).ok();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~GatewayThread() {
    asio::post(io_, [this] {
      gateway_.Stop();
      work_.reset();
    });
    thread_.join();
  }
  bool ok() const { return ok_; }
  uint16_t port() const { return gateway_.port(); }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  sim::Gateway gateway_;
  bool ok_ = false;
  std::thread thread_;
};

TEST(LibmodbusInteropTest, LibmodbusClientReadsOurGatewayByUnit) {
  GatewayThread gw;
  ASSERT_TRUE(gw.ok());
  for (int unit : {1, 2}) {
    auto [rc, out] =
        testing::RunProgram({WATTLINE_LIBMODBUS_CLIENT, "127.0.0.1", std::to_string(gw.port()),
                             std::to_string(unit), "19000", "3"});
    EXPECT_EQ(rc, 0) << out;
    char expect[32];
    snprintf(expect, sizeof expect, "%04x %04x %04x\n", unit * 1000, unit * 1000 + 1,
             unit * 1000 + 2);
    EXPECT_EQ(out, expect);
  }
}

TEST(LibmodbusInteropTest, LibmodbusClientGetsGatewayTargetFailedForUnknownUnit) {
  GatewayThread gw;
  ASSERT_TRUE(gw.ok());
  auto [rc, out] = testing::RunProgram(
      {WATTLINE_LIBMODBUS_CLIENT, "127.0.0.1", std::to_string(gw.port()), "9", "19000", "3"});
  EXPECT_EQ(rc, 2) << out;
  // libmodbus: EMBXGTAR = MODBUS_ENOBASE (112345678) + 0x0B.
  EXPECT_NE(out.find("ERROR 112345689"), std::string::npos) << out;
}

}  // namespace
}  // namespace wattline
