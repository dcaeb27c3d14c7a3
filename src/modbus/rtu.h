// Modbus RTU framing: ADU = unit id | PDU | CRC-16/MODBUS (low byte first). Pure functions.
//
// A serial line (or an RTU-over-TCP gateway) carries no length field, so a reader must know from
// the first bytes of a frame how long it is: RtuResponseLength / RtuRequestLength compute the
// total ADU length from a prefix, per function code (03/04/01/02/23 from the byte count, fixed
// lengths for 05/06/15/16, 5 bytes for an exception, object walk for 43/14).
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace wattline::modbus {

// Part of the protocol: unit id (1) + CRC (2) around the PDU; an ADU is at most 256 bytes.
inline constexpr size_t kRtuOverhead = 3;
inline constexpr size_t kMaxRtuFrameSize = 256;
inline constexpr size_t kRtuExceptionFrameSize = 5;

// CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF) of `bytes`.
uint16_t Crc16(std::string_view bytes);

// unit | pdu | crc lo | crc hi. REQUIRES: 1 <= pdu.size() <= 253.
std::string EncodeRtuFrame(uint8_t unit, std::string_view pdu);

struct RtuFrame {
  uint8_t unit = 0;
  std::string pdu;
};

// Checks and splits a complete ADU. kInvalidArgument when shorter than 4 bytes, longer than 256,
// or the CRC does not match.
Result<RtuFrame> DecodeRtuFrame(std::string_view adu);

// Total ADU length (unit, PDU, CRC) of the response whose first bytes are `prefix`, to a request
// with function `request_function`; 0 when more bytes are needed to tell. kInvalidArgument
// when the function code is neither the request's nor its exception, when the function has no
// known length rule, or when the length would exceed 256 bytes.
Result<size_t> RtuResponseLength(std::string_view prefix, uint8_t request_function);

// Same for a request frame (server side): 01-06 are 8 bytes, 15/16/23 from their byte count,
// 43/14 is 7 bytes.
Result<size_t> RtuRequestLength(std::string_view prefix);

// The silent interval that delimits RTU frames: 3.5 character times at `baud` with
// `bits_per_char` bits per character (11: start, 8 data, parity or 2nd stop, stop), fixed at
// 1750 us above 19200 baud as the spec recommends. REQUIRES: baud > 0.
uint32_t RtuSilentIntervalUs(uint32_t baud, uint32_t bits_per_char = 11);

// Time on the wire of `bytes` characters at `baud`, in microseconds.
uint32_t RtuWireTimeUs(size_t bytes, uint32_t baud, uint32_t bits_per_char = 11);

}  // namespace wattline::modbus
