#include "modbus/rtu.h"

#include <fmt/format.h>

#include "modbus/pdu.h"

namespace wattline::modbus {
namespace {

uint8_t Byte(std::string_view b, size_t i) { return static_cast<uint8_t>(b[i]); }

Result<size_t> Checked(size_t total) {
  if (total > kMaxRtuFrameSize) {
    return Fail(InvalidArgument(fmt::format("RTU frame of {} bytes exceeds 256", total)));
  }
  return total;
}

// Device identification response: unit fc mei read_code conformity more next count, then
// `count` objects of (id, length, value), then CRC. Walks as far as the prefix allows.
Result<size_t> DeviceIdLength(std::string_view prefix) {
  constexpr size_t kHeader = 8;
  if (prefix.size() < kHeader) return size_t{0};
  if (Byte(prefix, 2) != 0x0E) {
    return Fail(InvalidArgument(fmt::format("MEI type {:02X} is not 0E", Byte(prefix, 2))));
  }
  size_t objects = Byte(prefix, 7);
  size_t pos = kHeader;
  for (size_t i = 0; i < objects; ++i) {
    if (pos + 2 > kMaxRtuFrameSize) return Checked(pos + 2);
    if (prefix.size() < pos + 2) return size_t{0};
    pos += 2 + Byte(prefix, pos + 1);
  }
  return Checked(pos + 2);
}

}  // namespace

uint16_t Crc16(std::string_view bytes) {
  uint16_t crc = 0xFFFF;
  for (char c : bytes) {
    crc ^= static_cast<uint8_t>(c);
    for (int i = 0; i < 8; ++i)
      crc = (crc & 1) ? static_cast<uint16_t>((crc >> 1) ^ 0xA001) : crc >> 1;
  }
  return crc;
}

std::string EncodeRtuFrame(uint8_t unit, std::string_view pdu) {
  std::string out;
  out.reserve(pdu.size() + kRtuOverhead);
  out.push_back(static_cast<char>(unit));
  out.append(pdu);
  uint16_t crc = Crc16(out);
  out.push_back(static_cast<char>(crc & 0xFF));
  out.push_back(static_cast<char>(crc >> 8));
  return out;
}

Result<RtuFrame> DecodeRtuFrame(std::string_view adu) {
  if (adu.size() < 4) {
    return Fail(
        InvalidArgument(fmt::format("RTU frame of {} bytes, at least 4 needed", adu.size())));
  }
  if (adu.size() > kMaxRtuFrameSize) {
    return Fail(InvalidArgument(fmt::format("RTU frame of {} bytes exceeds 256", adu.size())));
  }
  uint16_t want = Crc16(adu.substr(0, adu.size() - 2));
  uint16_t got =
      static_cast<uint16_t>(Byte(adu, adu.size() - 2) | (Byte(adu, adu.size() - 1) << 8));
  if (want != got) {
    return Fail(InvalidArgument(
        fmt::format("RTU CRC mismatch: frame says {:04X}, computed {:04X}", got, want)));
  }
  return RtuFrame{Byte(adu, 0), std::string(adu.substr(1, adu.size() - 3))};
}

Result<size_t> RtuResponseLength(std::string_view prefix, uint8_t request_function) {
  if (prefix.size() < 2) return size_t{0};
  uint8_t fc = Byte(prefix, 1);
  if (fc == (request_function | kExceptionFlag)) return kRtuExceptionFrameSize;
  if (fc != request_function) {
    return Fail(InvalidArgument(fmt::format(
        "response function {:02X} does not match request function {:02X}", fc, request_function)));
  }
  switch (fc) {
    case kReadCoils:
    case kReadDiscreteInputs:
    case kReadHoldingRegisters:
    case kReadInputRegisters:
    case kReadWriteMultipleRegisters:
      if (prefix.size() < 3) return size_t{0};
      return Checked(3u + Byte(prefix, 2) + 2u);
    case kWriteSingleCoil:
    case kWriteSingleRegister:
    case kWriteMultipleCoils:
    case kWriteMultipleRegisters:
      return size_t{8};
    case kEncapsulatedInterface:
      return DeviceIdLength(prefix);
    default:
      return Fail(InvalidArgument(fmt::format("no RTU length rule for function {:02X}", fc)));
  }
}

Result<size_t> RtuRequestLength(std::string_view prefix) {
  if (prefix.size() < 2) return size_t{0};
  uint8_t fc = Byte(prefix, 1);
  switch (fc) {
    case kReadCoils:
    case kReadDiscreteInputs:
    case kReadHoldingRegisters:
    case kReadInputRegisters:
    case kWriteSingleCoil:
    case kWriteSingleRegister:
      return size_t{8};
    case kWriteMultipleCoils:
    case kWriteMultipleRegisters:
      // unit fc addr(2) count(2) byte_count data crc(2)
      if (prefix.size() < 7) return size_t{0};
      return Checked(7u + Byte(prefix, 6) + 2u);
    case kReadWriteMultipleRegisters:
      // unit fc raddr(2) rcount(2) waddr(2) wcount(2) byte_count data crc(2)
      if (prefix.size() < 11) return size_t{0};
      return Checked(11u + Byte(prefix, 10) + 2u);
    case kEncapsulatedInterface:
      return size_t{7};
    default:
      return Fail(InvalidArgument(fmt::format("no RTU length rule for function {:02X}", fc)));
  }
}

uint32_t RtuSilentIntervalUs(uint32_t baud, uint32_t bits_per_char) {
  if (baud > 19200) return 1750;
  return static_cast<uint32_t>((uint64_t{bits_per_char} * 3'500'000 + baud / 2) / baud);
}

uint32_t RtuWireTimeUs(size_t bytes, uint32_t baud, uint32_t bits_per_char) {
  return static_cast<uint32_t>((uint64_t{bytes} * bits_per_char * 1'000'000 + baud - 1) / baud);
}

}  // namespace wattline::modbus
