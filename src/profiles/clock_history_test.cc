#include "profiles/clock_history.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "modbus/register_decode.h"
#include "profiles/signal_codec.h"

namespace wattline::profiles {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

sys_seconds At(std::chrono::year_month_day day, std::chrono::seconds time_of_day) {
  return sys_seconds(sys_days(day)) + time_of_day;
}

ClockSpec Ymdhms(uint16_t year_base) {
  return {ClockSpec::Encoding::kYmdhmsU16, 3, 100, 200, year_base};
}

TEST(ClockTest, EpochRoundTrip) {
  ClockSpec clock;  // epoch-u32
  sys_seconds t = At(std::chrono::year(2031) / 7 / 14, 3h + 4min + 5s);
  auto regs = EncodeClockWrite(clock, t);
  ASSERT_TRUE(regs.has_value()) << regs.error().ToString();
  ASSERT_EQ(regs->size(), 2u);
  // High word first.
  uint32_t secs = static_cast<uint32_t>(t.time_since_epoch().count());
  EXPECT_EQ((*regs)[0], secs >> 16);
  EXPECT_EQ((*regs)[1], secs & 0xFFFF);
  auto back = DecodeClock(clock, *regs);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, t);
}

TEST(ClockTest, EpochOutOfRangeIsRejected) {
  ClockSpec clock;
  EXPECT_EQ(EncodeClockWrite(clock, sys_seconds(-1s)).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(
      EncodeClockWrite(clock, sys_seconds(std::chrono::seconds(int64_t{1} << 32))).error().code(),
      Code::kInvalidArgument);
  EXPECT_TRUE(EncodeClockWrite(clock, sys_seconds(std::chrono::seconds(UINT32_MAX))).has_value());
}

TEST(ClockTest, YmdhmsRoundTripWithYearBase) {
  ClockSpec clock = Ymdhms(2000);
  sys_seconds t = At(std::chrono::year(2024) / 2 / 29, 23h + 59min + 58s);  // leap day
  auto regs = EncodeClockWrite(clock, t);
  ASSERT_TRUE(regs.has_value()) << regs.error().ToString();
  EXPECT_EQ(*regs, (std::vector<uint16_t>{24, 2, 29, 23, 59, 58}));
  auto back = DecodeClock(clock, *regs);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(*back, t);
}

TEST(ClockTest, YmdhmsRoundTripWithoutYearBase) {
  ClockSpec clock = Ymdhms(0);
  sys_seconds t = At(std::chrono::year(2000) / 2 / 29, 0s);  // leap day of a century year
  auto regs = EncodeClockWrite(clock, t);
  ASSERT_TRUE(regs.has_value());
  EXPECT_EQ(*regs, (std::vector<uint16_t>{2000, 2, 29, 0, 0, 0}));
  EXPECT_EQ(*DecodeClock(clock, *regs), t);
  // Every second of a day survives, including the last one.
  for (auto s : {0s, 1s, 59s, 3599s, 86399s}) {
    sys_seconds u = At(std::chrono::year(2027) / 12 / 31, s);
    EXPECT_EQ(*DecodeClock(clock, *EncodeClockWrite(clock, u)), u) << s.count();
  }
}

TEST(ClockTest, ImpossibleDatesAreDataLoss) {
  ClockSpec clock = Ymdhms(2000);
  const std::vector<std::vector<uint16_t>> bad = {
      {24, 13, 1, 0, 0, 0},   // month 13
      {24, 0, 1, 0, 0, 0},    // month 0
      {23, 2, 29, 0, 0, 0},   // 2023 is no leap year
      {24, 4, 31, 0, 0, 0},   // April has 30 days
      {24, 1, 0, 0, 0, 0},    // day 0
      {24, 1, 1, 24, 0, 0},   // hour 24
      {24, 1, 1, 0, 60, 0},   // minute 60
      {24, 1, 1, 0, 0, 60},   // second 60
      {65535, 1, 1, 0, 0, 0}  // year 67535
  };
  for (const auto& regs : bad) {
    auto t = DecodeClock(clock, regs);
    ASSERT_FALSE(t.has_value()) << regs[0] << "-" << regs[1] << "-" << regs[2];
    EXPECT_EQ(t.error().code(), Code::kDataLoss);
    EXPECT_NE(t.error().message().find("no valid time"), std::string::npos);
  }
  // Year 1969 without a base.
  EXPECT_EQ(DecodeClock(Ymdhms(0), std::vector<uint16_t>{1969, 12, 31, 0, 0, 0}).error().code(),
            Code::kDataLoss);
}

TEST(ClockTest, WrongRegisterCountIsInvalidArgument) {
  EXPECT_EQ(DecodeClock(Ymdhms(0), std::vector<uint16_t>{2024, 1, 1, 0, 0}).error().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(DecodeClock(ClockSpec{}, std::vector<uint16_t>{1, 2, 3}).error().code(),
            Code::kInvalidArgument);
}

TEST(ClockTest, YearOutsideTheBaseIsRejected) {
  // A 0..99 year with base 2000 cannot hold 1999.
  auto r = EncodeClockWrite(Ymdhms(2000), At(std::chrono::year(1999) / 12 / 31, 0s));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

TEST(ClockTest, PlanReadsTheClockRegisters) {
  Profile p;
  EXPECT_EQ(PlanClockRead(p).error().code(), Code::kFailedPrecondition);
  p.clock = Ymdhms(2000);
  auto block = PlanClockRead(p);
  ASSERT_TRUE(block.has_value());
  EXPECT_EQ(block->function, 3);
  EXPECT_EQ(block->address, 100);
  EXPECT_EQ(block->count, 6);
  p.clock = ClockSpec{ClockSpec::Encoding::kEpochU32, 4, 7, 7, 0};
  EXPECT_EQ(PlanClockRead(p)->count, 2);
  EXPECT_EQ(PlanClockRead(p)->function, 4);
}

Profile HistoryProfile(uint16_t max_registers, std::string_view extra = "") {
  auto p = ParseProfile(fmt::format(R"(<profile vendor="V" model="M" max-registers="{}">
  {}
  <history signal="active_energy_import" address="1000" type="float32" records="10" scale="1000"/>
  <signal name="active_energy_import" address="0" type="float32" unit="Wh" kind="counter"/>
</profile>)",
                                    max_registers, extra));
  EXPECT_TRUE(p.has_value()) << p.error().ToString();
  return *p;
}

TEST(HistoryTest, PlanSplitsWholeRecordsAtMaxRegisters) {
  // 10 float32 records = 20 registers; 5 registers per read hold two whole records.
  Profile p = HistoryProfile(5);
  auto plan = PlanHistoryReads(p);
  ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
  ASSERT_EQ(plan->size(), 5u);
  for (size_t i = 0; i < plan->size(); ++i) {
    EXPECT_EQ((*plan)[i].function, 3);
    EXPECT_EQ((*plan)[i].address, 1000 + 4 * i);
    EXPECT_EQ((*plan)[i].count, 4);
  }
}

TEST(HistoryTest, PlanAvoidsForbiddenRanges) {
  // Registers 1005..1008 hold parts of records 2, 3 and 4: those are not read.
  Profile p = HistoryProfile(125, R"(<forbidden from="1005" to="1008"/>)");
  auto plan = PlanHistoryReads(p);
  ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
  ASSERT_EQ(plan->size(), 2u);
  EXPECT_EQ((*plan)[0].address, 1000);
  EXPECT_EQ((*plan)[0].count, 4);
  EXPECT_EQ((*plan)[1].address, 1010);
  EXPECT_EQ((*plan)[1].count, 10);
  for (const auto& b : *plan) EXPECT_FALSE(p.IsForbidden(b.function, b.address, b.count));
}

TEST(HistoryTest, PlanFailsWithoutHistoryOrWhenARecordDoesNotFit) {
  Profile p = HistoryProfile(125);
  p.max_registers = 1;
  EXPECT_EQ(PlanHistoryReads(p).error().code(), Code::kFailedPrecondition);
  p.max_registers = 125;
  p.history->address = 65530;
  EXPECT_EQ(PlanHistoryReads(p).error().code(), Code::kFailedPrecondition);
  p.history.reset();
  EXPECT_EQ(PlanHistoryReads(p).error().code(), Code::kFailedPrecondition);
}

TEST(HistoryTest, RecordEndsFloorTheMeterClockToTheInterval) {
  HistorySpec h;
  h.interval_minutes = 15;
  sys_seconds now = At(std::chrono::year(2025) / 3 / 1, 10h + 44min + 59s);
  EXPECT_EQ(HistoryRecordEnd(h, now, 0), At(std::chrono::year(2025) / 3 / 1, 10h + 30min));
  EXPECT_EQ(HistoryRecordEnd(h, now, 3), At(std::chrono::year(2025) / 3 / 1, 9h + 45min));
  // Exactly on a boundary, that interval has just completed.
  EXPECT_EQ(HistoryRecordEnd(h, now + 1s, 0), now + 1s);
  // Across midnight into the previous day.
  EXPECT_EQ(HistoryRecordEnd(h, At(std::chrono::year(2025) / 3 / 1, 0h + 10min), 1),
            At(std::chrono::year(2025) / 2 / 28, 23h + 45min));
  // Before 1970 the floor still goes down.
  EXPECT_EQ(HistoryRecordEnd(h, sys_seconds(-1s), 0), sys_seconds(-15min));
}

TEST(HistoryTest, DecodesRecordsNewestFirstWithScaleAndInvalidValues) {
  Profile p = HistoryProfile(5, R"(<forbidden from="1005" to="1005"/>)");
  auto plan = PlanHistoryReads(p);
  ASSERT_TRUE(plan.has_value());
  auto spec = HistoryRecordSpec(p);
  ASSERT_TRUE(spec.has_value());
  // Record i holds (100 - i) kWh; record 5 holds NaN.
  std::vector<std::vector<uint16_t>> blocks;
  for (const auto& b : *plan) {
    std::vector<uint16_t> regs;
    for (uint16_t k = 0; k < b.count / 2; ++k) {
      size_t record = (b.address - 1000) / 2 + k;
      float raw = record == 5 ? std::numeric_limits<float>::quiet_NaN()
                              : static_cast<float>(100 - static_cast<int>(record));
      auto words = modbus::EncodeFloat32(raw, modbus::WordOrder::kABCD);
      regs.insert(regs.end(), words.begin(), words.end());
    }
    blocks.push_back(regs);
  }
  sys_seconds now = At(std::chrono::year(2025) / 6 / 1, 12h + 7min);
  auto records = DecodeHistory(p, blocks, now);
  ASSERT_TRUE(records.has_value()) << records.error().ToString();
  ASSERT_EQ(records->size(), 10u);
  for (size_t i = 0; i < records->size(); ++i) {
    const auto& r = (*records)[i];
    EXPECT_EQ(r.end, At(std::chrono::year(2025) / 6 / 1, 12h) - 15min * i) << i;
    if (i == 2 || i == 5) {  // record 2 lies in the forbidden register, record 5 is NaN
      EXPECT_EQ(r.quality, Quality::kInvalid) << i;
      EXPECT_EQ(r.value, 0) << i;
    } else {
      EXPECT_EQ(r.quality, Quality::kGood) << i;
      EXPECT_DOUBLE_EQ(r.value, (100.0 - i) * 1000) << i;  // kWh -> Wh
    }
  }
}

TEST(HistoryTest, DecodeRejectsBlocksThatDoNotMatchThePlan) {
  Profile p = HistoryProfile(5);
  auto plan = PlanHistoryReads(p);
  ASSERT_TRUE(plan.has_value());
  std::vector<std::vector<uint16_t>> blocks(plan->size(), std::vector<uint16_t>(4, 0));
  sys_seconds now(1700000000s);
  EXPECT_TRUE(DecodeHistory(p, blocks, now).has_value());
  blocks.back().pop_back();
  EXPECT_EQ(DecodeHistory(p, blocks, now).error().code(), Code::kInvalidArgument);
  blocks.pop_back();
  EXPECT_EQ(DecodeHistory(p, blocks, now).error().code(), Code::kInvalidArgument);
}

TEST(HistoryTest, RecordSpecKeepsTheSignalsSentinelsOnlyForItsType) {
  auto p = ParseProfile(R"(<profile vendor="V" model="M">
  <history signal="active_energy_import" address="50" type="uint32" records="4" scale="10"/>
  <signal name="active_energy_import" address="0" type="uint32" unit="Wh" kind="counter"
          invalid="0xFFFFFFFF"/>
</profile>)");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  auto spec = HistoryRecordSpec(*p);
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec->address, 50);
  EXPECT_EQ(spec->scale, 10);
  EXPECT_EQ(spec->unit, "Wh");
  ASSERT_EQ(spec->invalid.size(), 1u);
  std::vector<std::vector<uint16_t>> blocks = {{0, 5, 0xFFFF, 0xFFFF, 0, 7, 0, 0}};
  auto records = DecodeHistory(*p, blocks, sys_seconds(1700000000s));
  ASSERT_TRUE(records.has_value());
  EXPECT_EQ((*records)[0].value, 50);
  EXPECT_EQ((*records)[1].quality, Quality::kInvalid);
  EXPECT_EQ((*records)[2].value, 70);
  EXPECT_EQ((*records)[3].quality, Quality::kGood);
  p->history->type = modbus::ValueType::kFloat32;
  EXPECT_TRUE(HistoryRecordSpec(*p)->invalid.empty());
}

}  // namespace
}  // namespace wattline::profiles
