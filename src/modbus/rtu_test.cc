#include "modbus/rtu.h"

#include <gtest/gtest.h>

#include "modbus/pdu.h"

namespace wattline::modbus {
namespace {

std::string Bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}

TEST(RtuTest, CrcKnownVectors) {
  // Read 10 holding registers at 0 from unit 1: 01 03 00 00 00 0A C5 CD.
  EXPECT_EQ(Crc16(Bytes({0x01, 0x03, 0x00, 0x00, 0x00, 0x0A})), 0xCDC5);
  // CRC-16/MODBUS check value of "123456789".
  EXPECT_EQ(Crc16("123456789"), 0x4B37);
}

TEST(RtuTest, EncodesFrameWithCrcLowByteFirst) {
  EXPECT_EQ(EncodeRtuFrame(1, Bytes({0x03, 0x00, 0x00, 0x00, 0x0A})),
            Bytes({0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD}));
}

TEST(RtuTest, FrameRoundTrips) {
  std::string pdu = EncodeReadResponse(3, std::vector<uint16_t>{0x4366, 0x199A});
  auto f = DecodeRtuFrame(EncodeRtuFrame(17, pdu));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->unit, 17);
  EXPECT_EQ(f->pdu, pdu);
}

TEST(RtuTest, CrcMismatch) {
  std::string adu = EncodeRtuFrame(1, Bytes({0x03, 0x00, 0x00, 0x00, 0x0A}));
  adu[3] ^= 1;
  auto f = DecodeRtuFrame(adu);
  ASSERT_FALSE(f.has_value());
  EXPECT_NE(f.error().message().find("CRC"), std::string::npos);
}

TEST(RtuTest, FrameTooShort) { EXPECT_FALSE(DecodeRtuFrame(Bytes({1, 3, 0})).has_value()); }

TEST(RtuTest, FrameTooLong) { EXPECT_FALSE(DecodeRtuFrame(std::string(257, '\1')).has_value()); }

TEST(RtuTest, ResponseLengthFromByteCount) {
  EXPECT_EQ(RtuResponseLength(Bytes({1}), 3).value(), 0u);
  EXPECT_EQ(RtuResponseLength(Bytes({1, 3}), 3).value(), 0u);
  EXPECT_EQ(RtuResponseLength(Bytes({1, 3, 4}), 3).value(), 9u);
  EXPECT_EQ(RtuResponseLength(Bytes({1, 1, 2}), 1).value(), 7u);
  EXPECT_EQ(RtuResponseLength(Bytes({1, 0x17, 2}), 0x17).value(), 7u);
}

TEST(RtuTest, ResponseLengthFixedForWrites) {
  for (int fc : {5, 6, 15, 16}) EXPECT_EQ(RtuResponseLength(Bytes({1, fc}), fc).value(), 8u);
}

TEST(RtuTest, ResponseLengthOfException) {
  EXPECT_EQ(RtuResponseLength(Bytes({1, 0x83}), 3).value(), kRtuExceptionFrameSize);
}

TEST(RtuTest, ResponseLengthWrongFunction) {
  EXPECT_FALSE(RtuResponseLength(Bytes({1, 4}), 3).has_value());
}

TEST(RtuTest, ResponseLengthUnknownFunction) {
  EXPECT_FALSE(RtuResponseLength(Bytes({1, 0x41}), 0x41).has_value());
}

TEST(RtuTest, ResponseLengthOfDeviceIdWalksObjects) {
  std::string p = Bytes({1, 0x2B, 0x0E, 1, 1, 0, 0, 2, 0, 3, 'A', 'B', 'C', 1});
  EXPECT_EQ(RtuResponseLength(p, 0x2B).value(), 0u);  // second object's length missing
  p += Bytes({2, 'X', 'Y'});
  EXPECT_EQ(RtuResponseLength(p, 0x2B).value(), 8u + 5 + 4 + 2);
}

TEST(RtuTest, ResponseLengthDeviceIdBadMeiType) {
  EXPECT_FALSE(RtuResponseLength(Bytes({1, 0x2B, 0x0D, 1, 1, 0, 0, 0}), 0x2B).has_value());
}

TEST(RtuTest, RequestLengths) {
  EXPECT_EQ(RtuRequestLength(Bytes({1, 3})).value(), 8u);
  EXPECT_EQ(RtuRequestLength(Bytes({1, 16, 0, 0, 0, 2})).value(), 0u);
  EXPECT_EQ(RtuRequestLength(Bytes({1, 16, 0, 0, 0, 2, 4})).value(), 13u);
  EXPECT_EQ(RtuRequestLength(Bytes({1, 0x2B})).value(), 7u);
  EXPECT_FALSE(RtuRequestLength(Bytes({1, 0x63})).has_value());
}

TEST(RtuTest, SilentIntervalAndWireTime) {
  EXPECT_EQ(RtuSilentIntervalUs(9600), 4010u);  // 38.5 bits at 9600 baud
  EXPECT_EQ(RtuSilentIntervalUs(38400), 1750u);
  EXPECT_EQ(RtuWireTimeUs(8, 9600), 9167u);
}

}  // namespace
}  // namespace wattline::modbus
