#include "modbus/pdu.h"

#include <gtest/gtest.h>

namespace wattline::modbus {
namespace {

using namespace std::string_literals;

const ReadRequest kRead{kReadHoldingRegisters, 19000, 2};

TEST(PduTest, EncodesReadRequest) {
  auto pdu = EncodeReadRequest(kRead);
  ASSERT_TRUE(pdu.has_value());
  EXPECT_EQ(*pdu, "\x03\x4A\x38\x00\x02"s);
}

TEST(PduTest, ReadRequestRoundTrips) {
  auto r = DecodeReadRequest(*EncodeReadRequest({kReadInputRegisters, 7, 125}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->function, kReadInputRegisters);
  EXPECT_EQ(r->address, 7);
  EXPECT_EQ(r->count, 125);
}

TEST(PduTest, ReadRequestRejectsZeroCount) {
  EXPECT_EQ(EncodeReadRequest({3, 0, 0}).error().code(), Code::kInvalidArgument);
}

TEST(PduTest, ReadRequestRejectsMoreThan125Registers) {
  EXPECT_FALSE(EncodeReadRequest({3, 0, 126}).has_value());
  EXPECT_FALSE(DecodeReadRequest("\x03\x00\x00\x00\x7E"s).has_value());
}

TEST(PduTest, ReadRequestRejectsRangePast65535) {
  EXPECT_FALSE(EncodeReadRequest({3, 65535, 2}).has_value());
}

TEST(PduTest, ReadRequestRejectsOtherFunction) {
  EXPECT_FALSE(EncodeReadRequest({0x06, 0, 1}).has_value());
}

TEST(PduTest, TruncatedReadRequest) {
  EXPECT_FALSE(DecodeReadRequest("\x03\x4A\x38\x00"s).has_value());
  EXPECT_FALSE(DecodeReadRequest("").has_value());
}

TEST(PduTest, DecodesReadResponse) {
  auto regs = DecodeReadResponse("\x03\x04\x43\x66\x19\x9A"s, kRead);
  ASSERT_TRUE(regs.has_value());
  EXPECT_EQ(*regs, (std::vector<uint16_t>{0x4366, 0x199A}));
}

TEST(PduTest, ReadResponseEncodeDecodeRoundTrip) {
  std::vector<uint16_t> regs = {1, 2, 0xFFFF};
  auto back = DecodeReadResponse(EncodeReadResponse(3, regs), {3, 0, 3});
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, regs);
}

TEST(PduTest, EmptyReadResponse) {
  EXPECT_EQ(DecodeReadResponse("", kRead).error().code(), Code::kInvalidArgument);
}

TEST(PduTest, ReadResponseTruncatedBeforeByteCount) {
  EXPECT_EQ(DecodeReadResponse("\x03"s, kRead).error().code(), Code::kInvalidArgument);
}

TEST(PduTest, ReadResponseTruncatedData) {
  auto r = DecodeReadResponse("\x03\x04\x43\x66\x19"s, kRead);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("byte count"), std::string::npos);
}

TEST(PduTest, ReadResponseByteCountLargerThanData) {
  EXPECT_FALSE(DecodeReadResponse("\x03\xFF\x43\x66\x19\x9A"s, kRead).has_value());
}

TEST(PduTest, ReadResponseOddByteCount) {
  auto r = DecodeReadResponse("\x03\x03\x43\x66\x19"s, {3, 0, 1});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("odd"), std::string::npos);
}

TEST(PduTest, ReadResponseWrongRegisterCount) {
  auto r = DecodeReadResponse("\x03\x02\x43\x66"s, kRead);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("requested 2"), std::string::npos);
}

TEST(PduTest, ReadResponseWrongFunctionCode) {
  auto r = DecodeReadResponse("\x04\x04\x43\x66\x19\x9A"s, kRead);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

TEST(PduTest, ExceptionForOtherFunctionIsGarbage) {
  EXPECT_EQ(DecodeReadResponse("\x84\x02"s, kRead).error().code(), Code::kInvalidArgument);
}

TEST(PduTest, TruncatedExceptionResponse) {
  EXPECT_EQ(DecodeReadResponse("\x83"s, kRead).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(DecodeReadResponse("\x83\x02\x00"s, kRead).error().code(), Code::kInvalidArgument);
}

TEST(PduTest, ExceptionIllegalFunction) {
  auto r = DecodeReadResponse("\x83\x01"s, kRead);
  EXPECT_EQ(r.error().code(), Code::kFailedPrecondition);
}

TEST(PduTest, ExceptionIllegalDataAddress) {
  auto r = DecodeReadResponse("\x83\x02"s, kRead);
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("illegal data address"), std::string::npos);
}

TEST(PduTest, ExceptionIllegalDataValue) {
  auto r = DecodeReadResponse("\x83\x03"s, kRead);
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("illegal data value"), std::string::npos);
}

TEST(PduTest, ExceptionServerDeviceFailure) {
  EXPECT_EQ(DecodeReadResponse("\x83\x04"s, kRead).error().code(), Code::kUnavailable);
}

TEST(PduTest, ExceptionServerBusy) {
  EXPECT_EQ(DecodeReadResponse("\x83\x06"s, kRead).error().code(), Code::kUnavailable);
}

TEST(PduTest, ExceptionGatewayTargetFailed) {
  EXPECT_EQ(DecodeReadResponse("\x83\x0B"s, kRead).error().code(), Code::kUnavailable);
}

TEST(PduTest, ExceptionUnknownCode) {
  auto r = DecodeReadResponse("\x83\x42"s, kRead);
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("42"), std::string::npos);
}

TEST(PduTest, EncodesException) {
  EXPECT_EQ(EncodeException(3, ExceptionCode::kIllegalDataAddress), "\x83\x02"s);
}

TEST(PduTest, WriteSingleRoundTrip) {
  WriteSingleRequest w{512, 0xBEEF};
  auto pdu = EncodeWriteSingleRequest(w);
  auto back = DecodeWriteSingleRequest(pdu);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->value, 0xBEEF);
  EXPECT_TRUE(CheckWriteSingleResponse(pdu, w).ok());
  EXPECT_FALSE(CheckWriteSingleResponse("\x06\x02\x00\x00\x01"s, w).ok());
  EXPECT_FALSE(DecodeWriteSingleRequest("\x06\x02\x00"s).has_value());
}

TEST(PduTest, WriteMultipleRoundTrip) {
  WriteMultipleRequest w{20003, {0x6500, 0x0001}};
  auto pdu = EncodeWriteMultipleRequest(w);
  ASSERT_TRUE(pdu.has_value());
  auto back = DecodeWriteMultipleRequest(*pdu);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->values, w.values);
  EXPECT_TRUE(CheckWriteMultipleResponse(EncodeWriteMultipleResponse(20003, 2), w).ok());
  EXPECT_FALSE(CheckWriteMultipleResponse(EncodeWriteMultipleResponse(20003, 1), w).ok());
}

TEST(PduTest, WriteMultipleInconsistentByteCount) {
  EXPECT_FALSE(DecodeWriteMultipleRequest("\x10\x00\x00\x00\x02\x03\x00\x01\x00"s).has_value());
  EXPECT_FALSE(EncodeWriteMultipleRequest({0, {}}).has_value());
}

TEST(MbapTest, EncodesFrame) {
  EXPECT_EQ(EncodeFrame(0x1234, 7, "\x03\x4A\x38\x00\x02"s),
            "\x12\x34\x00\x00\x00\x06\x07\x03\x4A\x38\x00\x02"s);
}

TEST(MbapTest, ParsesHeader) {
  auto h = ParseMbapHeader("\x12\x34\x00\x00\x00\x06\x07"s);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->transaction_id, 0x1234);
  EXPECT_EQ(h->unit_id, 7);
  EXPECT_EQ(h->pdu_size(), 5u);
}

TEST(MbapTest, TruncatedHeader) {
  EXPECT_EQ(ParseMbapHeader("\x12\x34\x00\x00\x00\x06"s).error().code(), Code::kInvalidArgument);
}

TEST(MbapTest, BadProtocolId) {
  auto h = ParseMbapHeader("\x12\x34\x00\x01\x00\x06\x07"s);
  ASSERT_FALSE(h.has_value());
  EXPECT_NE(h.error().message().find("protocol id"), std::string::npos);
}

TEST(MbapTest, LengthTooShort) {
  EXPECT_FALSE(ParseMbapHeader("\x00\x01\x00\x00\x00\x01\x01"s).has_value());
  EXPECT_FALSE(ParseMbapHeader("\x00\x01\x00\x00\x00\x00\x01"s).has_value());
}

TEST(MbapTest, LengthTooLong) {
  EXPECT_FALSE(ParseMbapHeader("\x00\x01\x00\x00\x00\xFF\x01"s).has_value());
  EXPECT_TRUE(ParseMbapHeader("\x00\x01\x00\x00\x00\xFE\x01"s).has_value());
}

}  // namespace
}  // namespace wattline::modbus
