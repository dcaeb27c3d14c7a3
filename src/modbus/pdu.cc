#include "modbus/pdu.h"

#include <fmt/format.h>

#include "modbus/pdu_bytes.h"

namespace wattline::modbus {
namespace {

using pdu_bytes::Byte;
using pdu_bytes::PutU16;
using pdu_bytes::U16;

std::string_view ExceptionName(uint8_t code) {
  switch (code) {
    case 0x01:
      return "illegal function";
    case 0x02:
      return "illegal data address";
    case 0x03:
      return "illegal data value";
    case 0x04:
      return "server device failure";
    case 0x05:
      return "acknowledge";
    case 0x06:
      return "server device busy";
    case 0x0A:
      return "gateway path unavailable";
    case 0x0B:
      return "gateway target device failed to respond";
    default:
      return "unknown exception code";
  }
}

Status ValidateRead(uint8_t function, uint16_t address, uint16_t count) {
  if (function != kReadHoldingRegisters && function != kReadInputRegisters) {
    return InvalidArgument(fmt::format("function {:02X} is not a register read", function));
  }
  if (count == 0 || count > kMaxReadRegisters) {
    return InvalidArgument(
        fmt::format("register count {} outside 1..{}", count, kMaxReadRegisters));
  }
  if (uint32_t{address} + count > 0x10000) {
    return InvalidArgument(
        fmt::format("read of {} registers at {} runs past 65535", count, address));
  }
  return Status::Ok();
}

// Common start of every response decoder: an exception response becomes its Status, any other
// function code than the request's is garbage.

}  // namespace

Status CheckResponseFunction(std::string_view pdu, uint8_t function) {
  if (pdu.empty()) return InvalidArgument("empty response PDU");
  uint8_t fc = Byte(pdu, 0);
  if (fc == (function | kExceptionFlag)) {
    if (pdu.size() != 2) {
      return InvalidArgument(fmt::format("exception response of {} bytes, expected 2", pdu.size()));
    }
    return ExceptionStatus(function, Byte(pdu, 1));
  }
  if (fc != function) {
    return InvalidArgument(fmt::format(
        "response function {:02X} does not match request function {:02X}", fc, function));
  }
  return Status::Ok();
}

uint8_t ExceptionCodeOf(std::string_view pdu) {
  if (pdu.size() != 2 || (Byte(pdu, 0) & kExceptionFlag) == 0) return 0;
  return Byte(pdu, 1);
}

Status ExceptionStatus(uint8_t function, uint8_t code) {
  std::string msg = fmt::format("modbus exception {:02X} ({}) for function {:02X}", code,
                                ExceptionName(code), function);
  switch (code) {
    case 0x01:
      return FailedPrecondition(std::move(msg));
    case 0x02:
    case 0x03:
      return InvalidArgument(std::move(msg));
    case 0x04:
    case 0x05:
    case 0x06:
    case 0x0A:
    case 0x0B:
      return Unavailable(std::move(msg));
    default:
      return InvalidArgument(std::move(msg));
  }
}

Result<std::string> EncodeReadRequest(const ReadRequest& r) {
  if (Status s = ValidateRead(r.function, r.address, r.count); !s.ok()) return Fail(s);
  std::string out;
  out.push_back(static_cast<char>(r.function));
  PutU16(out, r.address);
  PutU16(out, r.count);
  return out;
}

Result<ReadRequest> DecodeReadRequest(std::string_view pdu) {
  if (pdu.size() != 5) {
    return Fail(InvalidArgument(fmt::format("read request of {} bytes, expected 5", pdu.size())));
  }
  ReadRequest r{Byte(pdu, 0), U16(pdu, 1), U16(pdu, 3)};
  if (Status s = ValidateRead(r.function, r.address, r.count); !s.ok()) return Fail(s);
  return r;
}

std::string EncodeReadResponse(uint8_t function, std::span<const uint16_t> registers) {
  std::string out;
  out.reserve(2 + 2 * registers.size());
  out.push_back(static_cast<char>(function));
  out.push_back(static_cast<char>(2 * registers.size()));
  for (uint16_t r : registers) PutU16(out, r);
  return out;
}

Result<std::vector<uint16_t>> DecodeReadResponse(std::string_view pdu, const ReadRequest& request) {
  if (Status s = CheckResponseFunction(pdu, request.function); !s.ok()) return Fail(s);
  if (pdu.size() < 2) return Fail(InvalidArgument("read response truncated before byte count"));
  size_t byte_count = Byte(pdu, 1);
  if (byte_count != pdu.size() - 2) {
    return Fail(InvalidArgument(
        fmt::format("read response byte count {} but {} data bytes", byte_count, pdu.size() - 2)));
  }
  if (byte_count % 2 != 0) {
    return Fail(InvalidArgument(fmt::format("read response byte count {} is odd", byte_count)));
  }
  if (byte_count != 2u * request.count) {
    return Fail(InvalidArgument(fmt::format("read response has {} registers, requested {}",
                                            byte_count / 2, request.count)));
  }
  std::vector<uint16_t> regs(byte_count / 2);
  for (size_t i = 0; i < regs.size(); ++i) regs[i] = U16(pdu, 2 + 2 * i);
  return regs;
}

std::string EncodeWriteSingleRequest(const WriteSingleRequest& r) {
  std::string out;
  out.push_back(static_cast<char>(kWriteSingleRegister));
  PutU16(out, r.address);
  PutU16(out, r.value);
  return out;
}

Result<WriteSingleRequest> DecodeWriteSingleRequest(std::string_view pdu) {
  if (pdu.size() != 5 || Byte(pdu, 0) != kWriteSingleRegister) {
    return Fail(InvalidArgument("malformed write-single-register request"));
  }
  return WriteSingleRequest{U16(pdu, 1), U16(pdu, 3)};
}

Status CheckWriteSingleResponse(std::string_view pdu, const WriteSingleRequest& request) {
  if (Status s = CheckResponseFunction(pdu, kWriteSingleRegister); !s.ok()) return s;
  if (pdu != EncodeWriteSingleRequest(request)) {
    return InvalidArgument("write-single-register response does not echo the request");
  }
  return Status::Ok();
}

Result<std::string> EncodeWriteMultipleRequest(const WriteMultipleRequest& r) {
  if (r.values.empty() || r.values.size() > kMaxWriteRegisters ||
      r.address + r.values.size() > 0x10000) {
    return Fail(InvalidArgument(
        fmt::format("cannot write {} registers at {}", r.values.size(), r.address)));
  }
  std::string out;
  out.push_back(static_cast<char>(kWriteMultipleRegisters));
  PutU16(out, r.address);
  PutU16(out, static_cast<uint16_t>(r.values.size()));
  out.push_back(static_cast<char>(2 * r.values.size()));
  for (uint16_t v : r.values) PutU16(out, v);
  return out;
}

namespace pdu_bytes {

Result<WriteMultipleHead> ParseWriteMultipleHead(std::string_view pdu, uint8_t function,
                                                 uint16_t max_count, unsigned eighths_per_item,
                                                 std::string_view what) {
  if (pdu.size() < 6 || Byte(pdu, 0) != function) {
    return Fail(InvalidArgument(fmt::format("malformed {} request", what)));
  }
  WriteMultipleHead head{U16(pdu, 1), U16(pdu, 3), pdu.substr(6)};
  size_t byte_count = Byte(pdu, 5);
  if (head.count == 0 || head.count > max_count ||
      byte_count != (size_t{head.count} * eighths_per_item + 7) / 8 ||
      head.data.size() != byte_count) {
    return Fail(InvalidArgument(fmt::format("{} request with inconsistent counts", what)));
  }
  if (uint32_t{head.address} + head.count > 0x10000) {
    return Fail(InvalidArgument(fmt::format("{} request runs past 65535", what)));
  }
  return head;
}

}  // namespace pdu_bytes

Result<WriteMultipleRequest> DecodeWriteMultipleRequest(std::string_view pdu) {
  auto head = pdu_bytes::ParseWriteMultipleHead(pdu, kWriteMultipleRegisters, kMaxWriteRegisters,
                                                16, "write-multiple-registers");
  if (!head) return Fail(head.error());
  WriteMultipleRequest r{head->address, std::vector<uint16_t>(head->count)};
  for (size_t i = 0; i < head->count; ++i) r.values[i] = U16(head->data, 2 * i);
  return r;
}

std::string EncodeAddressCountPdu(uint8_t function, uint16_t address, uint16_t count) {
  std::string out;
  out.push_back(static_cast<char>(function));
  PutU16(out, address);
  PutU16(out, count);
  return out;
}

std::string EncodeWriteMultipleResponse(uint16_t address, uint16_t count) {
  return EncodeAddressCountPdu(kWriteMultipleRegisters, address, count);
}

Status CheckWriteMultipleResponse(std::string_view pdu, const WriteMultipleRequest& request) {
  if (Status s = CheckResponseFunction(pdu, kWriteMultipleRegisters); !s.ok()) return s;
  if (pdu !=
      EncodeWriteMultipleResponse(request.address, static_cast<uint16_t>(request.values.size()))) {
    return InvalidArgument("write-multiple-registers response does not match the request");
  }
  return Status::Ok();
}

std::string EncodeException(uint8_t function, ExceptionCode code) {
  std::string out;
  out.push_back(static_cast<char>(function | kExceptionFlag));
  out.push_back(static_cast<char>(code));
  return out;
}

std::string EncodeFrame(uint16_t transaction_id, uint8_t unit_id, std::string_view pdu) {
  std::string out;
  out.reserve(kMbapHeaderSize + pdu.size());
  PutU16(out, transaction_id);
  PutU16(out, 0);
  PutU16(out, static_cast<uint16_t>(pdu.size() + 1));
  out.push_back(static_cast<char>(unit_id));
  out.append(pdu);
  return out;
}

Result<MbapHeader> ParseMbapHeader(std::string_view bytes) {
  if (bytes.size() < kMbapHeaderSize) {
    return Fail(InvalidArgument(fmt::format("MBAP header truncated: {} of 7 bytes", bytes.size())));
  }
  MbapHeader h{U16(bytes, 0), U16(bytes, 2), U16(bytes, 4), Byte(bytes, 6)};
  if (h.protocol_id != 0) {
    return Fail(
        InvalidArgument(fmt::format("MBAP protocol id {} is not 0 (Modbus)", h.protocol_id)));
  }
  if (h.length < kMinMbapLength || h.length > kMaxMbapLength) {
    return Fail(InvalidArgument(
        fmt::format("MBAP length {} outside {}..{}", h.length, kMinMbapLength, kMaxMbapLength)));
  }
  return h;
}

}  // namespace wattline::modbus
