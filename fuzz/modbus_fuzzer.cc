// libFuzzer target for the bytes a meter (or anything on port 502, a serial line or a gateway)
// sends us: the MBAP header, RTU framing and length rules, and every PDU decoder must answer any
// input with a value or an error, never crash or read out of bounds. The first input byte picks
// the request the response is decoded against.
#include <cstdint>
#include <string_view>

#include "modbus/bit_access.h"
#include "modbus/device_identification.h"
#include "modbus/pdu.h"
#include "modbus/read_write_registers.h"
#include "modbus/rtu.h"

using namespace wattline::modbus;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)ParseMbapHeader(in);
  if (in.empty()) return 0;
  const uint8_t selector = static_cast<uint8_t>(in[0]);
  ReadRequest request{static_cast<uint8_t>((selector & 1) ? 3 : 4), 19000,
                      static_cast<uint16_t>(1 + selector % 125)};
  std::string_view pdu = in.substr(1);
  (void)DecodeReadResponse(pdu, request);
  (void)DecodeReadRequest(pdu);
  (void)DecodeWriteSingleRequest(pdu);
  (void)DecodeWriteMultipleRequest(pdu);
  (void)CheckWriteSingleResponse(pdu, WriteSingleRequest{});
  (void)CheckWriteMultipleResponse(pdu, WriteMultipleRequest{});
  (void)ExceptionCodeOf(pdu);

  ReadBitsRequest bits{static_cast<uint8_t>((selector & 2) ? kReadCoils : kReadDiscreteInputs), 0,
                       static_cast<uint16_t>(1 + selector * 7)};
  (void)DecodeReadBitsRequest(pdu);
  (void)DecodeReadBitsResponse(pdu, bits);
  (void)DecodeWriteCoilRequest(pdu);
  (void)DecodeWriteCoilsRequest(pdu);
  (void)CheckWriteCoilResponse(pdu, WriteCoilRequest{});
  (void)CheckWriteCoilsResponse(pdu, WriteCoilsRequest{});
  (void)DecodeReadWriteRequest(pdu);
  (void)DecodeReadWriteResponse(pdu, ReadWriteRequest{0, request.count, 0, {1}});
  (void)DecodeDeviceIdRequest(pdu);
  (void)DecodeDeviceIdResponse(pdu);

  // The same bytes as an RTU stream: length rule for the selected function, then the frame.
  for (uint8_t fc : {request.function, bits.function, kWriteSingleRegister,
                     kReadWriteMultipleRegisters, kEncapsulatedInterface}) {
    (void)RtuResponseLength(pdu, fc);
  }
  (void)RtuRequestLength(pdu);
  if (auto frame = DecodeRtuFrame(pdu); frame) {
    (void)DecodeReadResponse(frame->pdu, request);
    (void)DecodeDeviceIdResponse(frame->pdu);
  }
  return 0;
}
