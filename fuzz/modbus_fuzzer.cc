// libFuzzer target for the bytes a meter (or anything on port 502) sends us: the MBAP header
// and every PDU decoder must answer any input with a value or an error, never crash or read
// out of bounds. The first input byte picks the request the response is decoded against.
#include <cstdint>
#include <string_view>

#include "modbus/pdu.h"

using namespace wattline::modbus;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)ParseMbapHeader(in);
  if (in.empty()) return 0;
  ReadRequest request{static_cast<uint8_t>((in[0] & 1) ? 3 : 4), 19000,
                      static_cast<uint16_t>(1 + static_cast<uint8_t>(in[0]) % 125)};
  std::string_view pdu = in.substr(1);
  (void)DecodeReadResponse(pdu, request);
  (void)DecodeReadRequest(pdu);
  (void)DecodeWriteSingleRequest(pdu);
  (void)DecodeWriteMultipleRequest(pdu);
  (void)CheckWriteSingleResponse(pdu, WriteSingleRequest{});
  (void)CheckWriteMultipleResponse(pdu, WriteMultipleRequest{});
  return 0;
}
