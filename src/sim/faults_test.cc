#include "sim/faults.h"

#include <gtest/gtest.h>

#include "modbus/pdu.h"
#include "sim/gateway.h"

namespace wattline::sim {
namespace {

using Reply = modbus::TcpServer::Reply;
using namespace std::chrono_literals;

std::string Zeros(uint8_t, std::string_view pdu) {
  auto r = modbus::DecodeReadRequest(pdu);
  return modbus::EncodeReadResponse(r->function, std::vector<uint16_t>(r->count));
}

const std::string kRead10 = modbus::EncodeReadRequest({3, 0, 10}).value();

TEST(FaultInjectorTest, PassesThroughWithoutFaults) {
  FaultInjector f(Zeros);
  Reply r = f.Handle(1, kRead10);
  EXPECT_EQ(r.action, Reply::Action::kPdu);
  EXPECT_EQ(r.bytes, Zeros(1, kRead10));
  EXPECT_EQ(f.stats().requests, 1u);
}

TEST(FaultInjectorTest, EachFaultKind) {
  FaultInjector f(Zeros);
  f.Set({.timeout_rate = 1});
  EXPECT_EQ(f.Handle(1, kRead10).action, Reply::Action::kNone);
  f.Set({.drop_rate = 1});
  EXPECT_EQ(f.Handle(1, kRead10).action, Reply::Action::kClose);
  f.Set({.garbage_rate = 1});
  Reply g = f.Handle(1, kRead10);
  EXPECT_EQ(g.action, Reply::Action::kRaw);
  EXPECT_FALSE(modbus::ParseMbapHeader(g.bytes).has_value());
  f.Set({.wrong_tid_rate = 1});
  EXPECT_EQ(f.Handle(1, kRead10).transaction_id_delta, 1);
  for (uint8_t code : {0x02, 0x04, 0x06, 0x0B}) {
    f.Set({.exception_rate = 1, .exception = code});
    EXPECT_EQ(modbus::ExceptionCodeOf(f.Handle(1, kRead10).bytes), code);
  }
  f.Set({.latency = 30ms});
  EXPECT_EQ(f.Handle(1, kRead10).delay, 30ms);
  FaultStats s = f.stats();
  EXPECT_EQ(s.timeouts, 1u);
  EXPECT_EQ(s.drops, 1u);
  EXPECT_EQ(s.garbage, 1u);
  EXPECT_EQ(s.wrong_tids, 1u);
  EXPECT_EQ(s.exceptions, 4u);
}

TEST(FaultInjectorTest, MaxReadSizeAnswersException03Above) {
  FaultInjector f(Zeros, {.max_read_registers = 10});
  EXPECT_EQ(modbus::ExceptionCodeOf(f.Handle(1, kRead10).bytes), 0);
  auto big = modbus::EncodeReadRequest({3, 0, 11}).value();
  EXPECT_EQ(modbus::ExceptionCodeOf(f.Handle(1, big).bytes), 0x03);
  EXPECT_EQ(f.stats().oversized_reads, 1u);
}

TEST(FaultInjectorTest, RatesAreProbabilities) {
  FaultInjector f(Zeros, {.timeout_rate = 0.5}, 7);
  int silent = 0;
  for (int i = 0; i < 1000; ++i) silent += f.Handle(1, kRead10).action == Reply::Action::kNone;
  EXPECT_GT(silent, 400);
  EXPECT_LT(silent, 600);
}

TEST(GatewayTest, UnknownUnitGetsException0BOrSilence) {
  boost::asio::io_context io;
  Gateway gw(io);
  gw.AddUnit(1, Zeros);
  EXPECT_EQ(modbus::ExceptionCodeOf(gw.Handle(2, kRead10).bytes), 0x0B);
  Gateway silent(io, {.silent_unknown_units = true});
  EXPECT_EQ(silent.Handle(2, kRead10).action, Reply::Action::kNone);
}

TEST(GatewayTest, SerializesExchangesWithBusTime) {
  boost::asio::io_context io;
  Gateway gw(io, {.baud = 9600});
  gw.AddUnit(1, Zeros);
  gw.AddUnit(2, Zeros);
  auto one = Gateway::BusTime(kRead10.size(), 2 + 20, 9600);
  // 8 + 25 characters of 11 bits at 9600 baud, plus t3.5 (4.01 ms).
  EXPECT_EQ(one.count(), 4010 + (33 * 11 * 1'000'000 + 9599) / 9600);
  Reply a = gw.Handle(1, kRead10);
  Reply b = gw.Handle(2, kRead10);  // arrives while the line is busy with a
  EXPECT_GE(a.delay, one - 1ms);
  EXPECT_GE(b.delay, a.delay + one - 1ms);
}

}  // namespace
}  // namespace wattline::sim
