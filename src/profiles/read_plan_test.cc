#include "profiles/read_plan.h"

#include <gtest/gtest.h>

#include <cmath>

#include "modbus/register_decode.h"

namespace wattline::profiles {
namespace {

Profile Bundled() {
  auto p = LoadProfile(WATTLINE_PROFILES_DIR "/janitza-umg96rm-e.xml");
  EXPECT_TRUE(p.has_value());
  return *p;
}

TEST(ReadPlanTest, MergesUmgBlockIntoOneRead) {
  Profile p = Bundled();
  ReadPlan plan = PlanReads(p);
  ASSERT_EQ(plan.blocks.size(), 1u);
  EXPECT_EQ(plan.blocks[0].function, 3);
  EXPECT_EQ(plan.blocks[0].address, 19000);
  EXPECT_EQ(plan.blocks[0].count, 78);
  EXPECT_EQ(plan.slots.back().offset, 76);
}

TEST(ReadPlanTest, SplitsAtMaxRegisters) {
  Profile p = Bundled();
  p.max_registers = 30;
  ReadPlan plan = PlanReads(p);
  ASSERT_GE(plan.blocks.size(), 3u);
  for (const auto& b : plan.blocks) EXPECT_LE(b.count, 30);
  EXPECT_EQ(plan.blocks[0].address, 19000);
  EXPECT_EQ(plan.blocks[0].count, 30);
  EXPECT_EQ(plan.blocks[1].address, 19030);
  // Every signal lies inside its block.
  for (const auto& s : plan.slots) {
    EXPECT_LE(s.offset + 2, plan.blocks[s.block].count);
  }
}

TEST(ReadPlanTest, SplitsAtGapsLargerThanMaxGap) {
  Profile p = Bundled();
  p.max_gap = 0;
  ReadPlan plan = PlanReads(p);
  // 19000..19051 is contiguous; 19060, 19068 and 19076 each stand alone.
  ASSERT_EQ(plan.blocks.size(), 4u);
  EXPECT_EQ(plan.blocks[0].count, 52);
  EXPECT_EQ(plan.blocks[3].address, 19076);
}

TEST(ReadPlanTest, SplitsByFunctionCode) {
  auto p = ParseProfile(R"(<profile vendor="V" model="M">
  <signal name="current_l2" fc="4" address="0" type="uint16"/>
  <signal name="current_l1" fc="3" address="1" type="uint16"/>
</profile>)");
  ASSERT_TRUE(p.has_value());
  ReadPlan plan = PlanReads(*p);
  ASSERT_EQ(plan.blocks.size(), 2u);
  EXPECT_EQ(plan.blocks[0].function, 3);
  EXPECT_EQ(plan.slots[0].block, 1u);
}

TEST(ReadPlanTest, DecodesValuesWithScaleAndMarksNanInvalid) {
  auto p = ParseProfile(R"(<profile vendor="V" model="M">
  <signal name="voltage_l1_n" address="0" type="float32" unit="V"/>
  <signal name="active_energy_import" address="2" type="uint32" unit="Wh" kind="counter" scale="10"/>
  <signal name="frequency" address="4" type="float32"/>
</profile>)");
  ASSERT_TRUE(p.has_value());
  ReadPlan plan = PlanReads(*p);
  std::vector<uint16_t> regs;
  for (auto r : modbus::EncodeFloat32(230.5f, modbus::WordOrder::kABCD)) regs.push_back(r);
  for (auto r : modbus::EncodeUint32(12345, modbus::WordOrder::kABCD)) regs.push_back(r);
  for (auto r : modbus::EncodeFloat32(std::nanf(""), modbus::WordOrder::kABCD)) regs.push_back(r);
  auto values = Decode(*p, plan, {regs});
  ASSERT_TRUE(values.has_value()) << values.error().ToString();
  ASSERT_EQ(values->size(), 3u);
  EXPECT_EQ((*values)[0].signal, "voltage_l1_n");
  EXPECT_DOUBLE_EQ((*values)[0].value, 230.5);
  EXPECT_EQ((*values)[1].kind, SignalKind::kCounter);
  EXPECT_DOUBLE_EQ((*values)[1].value, 123450);
  EXPECT_EQ((*values)[2].quality, Quality::kInvalid);
  EXPECT_EQ((*values)[0].quality, Quality::kGood);
}

TEST(ReadPlanTest, DecodeRejectsWrongBlockCount) {
  Profile p = Bundled();
  ReadPlan plan = PlanReads(p);
  EXPECT_FALSE(Decode(p, plan, {}).has_value());
}

TEST(ReadPlanTest, DecodeRejectsShortBlock) {
  Profile p = Bundled();
  ReadPlan plan = PlanReads(p);
  EXPECT_FALSE(Decode(p, plan, {std::vector<uint16_t>(77)}).has_value());
}

}  // namespace
}  // namespace wattline::profiles
