#include "modbus/device_identification.h"

#include <gtest/gtest.h>

namespace wattline::modbus {
namespace {

TEST(DeviceIdentificationTest, RequestRoundTrip) {
  std::string pdu = EncodeDeviceIdRequest({DeviceIdCode::kRegular, 3});
  EXPECT_EQ(pdu, std::string("\x2B\x0E\x02\x03", 4));
  auto back = DecodeDeviceIdRequest(pdu);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->code, DeviceIdCode::kRegular);
  EXPECT_EQ(back->object_id, 3);
}

TEST(DeviceIdentificationTest, RequestBadReadCode) {
  EXPECT_FALSE(DecodeDeviceIdRequest(std::string("\x2B\x0E\x05\x00", 4)).has_value());
}

TEST(DeviceIdentificationTest, RequestBadMeiType) {
  EXPECT_FALSE(DecodeDeviceIdRequest(std::string("\x2B\x0D\x01\x00", 4)).has_value());
}

TEST(DeviceIdentificationTest, ResponseRoundTripWithMoreFollows) {
  DeviceIdResponse r{DeviceIdCode::kBasic, 0x81, true, 2, {{0, "Janitza"}, {1, "UMG 96RM-E"}}};
  auto pdu = EncodeDeviceIdResponse(r);
  ASSERT_TRUE(pdu.has_value());
  auto back = DecodeDeviceIdResponse(*pdu);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_TRUE(back->more_follows);
  EXPECT_EQ(back->next_object_id, 2);
  EXPECT_EQ(back->conformity, 0x81);
  ASSERT_EQ(back->objects.size(), 2u);
  EXPECT_EQ(back->objects[1].value, "UMG 96RM-E");
}

TEST(DeviceIdentificationTest, ResponseTruncatedHeader) {
  EXPECT_FALSE(DecodeDeviceIdResponse(std::string("\x2B\x0E\x01\x01\x00", 5)).has_value());
}

TEST(DeviceIdentificationTest, ResponseObjectLengthPastEnd) {
  EXPECT_FALSE(
      DecodeDeviceIdResponse(std::string("\x2B\x0E\x01\x01\x00\x00\x01\x00\x09"
                                         "abc",
                                         12)));
}

TEST(DeviceIdentificationTest, ResponseMissingObject) {
  EXPECT_FALSE(DecodeDeviceIdResponse(std::string("\x2B\x0E\x01\x01\x00\x00\x02\x00\x01x", 10)));
}

TEST(DeviceIdentificationTest, ResponseBadMoreFollows) {
  EXPECT_FALSE(DecodeDeviceIdResponse(std::string("\x2B\x0E\x01\x01\x07\x00\x00", 7)));
}

TEST(DeviceIdentificationTest, ResponseTrailingBytes) {
  EXPECT_FALSE(DecodeDeviceIdResponse(std::string("\x2B\x0E\x01\x01\x00\x00\x00\x99", 8)));
}

TEST(DeviceIdentificationTest, ResponseException) {
  auto r = DecodeDeviceIdResponse(std::string("\xAB\x01", 2));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kFailedPrecondition);
}

TEST(DeviceIdentificationTest, ResponseTooLargeToEncode) {
  DeviceIdResponse r;
  for (uint8_t i = 0; i < 3; ++i) r.objects.push_back({i, std::string(100, 'x')});
  EXPECT_FALSE(EncodeDeviceIdResponse(r).has_value());
}

}  // namespace
}  // namespace wattline::modbus
