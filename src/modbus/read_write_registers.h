// PDU for function 23 (read/write multiple registers): writes `write_values` at
// `write_address`, then reads `read_count` registers at `read_address`, in one transaction.
// Pure functions; decoders return kInvalidArgument on malformed input.
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace wattline::modbus {

// Protocol limits for function 23.
inline constexpr uint16_t kMaxReadWriteReadRegisters = 125;
inline constexpr uint16_t kMaxReadWriteWriteRegisters = 121;

struct ReadWriteRequest {
  uint16_t read_address = 0;
  uint16_t read_count = 0;  // 1..125
  uint16_t write_address = 0;
  std::vector<uint16_t> write_values;  // 1..121
};

// kInvalidArgument for counts out of range or a range past 65535.
Result<std::string> EncodeReadWriteRequest(const ReadWriteRequest& request);
Result<ReadWriteRequest> DecodeReadWriteRequest(std::string_view pdu);
// REQUIRES: registers.size() <= 125.
std::string EncodeReadWriteResponse(const std::vector<uint16_t>& registers);
// Exactly request.read_count registers; exception -> ExceptionStatus(); byte count mismatches
// -> kInvalidArgument.
Result<std::vector<uint16_t>> DecodeReadWriteResponse(std::string_view pdu,
                                                      const ReadWriteRequest& request);

}  // namespace wattline::modbus
