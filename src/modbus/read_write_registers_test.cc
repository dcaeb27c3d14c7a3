#include "modbus/read_write_registers.h"

#include <gtest/gtest.h>

namespace wattline::modbus {
namespace {

TEST(ReadWriteRegistersTest, RequestRoundTrip) {
  ReadWriteRequest req{3, 6, 14, {0x00FF, 0x00FF, 0x00FF}};
  auto pdu = EncodeReadWriteRequest(req);
  ASSERT_TRUE(pdu.has_value());
  EXPECT_EQ(*pdu,
            std::string("\x17\x00\x03\x00\x06\x00\x0E\x00\x03\x06\x00\xFF\x00\xFF\x00\xFF", 16));
  auto back = DecodeReadWriteRequest(*pdu);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->write_values, req.write_values);
  EXPECT_EQ(back->read_count, 6);
}

TEST(ReadWriteRegistersTest, ResponseRoundTrip) {
  ReadWriteRequest req{3, 2, 14, {1}};
  auto regs = DecodeReadWriteResponse(EncodeReadWriteResponse({0xFE, 0xACF0}), req);
  ASSERT_TRUE(regs.has_value());
  EXPECT_EQ((*regs)[1], 0xACF0);
}

TEST(ReadWriteRegistersTest, RejectsCountsOutOfRange) {
  EXPECT_FALSE(EncodeReadWriteRequest({0, 126, 0, {1}}).has_value());
  EXPECT_FALSE(EncodeReadWriteRequest({0, 1, 0, {}}).has_value());
  EXPECT_FALSE(EncodeReadWriteRequest({0, 1, 0, std::vector<uint16_t>(122)}).has_value());
}

TEST(ReadWriteRegistersTest, RequestInconsistentByteCount) {
  EXPECT_FALSE(
      DecodeReadWriteRequest(std::string("\x17\x00\x03\x00\x06\x00\x0E\x00\x03\x04\x00\xFF"
                                         "\x00\xFF",
                                         14)));
}

TEST(ReadWriteRegistersTest, ResponseWrongRegisterCount) {
  EXPECT_FALSE(DecodeReadWriteResponse(EncodeReadWriteResponse({1}), {0, 2, 0, {1}}));
}

TEST(ReadWriteRegistersTest, ResponseException) {
  auto r = DecodeReadWriteResponse(std::string("\x97\x04", 2), {0, 2, 0, {1}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace wattline::modbus
