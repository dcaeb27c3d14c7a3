#include "modbus/bit_access.h"

#include <gtest/gtest.h>

namespace wattline::modbus {
namespace {

TEST(BitAccessTest, ReadCoilsRoundTrip) {
  ReadBitsRequest req{kReadCoils, 19, 10};
  auto pdu = EncodeReadBitsRequest(req);
  ASSERT_TRUE(pdu.has_value());
  EXPECT_EQ(*pdu, std::string("\x01\x00\x13\x00\x0A", 5));
  auto back = DecodeReadBitsRequest(*pdu);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->count, 10);
  std::vector<bool> bits{true, false, true, true, false, false, true, true, true, false};
  std::string resp = EncodeReadBitsResponse(kReadCoils, bits);
  EXPECT_EQ(resp, std::string("\x01\x02\xCD\x01", 4));
  auto got = DecodeReadBitsResponse(resp, req);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, bits);
}

TEST(BitAccessTest, ReadDiscreteInputs) {
  ReadBitsRequest req{kReadDiscreteInputs, 0, 3};
  auto got = DecodeReadBitsResponse(EncodeReadBitsResponse(2, {false, true, false}), req);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE((*got)[1]);
}

TEST(BitAccessTest, ReadBitsRejectsTooMany) {
  EXPECT_FALSE(EncodeReadBitsRequest({kReadCoils, 0, 2001}).has_value());
  EXPECT_FALSE(EncodeReadBitsRequest({kReadCoils, 0, 0}).has_value());
  EXPECT_FALSE(EncodeReadBitsRequest({kReadHoldingRegisters, 0, 1}).has_value());
}

TEST(BitAccessTest, ReadBitsResponseWrongByteCount) {
  EXPECT_FALSE(DecodeReadBitsResponse(std::string("\x01\x01\xFF", 3), {kReadCoils, 0, 9}));
}

TEST(BitAccessTest, ReadBitsResponseTruncated) {
  EXPECT_FALSE(DecodeReadBitsResponse(std::string("\x01\x02\xFF", 3), {kReadCoils, 0, 9}));
  EXPECT_FALSE(DecodeReadBitsResponse(std::string("\x01", 1), {kReadCoils, 0, 9}));
}

TEST(BitAccessTest, ReadBitsException) {
  auto r = DecodeReadBitsResponse(std::string("\x81\x02", 2), {kReadCoils, 0, 9});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

TEST(BitAccessTest, WriteCoilRoundTrip) {
  std::string pdu = EncodeWriteCoilRequest({172, true});
  EXPECT_EQ(pdu, std::string("\x05\x00\xAC\xFF\x00", 5));
  auto back = DecodeWriteCoilRequest(pdu);
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->value);
  EXPECT_TRUE(CheckWriteCoilResponse(pdu, {172, true}).ok());
  EXPECT_FALSE(CheckWriteCoilResponse(pdu, {172, false}).ok());
}

TEST(BitAccessTest, WriteCoilBadValue) {
  EXPECT_FALSE(DecodeWriteCoilRequest(std::string("\x05\x00\xAC\x12\x34", 5)).has_value());
}

TEST(BitAccessTest, WriteCoilsRoundTrip) {
  WriteCoilsRequest req{19, {true, false, true, true, false, false, true, true, true, false}};
  auto pdu = EncodeWriteCoilsRequest(req);
  ASSERT_TRUE(pdu.has_value());
  EXPECT_EQ(*pdu, std::string("\x0F\x00\x13\x00\x0A\x02\xCD\x01", 8));
  auto back = DecodeWriteCoilsRequest(*pdu);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->values, req.values);
  EXPECT_TRUE(CheckWriteCoilsResponse(EncodeWriteCoilsResponse(19, 10), req).ok());
}

TEST(BitAccessTest, WriteCoilsInconsistentByteCount) {
  EXPECT_FALSE(DecodeWriteCoilsRequest(std::string("\x0F\x00\x13\x00\x0A\x01\xCD", 7)));
}

}  // namespace
}  // namespace wattline::modbus
