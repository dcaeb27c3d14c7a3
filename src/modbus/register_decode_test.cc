#include "modbus/register_decode.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace wattline::modbus {
namespace {

// 230.1f is 0x43 0x66 0x19 0x9A (A B C D).
TEST(RegisterDecodeTest, Float32AbcdIsBigEndian) {
  const uint16_t regs[2] = {0x4366, 0x199A};
  EXPECT_FLOAT_EQ(DecodeFloat32(regs, WordOrder::kABCD), 230.1f);
}

TEST(RegisterDecodeTest, Float32CdabSwapsWords) {
  const uint16_t regs[2] = {0x199A, 0x4366};
  EXPECT_FLOAT_EQ(DecodeFloat32(regs, WordOrder::kCDAB), 230.1f);
}

TEST(RegisterDecodeTest, Float32BadcSwapsBytes) {
  const uint16_t regs[2] = {0x6643, 0x9A19};
  EXPECT_FLOAT_EQ(DecodeFloat32(regs, WordOrder::kBADC), 230.1f);
}

TEST(RegisterDecodeTest, Float32DcbaIsLittleEndian) {
  const uint16_t regs[2] = {0x9A19, 0x6643};
  EXPECT_FLOAT_EQ(DecodeFloat32(regs, WordOrder::kDCBA), 230.1f);
}

TEST(RegisterDecodeTest, Float32EncodeRoundTripsInEveryOrder) {
  for (WordOrder o : {WordOrder::kABCD, WordOrder::kCDAB, WordOrder::kBADC, WordOrder::kDCBA}) {
    auto regs = EncodeFloat32(-1234.5f, o);
    EXPECT_EQ(DecodeFloat32(regs, o), -1234.5f) << WordOrderName(o);
  }
  EXPECT_EQ(EncodeFloat32(230.1f, WordOrder::kABCD), (std::array<uint16_t, 2>{0x4366, 0x199A}));
}

// -123456789 is 0xF8A432EB.
TEST(RegisterDecodeTest, Int32InEveryOrder) {
  const uint16_t abcd[2] = {0xF8A4, 0x32EB};
  const uint16_t cdab[2] = {0x32EB, 0xF8A4};
  const uint16_t badc[2] = {0xA4F8, 0xEB32};
  const uint16_t dcba[2] = {0xEB32, 0xA4F8};
  EXPECT_EQ(DecodeInt32(abcd, WordOrder::kABCD), -123456789);
  EXPECT_EQ(DecodeInt32(cdab, WordOrder::kCDAB), -123456789);
  EXPECT_EQ(DecodeInt32(badc, WordOrder::kBADC), -123456789);
  EXPECT_EQ(DecodeInt32(dcba, WordOrder::kDCBA), -123456789);
}

TEST(RegisterDecodeTest, Uint32UsesAllBits) {
  const uint16_t abcd[2] = {0xF8A4, 0x32EB};
  EXPECT_EQ(DecodeUint32(abcd, WordOrder::kABCD), 0xF8A432EBu);
  EXPECT_EQ(EncodeUint32(0xF8A432EBu, WordOrder::kCDAB), (std::array<uint16_t, 2>{0x32EB, 0xF8A4}));
}

TEST(RegisterDecodeTest, Int16AndUint16) {
  EXPECT_EQ(DecodeInt16(0xFFFE, WordOrder::kABCD), -2);
  EXPECT_EQ(DecodeUint16(0xFFFE, WordOrder::kABCD), 0xFFFE);
  EXPECT_EQ(DecodeUint16(0x1234, WordOrder::kBADC), 0x3412);
  EXPECT_EQ(DecodeUint16(0x1234, WordOrder::kCDAB), 0x1234);
}

// 1234567.891 is 0x4132D687E4189375.
TEST(RegisterDecodeTest, Float64AbcdAndDcba) {
  const uint16_t abcd[4] = {0x4132, 0xD687, 0xE418, 0x9375};
  const uint16_t dcba[4] = {0x7593, 0x18E4, 0x87D6, 0x3241};
  EXPECT_DOUBLE_EQ(DecodeFloat64(abcd, WordOrder::kABCD), 1234567.891);
  EXPECT_DOUBLE_EQ(DecodeFloat64(dcba, WordOrder::kDCBA), 1234567.891);
  EXPECT_EQ(EncodeFloat64(1234567.891, WordOrder::kABCD),
            (std::array<uint16_t, 4>{0x4132, 0xD687, 0xE418, 0x9375}));
}

TEST(RegisterDecodeTest, Int64AndUint64) {
  const uint16_t minus_one[4] = {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF};
  EXPECT_EQ(DecodeInt64(minus_one, WordOrder::kABCD), -1);
  // 0x0000'0001'0000'0002 with the word order reversed (lowest word first).
  const uint16_t cdab[4] = {0x0002, 0x0000, 0x0001, 0x0000};
  EXPECT_EQ(DecodeUint64(cdab, WordOrder::kCDAB), 0x0000000100000002ull);
}

TEST(RegisterDecodeTest, DecodeAsDoubleRejectsShortSpan) {
  std::vector<uint16_t> one = {0x4366};
  auto r = DecodeAsDouble(one, ValueType::kFloat32, WordOrder::kABCD);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

TEST(RegisterDecodeTest, DecodeAsDoubleDecodesEachType) {
  std::vector<uint16_t> regs = {0x4366, 0x199A, 0, 0};
  EXPECT_FLOAT_EQ(static_cast<float>(*DecodeAsDouble(regs, ValueType::kFloat32, WordOrder::kABCD)),
                  230.1f);
  EXPECT_EQ(*DecodeAsDouble(regs, ValueType::kUint16, WordOrder::kABCD), 0x4366);
  EXPECT_EQ(*DecodeAsDouble(regs, ValueType::kUint64, WordOrder::kABCD),
            double(0x4366199A00000000ull));
}

TEST(RegisterDecodeTest, ParsesNames) {
  EXPECT_EQ(*ParseWordOrder("CDAB"), WordOrder::kCDAB);
  EXPECT_FALSE(ParseWordOrder("abcd").has_value());
  EXPECT_EQ(*ParseValueType("float32"), ValueType::kFloat32);
  EXPECT_FALSE(ParseValueType("float").has_value());
  EXPECT_EQ(RegisterCount(ValueType::kFloat64), 4);
}

}  // namespace
}  // namespace wattline::modbus
