// Modbus application protocol: PDUs for function codes 03/04 (read holding/input registers),
// 06 (write single register) and 16 (write multiple registers), exception responses, and the
// MBAP header that frames a PDU on TCP. Pure functions, no I/O.
//
// Byte buffers are std::string / std::string_view (one char per byte). Every decoder validates
// lengths and byte counts: malformed input returns kInvalidArgument, never asserts or reads out
// of bounds. Exception responses map to the Status returned by ExceptionStatus().
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace wattline::modbus {

// Function codes (part of the Modbus protocol).
inline constexpr uint8_t kReadHoldingRegisters = 0x03;
inline constexpr uint8_t kReadInputRegisters = 0x04;
inline constexpr uint8_t kWriteSingleRegister = 0x06;
inline constexpr uint8_t kWriteMultipleRegisters = 0x10;
inline constexpr uint8_t kReadCoils = 0x01;
inline constexpr uint8_t kReadDiscreteInputs = 0x02;
inline constexpr uint8_t kWriteSingleCoil = 0x05;
inline constexpr uint8_t kWriteMultipleCoils = 0x0F;
inline constexpr uint8_t kReadWriteMultipleRegisters = 0x17;
inline constexpr uint8_t kEncapsulatedInterface = 0x2B;  // MEI type 0x0E: device identification
inline constexpr uint8_t kExceptionFlag = 0x80;

// Protocol limits: a read answers at most 125 registers, a write carries at most 123.
inline constexpr uint16_t kMaxReadRegisters = 125;
inline constexpr uint16_t kMaxWriteRegisters = 123;

enum class ExceptionCode : uint8_t {
  kIllegalFunction = 0x01,
  kIllegalDataAddress = 0x02,
  kIllegalDataValue = 0x03,
  kServerDeviceFailure = 0x04,
  kAcknowledge = 0x05,
  kServerDeviceBusy = 0x06,
  kGatewayPathUnavailable = 0x0A,
  kGatewayTargetFailed = 0x0B,
};

// The Status for exception `code` in a response to `function`. The message names the code
// ("modbus exception 02 (illegal data address) for function 03").
//   01 illegal function             -> kFailedPrecondition (the device lacks the function)
//   02 illegal data address         -> kInvalidArgument
//   03 illegal data value           -> kInvalidArgument
//   04 server failure, 05 ack, 06 busy, 0A/0B gateway -> kUnavailable (retry with backoff)
//   anything else                   -> kInvalidArgument
Status ExceptionStatus(uint8_t function, uint8_t code);

// The exception code of an exception response PDU (function | 0x80, code), or 0 when `pdu` is
// not a well-formed exception response.
uint8_t ExceptionCodeOf(std::string_view pdu);

// Common start of every response decoder: empty PDU, an exception response to `function`
// (-> ExceptionStatus) or another function code (kInvalidArgument) are errors; Ok otherwise.
Status CheckResponseFunction(std::string_view pdu, uint8_t function);

// --- Read holding/input registers (03/04) ---

struct ReadRequest {
  uint8_t function = kReadHoldingRegisters;  // 03 or 04
  uint16_t address = 0;                      // protocol (0-based) address
  uint16_t count = 0;                        // 1..125
};

// kInvalidArgument when the function is not 03/04, count is 0 or above 125, or the range runs
// past address 65535.
Result<std::string> EncodeReadRequest(const ReadRequest& request);
// Decodes a request PDU (server side); same validation as EncodeReadRequest.
Result<ReadRequest> DecodeReadRequest(std::string_view pdu);
// REQUIRES: registers.size() <= 125.
std::string EncodeReadResponse(uint8_t function, std::span<const uint16_t> registers);
// Decodes a response to `request`. An exception response returns ExceptionStatus(); a different
// function code, a truncated PDU, or a byte count that is odd, disagrees with the PDU length or
// with request.count returns kInvalidArgument.
Result<std::vector<uint16_t>> DecodeReadResponse(std::string_view pdu, const ReadRequest& request);

// --- Write single register (06) ---

struct WriteSingleRequest {
  uint16_t address = 0;
  uint16_t value = 0;
};
std::string EncodeWriteSingleRequest(const WriteSingleRequest& request);
Result<WriteSingleRequest> DecodeWriteSingleRequest(std::string_view pdu);
// The normal response echoes the request; anything else is an error.
Status CheckWriteSingleResponse(std::string_view pdu, const WriteSingleRequest& request);

// --- Write multiple registers (16) ---

struct WriteMultipleRequest {
  uint16_t address = 0;
  std::vector<uint16_t> values;  // 1..123
};
Result<std::string> EncodeWriteMultipleRequest(const WriteMultipleRequest& request);
Result<WriteMultipleRequest> DecodeWriteMultipleRequest(std::string_view pdu);
// Response: function, address, count.
// The PDU `function, address, count` that answers a multiple write (16, 15).
std::string EncodeAddressCountPdu(uint8_t function, uint16_t address, uint16_t count);
std::string EncodeWriteMultipleResponse(uint16_t address, uint16_t count);
Status CheckWriteMultipleResponse(std::string_view pdu, const WriteMultipleRequest& request);

// --- Exception responses ---

// The two-byte exception PDU: function | 0x80, code.
std::string EncodeException(uint8_t function, ExceptionCode code);

// --- MBAP header (Modbus TCP framing) ---

// Bytes 0-1 transaction id, 2-3 protocol id (0), 4-5 length (unit id + PDU), 6 unit id.
inline constexpr size_t kMbapHeaderSize = 7;
// A PDU is at most 253 bytes, so length is at most 254; at least a function code: length >= 2.
inline constexpr uint16_t kMinMbapLength = 2;
inline constexpr uint16_t kMaxMbapLength = 254;

struct MbapHeader {
  uint16_t transaction_id = 0;
  uint16_t protocol_id = 0;
  uint16_t length = 0;  // bytes after the length field: unit id + PDU
  uint8_t unit_id = 0;

  // Bytes of PDU that follow the header.
  size_t pdu_size() const { return length - 1u; }
};

// A complete ADU: header + pdu. REQUIRES: 1 <= pdu.size() <= 253.
std::string EncodeFrame(uint16_t transaction_id, uint8_t unit_id, std::string_view pdu);
// Parses the first 7 bytes of `bytes`. kInvalidArgument when fewer than 7 bytes are given, the
// protocol id is not 0 or the length is outside 2..254.
Result<MbapHeader> ParseMbapHeader(std::string_view bytes);

}  // namespace wattline::modbus
