#include "profiles/signal_codec.h"

#include <gtest/gtest.h>

#include <cmath>

#include "modbus/register_decode.h"
#include "profiles/read_plan.h"

namespace wattline::profiles {
namespace {

using Regs = std::vector<uint16_t>;

SignalSpec Spec(modbus::ValueType type, modbus::WordOrder order = modbus::WordOrder::kABCD) {
  SignalSpec s;
  s.name = "active_power_total";
  s.type = type;
  s.word_order = order;
  return s;
}

TEST(SignalCodecTest, DecodesStringTrimmingNulAndSpaces) {
  SignalSpec s;
  s.name = "model_name";
  s.format = SignalFormat::kString;
  s.length = 4;
  std::vector<uint16_t> regs = {0x554D, 0x4720, 0x3936, 0x0000};  // "UMG 96"
  EXPECT_EQ(*DecodeText(s, regs), "UMG 96");
  s.word_order = modbus::WordOrder::kBADC;
  EXPECT_EQ(*DecodeText(s, Regs{0x4D55, 0x2047, 0x2020, 0x2020}), "UMG");
  EXPECT_FALSE(DecodeText(s, Regs{0x4D55}).has_value());
}

TEST(SignalCodecTest, StringRoundTrips) {
  SignalSpec s;
  s.name = "serial_number";
  s.format = SignalFormat::kString;
  s.length = 5;
  s.word_order = modbus::WordOrder::kDCBA;
  EXPECT_EQ(*DecodeText(s, EncodeText(s, "SN-12345")), "SN-12345");
}

TEST(SignalCodecTest, DecodesBitfield) {
  SignalSpec s = Spec(modbus::ValueType::kUint16);
  s.format = SignalFormat::kBitfield;
  s.length = 2;
  s.bit = 17;
  s.word_order = modbus::WordOrder::kCDAB;
  // Value 0x00020000 low word first: bit 17 set.
  EXPECT_DOUBLE_EQ(DecodeNumber(s, Regs{0x0000, 0x0002})->value, 1);
  EXPECT_DOUBLE_EQ(DecodeNumber(s, Regs{0x0002, 0x0000})->value, 0);
  EXPECT_EQ(EncodeNumber(s, 1), (std::vector<uint16_t>{0x0000, 0x0002}));
}

TEST(SignalCodecTest, DecodesInt64InEveryWordOrder) {
  for (auto order : {modbus::WordOrder::kABCD, modbus::WordOrder::kCDAB, modbus::WordOrder::kBADC,
                     modbus::WordOrder::kDCBA}) {
    SignalSpec s = Spec(modbus::ValueType::kInt64, order);
    auto regs = EncodeNumber(s, -1234567890123.0);
    ASSERT_EQ(regs.size(), 4u);
    EXPECT_DOUBLE_EQ(DecodeNumber(s, regs)->value, -1234567890123.0);
    // The same bits as the modbus library's decoder.
    EXPECT_EQ(modbus::DecodeInt64(std::span<const uint16_t, 4>(regs.data(), 4), order),
              -1234567890123);
  }
}

TEST(SignalCodecTest, AppliesScaleOffsetAndInvert) {
  SignalSpec s = Spec(modbus::ValueType::kInt32);
  s.scale = 0.1;
  s.offset = 5;
  s.invert = true;
  auto regs = EncodeNumber(s, -235.5);
  EXPECT_NEAR(DecodeNumber(s, regs)->value, -235.5, 1e-9);
  // raw = (235.5 - 5) / 0.1 = 2305
  EXPECT_EQ(
      modbus::DecodeInt32(std::span<const uint16_t, 2>(regs.data(), 2), modbus::WordOrder::kABCD),
      2305);
}

TEST(SignalCodecTest, InvertFlipsTheSign) {
  SignalSpec s = Spec(modbus::ValueType::kInt16);
  s.invert = true;
  EXPECT_DOUBLE_EQ(DecodeNumber(s, Regs{100})->value, -100);
}

TEST(SignalCodecTest, SentinelsAreInvalid) {
  SignalSpec s = Spec(modbus::ValueType::kInt16);
  s.invalid = {0x7FFF, 0x8000};
  auto v = DecodeNumber(s, Regs{0x7FFF});
  EXPECT_EQ(v->quality, Quality::kInvalid);
  EXPECT_EQ(v->value, 0);
  EXPECT_EQ(DecodeNumber(s, Regs{0x8000})->quality, Quality::kInvalid);
  EXPECT_EQ(DecodeNumber(s, Regs{0x7FFE})->quality, Quality::kGood);
}

TEST(SignalCodecTest, NanFloatIsInvalid) {
  SignalSpec s = Spec(modbus::ValueType::kFloat32);
  auto regs = modbus::EncodeFloat32(std::nanf(""), modbus::WordOrder::kABCD);
  EXPECT_EQ(DecodeNumber(s, regs)->quality, Quality::kInvalid);
}

TEST(SignalCodecTest, ScaleFactorMultipliesByPowerOfTen) {
  SignalSpec s = Spec(modbus::ValueType::kUint16);
  EXPECT_DOUBLE_EQ(DecodeNumber(s, Regs{2301}, -1)->value, 230.1);
  EXPECT_DOUBLE_EQ(DecodeNumber(s, Regs{23}, 2)->value, 2300);
}

TEST(SignalCodecTest, EncodingClampsToTheTypeRange) {
  SignalSpec s = Spec(modbus::ValueType::kUint16);
  EXPECT_EQ(EncodeNumber(s, -5), std::vector<uint16_t>{0});
  EXPECT_EQ(EncodeNumber(s, 1e9), std::vector<uint16_t>{0xFFFF});
}

TEST(SignalCodecTest, ShortRegistersAreAnError) {
  EXPECT_FALSE(DecodeNumber(Spec(modbus::ValueType::kFloat64), Regs{1, 2, 3}).has_value());
}

TEST(ReadPlanScaleRegisterTest, DecodeUsesTheScaleRegister) {
  auto p = ParseProfile(R"(<profile vendor="V" model="M">
  <signal name="voltage_l1_n" address="0" type="uint16" scale-register="4" unit="V"/>
  <signal name="current_l1" address="1" type="int16" scale-register="5" unit="A"/>
  <signal name="serial_number" address="10" type="string" length="2"/>
</profile>)");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  ReadPlan plan = PlanReads(*p);
  ASSERT_EQ(plan.blocks.size(), 2u);  // 0..1 and 4..5 (max-gap 0)
  auto values = Decode(*p, plan, {{2301, static_cast<uint16_t>(-52)}, {0xFFFF, 0xFFFE}});
  ASSERT_TRUE(values.has_value()) << values.error().ToString();
  ASSERT_EQ(values->size(), 2u);  // the string is identity data, not a reading
  EXPECT_DOUBLE_EQ((*values)[0].value, 230.1);
  EXPECT_DOUBLE_EQ((*values)[1].value, -0.52);

  ReadPlan id_plan = PlanIdentityReads(*p);
  ASSERT_EQ(id_plan.blocks.size(), 1u);
  auto identity = DecodeIdentity(*p, id_plan, {{0x4142, 0x4300}});
  ASSERT_TRUE(identity.has_value());
  EXPECT_EQ(identity->at("serial_number"), "ABC");
}

}  // namespace
}  // namespace wattline::profiles
