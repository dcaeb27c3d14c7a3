#include "profiles/device_id.h"

#include <gtest/gtest.h>

namespace wattline::profiles {
namespace {

TEST(DeviceIdTest, MatchesProfileRules) {
  Profile p;
  EXPECT_FALSE(MatchesDeviceId(p, {{0, "Janitza"}}));  // no rules: no match
  p.device_id_rules = {{0, "Janitza", false}, {1, "UMG 96", true}};
  EXPECT_TRUE(MatchesDeviceId(p, {{0, "Janitza"}, {1, "UMG 96RM-E"}}));
  EXPECT_FALSE(MatchesDeviceId(p, {{0, "Janitza"}, {1, "UMG 604"}}));
  EXPECT_FALSE(MatchesDeviceId(p, {{0, "Janitza GmbH"}, {1, "UMG 96RM-E"}}));
  EXPECT_FALSE(MatchesDeviceId(p, {{0, "Janitza"}}));  // product code missing
}

TEST(DeviceIdTest, RegisterRuleChecksTheRange) {
  RegisterRule rule{.function = 4,
                    .address = 0x46,
                    .type = modbus::ValueType::kFloat32,
                    .word_order = modbus::WordOrder::kABCD,
                    .min = 45,
                    .max = 65};
  auto fifty = modbus::EncodeFloat32(50.02f, modbus::WordOrder::kABCD);
  EXPECT_TRUE(RegisterRuleHolds(rule, fifty));
  auto zero = modbus::EncodeFloat32(0.0f, modbus::WordOrder::kABCD);
  EXPECT_FALSE(RegisterRuleHolds(rule, zero));
  EXPECT_FALSE(RegisterRuleHolds(rule, std::vector<uint16_t>{0x4248}));  // too short
}

}  // namespace
}  // namespace wattline::profiles
