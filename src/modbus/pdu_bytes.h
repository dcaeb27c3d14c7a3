// Byte access shared by the PDU codecs of the function codes (pdu.cc, bit_access.cc,
// read_write_registers.cc, device_identification.cc). Internal to the modbus library.
// Modbus is big-endian on the wire: a 16-bit field is high byte first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace wattline::modbus::pdu_bytes {

inline uint8_t Byte(std::string_view b, size_t i) { return static_cast<uint8_t>(b[i]); }
inline uint16_t U16(std::string_view b, size_t i) {
  return static_cast<uint16_t>((Byte(b, i) << 8) | Byte(b, i + 1));
}
inline void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}

// The common head of a write-multiple request (FC15 coils, FC16 registers):
// function, address, count, byte count, then `data` of exactly byte count bytes.
struct WriteMultipleHead {
  uint16_t address = 0;
  uint16_t count = 0;
  std::string_view data;
};

// Parses that head for `function` ("write-multiple-coils" etc. in `what` for the messages):
// count in 1..max_count, byte count equal to `bytes_per_count` x count rounded up to whole bytes
// given in eighths (coils: 1/8 byte each, registers: 16/8), the PDU exactly that long, and the
// range within 0..65535. kInvalidArgument otherwise.
Result<WriteMultipleHead> ParseWriteMultipleHead(std::string_view pdu, uint8_t function,
                                                 uint16_t max_count, unsigned eighths_per_item,
                                                 std::string_view what);

}  // namespace wattline::modbus::pdu_bytes
