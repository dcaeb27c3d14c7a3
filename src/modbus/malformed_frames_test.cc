// The corpus of malformed frames in testdata/modbus (also the fuzz target's seed corpus): each
// file's first byte is the fuzzer's selector, the rest the bytes under test. One test per kind
// of failure.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "modbus/bit_access.h"
#include "modbus/device_identification.h"
#include "modbus/pdu.h"
#include "modbus/rtu.h"

namespace wattline::modbus {
namespace {

std::string Payload(const std::string& name) {
  std::ifstream in(std::string(WATTLINE_MODBUS_TESTDATA) + "/" + name, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_FALSE(bytes.empty()) << name;
  return bytes.empty() ? bytes : bytes.substr(1);
}

TEST(MalformedFramesTest, RtuValidFrameDecodes) {
  auto f = DecodeRtuFrame(Payload("rtu_ok_read_2regs.bin"));
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE(DecodeReadResponse(f->pdu, {3, 0, 2}).has_value());
}

TEST(MalformedFramesTest, RtuCrcMismatch) {
  auto f = DecodeRtuFrame(Payload("rtu_crc_mismatch.bin"));
  ASSERT_FALSE(f.has_value());
  EXPECT_NE(f.error().message().find("CRC"), std::string::npos);
}

TEST(MalformedFramesTest, RtuTruncatedFrame) {
  std::string p = Payload("rtu_truncated.bin");
  EXPECT_FALSE(DecodeRtuFrame(p).has_value());
  EXPECT_EQ(RtuResponseLength(p, 3).value(), 9u);  // a reader waits for the rest
}

TEST(MalformedFramesTest, RtuByteCountOverflow) {
  auto n = RtuResponseLength(Payload("rtu_byte_count_overflow.bin"), 3);
  ASSERT_FALSE(n.has_value());
  EXPECT_NE(n.error().message().find("256"), std::string::npos);
}

TEST(MalformedFramesTest, DeviceIdObjectPastEnd) {
  EXPECT_FALSE(DecodeDeviceIdResponse(Payload("devid_object_past_end.bin")).has_value());
}

TEST(MalformedFramesTest, DeviceIdMissingObject) {
  EXPECT_FALSE(DecodeDeviceIdResponse(Payload("devid_missing_object.bin")).has_value());
}

TEST(MalformedFramesTest, DeviceIdTrailingBytes) {
  EXPECT_FALSE(DecodeDeviceIdResponse(Payload("devid_trailing_bytes.bin")).has_value());
}

TEST(MalformedFramesTest, DeviceIdBadMoreFollows) {
  EXPECT_FALSE(DecodeDeviceIdResponse(Payload("devid_bad_more_follows.bin")).has_value());
}

TEST(MalformedFramesTest, CoilsWrongByteCount) {
  EXPECT_FALSE(DecodeReadBitsResponse(Payload("coils_wrong_byte_count.bin"), {kReadCoils, 0, 9})
                   .has_value());
}

}  // namespace
}  // namespace wattline::modbus
