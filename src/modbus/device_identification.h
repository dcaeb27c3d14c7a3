// PDUs for function 43 / MEI 14 (read device identification): vendor name (object 0), product
// code (1), revision (2), and further regular/extended objects. A response carries as many
// objects as fit; `more_follows` and `next_object_id` tell the client where to continue.
// Pure functions; decoders return kInvalidArgument on malformed input.
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace wattline::modbus {

inline constexpr uint8_t kMeiReadDeviceId = 0x0E;

enum class DeviceIdCode : uint8_t {
  kBasic = 1,     // objects 0..2, stream access
  kRegular = 2,   // objects 0..0x7F, stream access
  kExtended = 3,  // objects 0..0xFF, stream access
  kSpecific = 4,  // one object
};

struct DeviceIdRequest {
  DeviceIdCode code = DeviceIdCode::kBasic;
  uint8_t object_id = 0;  // first object to return
};

struct DeviceIdObject {
  uint8_t id = 0;
  std::string value;  // at most 255 bytes
};

struct DeviceIdResponse {
  DeviceIdCode code = DeviceIdCode::kBasic;
  uint8_t conformity = 0x01;
  bool more_follows = false;
  uint8_t next_object_id = 0;  // meaningful when more_follows
  std::vector<DeviceIdObject> objects;
};

std::string EncodeDeviceIdRequest(const DeviceIdRequest& request);
// kInvalidArgument for a wrong length, MEI type or read code outside 1..4.
Result<DeviceIdRequest> DecodeDeviceIdRequest(std::string_view pdu);
// kInvalidArgument when an object value exceeds 255 bytes or the PDU would exceed 253 bytes.
Result<std::string> EncodeDeviceIdResponse(const DeviceIdResponse& response);
// Exception -> ExceptionStatus(); kInvalidArgument for a truncated header or object, a bad
// MEI type, a more-follows byte other than 00/FF, or bytes after the last object.
Result<DeviceIdResponse> DecodeDeviceIdResponse(std::string_view pdu);

}  // namespace wattline::modbus
