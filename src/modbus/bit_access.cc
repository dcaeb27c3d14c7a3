#include "modbus/bit_access.h"

#include <fmt/format.h>

#include "modbus/pdu_bytes.h"

namespace wattline::modbus {
namespace {

using pdu_bytes::Byte;
using pdu_bytes::PutU16;
using pdu_bytes::U16;

Status ValidateReadBits(const ReadBitsRequest& r) {
  if (r.function != kReadCoils && r.function != kReadDiscreteInputs) {
    return InvalidArgument(fmt::format("function {:02X} is not a bit read", r.function));
  }
  if (r.count == 0 || r.count > kMaxReadBits) {
    return InvalidArgument(fmt::format("bit count {} outside 1..{}", r.count, kMaxReadBits));
  }
  if (uint32_t{r.address} + r.count > 0x10000) {
    return InvalidArgument(
        fmt::format("read of {} bits at {} runs past 65535", r.count, r.address));
  }
  return Status::Ok();
}

void PackBits(std::string& out, const std::vector<bool>& bits) {
  size_t start = out.size();
  out.append((bits.size() + 7) / 8, '\0');
  for (size_t i = 0; i < bits.size(); ++i) {
    if (bits[i]) out[start + i / 8] = static_cast<char>(Byte(out, start + i / 8) | (1u << (i % 8)));
  }
}

}  // namespace

Result<std::string> EncodeReadBitsRequest(const ReadBitsRequest& r) {
  if (Status s = ValidateReadBits(r); !s.ok()) return Fail(s);
  std::string out;
  out.push_back(static_cast<char>(r.function));
  PutU16(out, r.address);
  PutU16(out, r.count);
  return out;
}

Result<ReadBitsRequest> DecodeReadBitsRequest(std::string_view pdu) {
  if (pdu.size() != 5) {
    return Fail(
        InvalidArgument(fmt::format("bit read request of {} bytes, expected 5", pdu.size())));
  }
  ReadBitsRequest r{Byte(pdu, 0), U16(pdu, 1), U16(pdu, 3)};
  if (Status s = ValidateReadBits(r); !s.ok()) return Fail(s);
  return r;
}

std::string EncodeReadBitsResponse(uint8_t function, const std::vector<bool>& bits) {
  std::string out;
  out.push_back(static_cast<char>(function));
  out.push_back(static_cast<char>((bits.size() + 7) / 8));
  PackBits(out, bits);
  return out;
}

Result<std::vector<bool>> DecodeReadBitsResponse(std::string_view pdu,
                                                 const ReadBitsRequest& request) {
  if (Status s = CheckResponseFunction(pdu, request.function); !s.ok()) return Fail(s);
  if (pdu.size() < 2) return Fail(InvalidArgument("bit read response truncated before byte count"));
  size_t byte_count = Byte(pdu, 1);
  if (byte_count != pdu.size() - 2) {
    return Fail(InvalidArgument(fmt::format("bit read response byte count {} but {} data bytes",
                                            byte_count, pdu.size() - 2)));
  }
  if (byte_count != (request.count + 7u) / 8) {
    return Fail(InvalidArgument(
        fmt::format("bit read response has {} bytes for {} bits", byte_count, request.count)));
  }
  std::vector<bool> bits(request.count);
  for (size_t i = 0; i < bits.size(); ++i) bits[i] = (Byte(pdu, 2 + i / 8) >> (i % 8)) & 1;
  return bits;
}

std::string EncodeWriteCoilRequest(const WriteCoilRequest& r) {
  std::string out;
  out.push_back(static_cast<char>(kWriteSingleCoil));
  PutU16(out, r.address);
  PutU16(out, r.value ? 0xFF00 : 0x0000);
  return out;
}

Result<WriteCoilRequest> DecodeWriteCoilRequest(std::string_view pdu) {
  if (pdu.size() != 5 || Byte(pdu, 0) != kWriteSingleCoil) {
    return Fail(InvalidArgument("malformed write-single-coil request"));
  }
  uint16_t v = U16(pdu, 3);
  if (v != 0xFF00 && v != 0x0000) {
    return Fail(InvalidArgument(fmt::format("coil value {:04X} is neither FF00 nor 0000", v)));
  }
  return WriteCoilRequest{U16(pdu, 1), v == 0xFF00};
}

Status CheckWriteCoilResponse(std::string_view pdu, const WriteCoilRequest& request) {
  if (Status s = CheckResponseFunction(pdu, kWriteSingleCoil); !s.ok()) return s;
  if (pdu != EncodeWriteCoilRequest(request)) {
    return InvalidArgument("write-single-coil response does not echo the request");
  }
  return Status::Ok();
}

Result<std::string> EncodeWriteCoilsRequest(const WriteCoilsRequest& r) {
  if (r.values.empty() || r.values.size() > kMaxWriteBits ||
      r.address + r.values.size() > 0x10000) {
    return Fail(
        InvalidArgument(fmt::format("cannot write {} coils at {}", r.values.size(), r.address)));
  }
  std::string out;
  out.push_back(static_cast<char>(kWriteMultipleCoils));
  PutU16(out, r.address);
  PutU16(out, static_cast<uint16_t>(r.values.size()));
  out.push_back(static_cast<char>((r.values.size() + 7) / 8));
  PackBits(out, r.values);
  return out;
}

Result<WriteCoilsRequest> DecodeWriteCoilsRequest(std::string_view pdu) {
  auto head = pdu_bytes::ParseWriteMultipleHead(pdu, kWriteMultipleCoils, kMaxWriteBits, 1,
                                                "write-multiple-coils");
  if (!head) return Fail(head.error());
  WriteCoilsRequest r{head->address, std::vector<bool>(head->count)};
  for (size_t i = 0; i < head->count; ++i) r.values[i] = (Byte(head->data, i / 8) >> (i % 8)) & 1;
  return r;
}

std::string EncodeWriteCoilsResponse(uint16_t address, uint16_t count) {
  return EncodeAddressCountPdu(kWriteMultipleCoils, address, count);
}

Status CheckWriteCoilsResponse(std::string_view pdu, const WriteCoilsRequest& request) {
  if (Status s = CheckResponseFunction(pdu, kWriteMultipleCoils); !s.ok()) return s;
  if (pdu !=
      EncodeWriteCoilsResponse(request.address, static_cast<uint16_t>(request.values.size()))) {
    return InvalidArgument("write-multiple-coils response does not match the request");
  }
  return Status::Ok();
}

}  // namespace wattline::modbus
