#include "edge/adaptive_plan.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "modbus/pdu.h"

namespace wattline::edge {
namespace {

namespace asio = boost::asio;

// A device that answers reads of register i with value i, and exception `code` to reads of
// more than `max` registers.
class LimitedDevice : public modbus::Client {
 public:
  LimitedDevice(uint16_t max, uint8_t code) : max_(max), code_(code) {}
  asio::awaitable<Result<std::string>> Transact(uint8_t, std::string pdu) override {
    ++requests_;
    auto r = modbus::DecodeReadRequest(pdu);
    if (!r) co_return Fail(r.error());
    if (r->count > max_) {
      ++rejected_;
      co_return modbus::EncodeException(r->function, static_cast<modbus::ExceptionCode>(code_));
    }
    std::vector<uint16_t> regs(r->count);
    for (uint16_t i = 0; i < r->count; ++i) regs[i] = static_cast<uint16_t>(r->address + i);
    co_return modbus::EncodeReadResponse(r->function, regs);
  }
  void Close() override {}
  std::string Describe() const override { return "fake://limited"; }

  int requests_ = 0;
  int rejected_ = 0;

 private:
  uint16_t max_;
  uint8_t code_;
};

Result<std::vector<std::vector<uint16_t>>> ReadOnce(AdaptiveReads& reads, modbus::Client& c,
                                                    uint64_t& n) {
  asio::io_context io;
  auto f = asio::co_spawn(io, reads.ReadAll(c, 1, n), asio::use_future);
  io.run();
  return f.get();
}

profiles::ReadPlan Plan(uint16_t address, uint16_t count) {
  profiles::ReadPlan plan;
  plan.blocks.push_back({3, address, count});
  return plan;
}

TEST(AdaptiveReadsTest, SplitsOnIllegalDataValueAndRemembers) {
  LimitedDevice dev(30, 0x03);
  AdaptiveReads reads(Plan(19000, 78));
  uint64_t n = 0;
  auto first = ReadOnce(reads, dev, n);
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  ASSERT_EQ((*first)[0].size(), 78u);
  for (uint16_t i = 0; i < 78; ++i) EXPECT_EQ((*first)[0][i], 19000 + i);
  EXPECT_GT(dev.rejected_, 0);
  EXPECT_GE(reads.splits(), 2u);
  for (const auto& p : reads.pieces(0)) EXPECT_LE(p.count, 30);

  int rejected = dev.rejected_;
  dev.requests_ = 0;
  auto second = ReadOnce(reads, dev, n);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(dev.rejected_, rejected);  // learned: no more exceptions
  EXPECT_EQ(dev.requests_, static_cast<int>(reads.pieces(0).size()));
  EXPECT_EQ(*second, *first);
}

TEST(AdaptiveReadsTest, SplitsOnIllegalDataAddress) {
  LimitedDevice dev(10, 0x02);
  AdaptiveReads reads(Plan(0, 25));
  uint64_t n = 0;
  auto r = ReadOnce(reads, dev, n);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)[0][24], 24);
}

TEST(AdaptiveReadsTest, OtherExceptionIsNotSplit) {
  LimitedDevice dev(10, 0x04);
  AdaptiveReads reads(Plan(0, 25));
  uint64_t n = 0;
  auto r = ReadOnce(reads, dev, n);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_EQ(reads.splits(), 0u);
  EXPECT_EQ(n, 1u);
}

TEST(AdaptiveReadsTest, SingleRegisterRejectionIsAnError) {
  LimitedDevice dev(0, 0x02);
  AdaptiveReads reads(Plan(0, 2));
  uint64_t n = 0;
  auto r = ReadOnce(reads, dev, n);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace wattline::edge
