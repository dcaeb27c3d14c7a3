#include "modbus/read_write_registers.h"

#include <fmt/format.h>

#include "modbus/pdu.h"
#include "modbus/pdu_bytes.h"

namespace wattline::modbus {
namespace {

using pdu_bytes::Byte;
using pdu_bytes::PutU16;
using pdu_bytes::U16;

Status Validate(const ReadWriteRequest& r) {
  if (r.read_count == 0 || r.read_count > kMaxReadWriteReadRegisters) {
    return InvalidArgument(fmt::format("read count {} outside 1..125", r.read_count));
  }
  if (r.write_values.empty() || r.write_values.size() > kMaxReadWriteWriteRegisters) {
    return InvalidArgument(fmt::format("write count {} outside 1..121", r.write_values.size()));
  }
  if (uint32_t{r.read_address} + r.read_count > 0x10000 ||
      r.write_address + r.write_values.size() > 0x10000) {
    return InvalidArgument("read/write range runs past 65535");
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> EncodeReadWriteRequest(const ReadWriteRequest& r) {
  if (Status s = Validate(r); !s.ok()) return Fail(s);
  std::string out;
  out.push_back(static_cast<char>(kReadWriteMultipleRegisters));
  PutU16(out, r.read_address);
  PutU16(out, r.read_count);
  PutU16(out, r.write_address);
  PutU16(out, static_cast<uint16_t>(r.write_values.size()));
  out.push_back(static_cast<char>(2 * r.write_values.size()));
  for (uint16_t v : r.write_values) PutU16(out, v);
  return out;
}

Result<ReadWriteRequest> DecodeReadWriteRequest(std::string_view pdu) {
  if (pdu.size() < 10 || Byte(pdu, 0) != kReadWriteMultipleRegisters) {
    return Fail(InvalidArgument("malformed read/write-multiple-registers request"));
  }
  uint16_t write_count = U16(pdu, 7);
  size_t byte_count = Byte(pdu, 9);
  if (byte_count != 2u * write_count || pdu.size() != 10 + byte_count) {
    return Fail(InvalidArgument("read/write-multiple-registers request with inconsistent counts"));
  }
  ReadWriteRequest r{U16(pdu, 1), U16(pdu, 3), U16(pdu, 5), std::vector<uint16_t>(write_count)};
  for (size_t i = 0; i < write_count; ++i) r.write_values[i] = U16(pdu, 10 + 2 * i);
  if (Status s = Validate(r); !s.ok()) return Fail(s);
  return r;
}

std::string EncodeReadWriteResponse(const std::vector<uint16_t>& registers) {
  return EncodeReadResponse(kReadWriteMultipleRegisters, registers);
}

Result<std::vector<uint16_t>> DecodeReadWriteResponse(std::string_view pdu,
                                                      const ReadWriteRequest& request) {
  if (Status s = CheckResponseFunction(pdu, kReadWriteMultipleRegisters); !s.ok()) return Fail(s);
  if (pdu.size() < 2)
    return Fail(InvalidArgument("read/write response truncated before byte count"));
  size_t byte_count = Byte(pdu, 1);
  if (byte_count != pdu.size() - 2 || byte_count != 2u * request.read_count) {
    return Fail(InvalidArgument(
        fmt::format("read/write response byte count {} with {} data bytes for {} registers",
                    byte_count, pdu.size() - 2, request.read_count)));
  }
  std::vector<uint16_t> regs(request.read_count);
  for (size_t i = 0; i < regs.size(); ++i) regs[i] = U16(pdu, 2 + 2 * i);
  return regs;
}

}  // namespace wattline::modbus
