// PDUs for single-bit data: 01 read coils, 02 read discrete inputs, 05 write single coil,
// 15 write multiple coils. Pure functions; every decoder returns kInvalidArgument on malformed
// input and ExceptionStatus() for an exception response.
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "modbus/pdu.h"

namespace wattline::modbus {

// Protocol limits: a read answers at most 2000 bits, a write carries at most 1968.
inline constexpr uint16_t kMaxReadBits = 2000;
inline constexpr uint16_t kMaxWriteBits = 1968;

struct ReadBitsRequest {
  uint8_t function = kReadCoils;  // 01 or 02
  uint16_t address = 0;
  uint16_t count = 0;  // 1..2000
};

// kInvalidArgument for another function, count 0 or above 2000, or a range past 65535.
Result<std::string> EncodeReadBitsRequest(const ReadBitsRequest& request);
Result<ReadBitsRequest> DecodeReadBitsRequest(std::string_view pdu);
// REQUIRES: 1 <= bits.size() <= 2000. Bits are packed LSB first.
std::string EncodeReadBitsResponse(uint8_t function, const std::vector<bool>& bits);
// Exactly request.count bits. kInvalidArgument when the byte count disagrees with the PDU length
// or with ceil(request.count / 8).
Result<std::vector<bool>> DecodeReadBitsResponse(std::string_view pdu,
                                                 const ReadBitsRequest& request);

struct WriteCoilRequest {
  uint16_t address = 0;
  bool value = false;
};
// On the wire ON is FF00, OFF is 0000; other values are malformed.
std::string EncodeWriteCoilRequest(const WriteCoilRequest& request);
Result<WriteCoilRequest> DecodeWriteCoilRequest(std::string_view pdu);
// The normal response echoes the request.
Status CheckWriteCoilResponse(std::string_view pdu, const WriteCoilRequest& request);

struct WriteCoilsRequest {
  uint16_t address = 0;
  std::vector<bool> values;  // 1..1968
};
Result<std::string> EncodeWriteCoilsRequest(const WriteCoilsRequest& request);
Result<WriteCoilsRequest> DecodeWriteCoilsRequest(std::string_view pdu);
// Response: function, address, count.
std::string EncodeWriteCoilsResponse(uint16_t address, uint16_t count);
Status CheckWriteCoilsResponse(std::string_view pdu, const WriteCoilsRequest& request);

}  // namespace wattline::modbus
