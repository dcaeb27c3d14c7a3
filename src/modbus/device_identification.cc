#include "modbus/device_identification.h"

#include <fmt/format.h>

#include "modbus/pdu.h"
#include "modbus/pdu_bytes.h"

namespace wattline::modbus {
namespace {

using pdu_bytes::Byte;

constexpr size_t kMaxPdu = 253;
constexpr size_t kResponseHeader = 7;  // fc mei code conformity more next count

}  // namespace

std::string EncodeDeviceIdRequest(const DeviceIdRequest& r) {
  std::string out;
  out.push_back(static_cast<char>(kEncapsulatedInterface));
  out.push_back(static_cast<char>(kMeiReadDeviceId));
  out.push_back(static_cast<char>(r.code));
  out.push_back(static_cast<char>(r.object_id));
  return out;
}

Result<DeviceIdRequest> DecodeDeviceIdRequest(std::string_view pdu) {
  if (pdu.size() != 4 || Byte(pdu, 0) != kEncapsulatedInterface) {
    return Fail(InvalidArgument("malformed read-device-identification request"));
  }
  if (Byte(pdu, 1) != kMeiReadDeviceId) {
    return Fail(InvalidArgument(fmt::format("MEI type {:02X} is not 0E", Byte(pdu, 1))));
  }
  uint8_t code = Byte(pdu, 2);
  if (code < 1 || code > 4) {
    return Fail(InvalidArgument(fmt::format("device id read code {} outside 1..4", code)));
  }
  return DeviceIdRequest{static_cast<DeviceIdCode>(code), Byte(pdu, 3)};
}

Result<std::string> EncodeDeviceIdResponse(const DeviceIdResponse& r) {
  std::string out;
  out.push_back(static_cast<char>(kEncapsulatedInterface));
  out.push_back(static_cast<char>(kMeiReadDeviceId));
  out.push_back(static_cast<char>(r.code));
  out.push_back(static_cast<char>(r.conformity));
  out.push_back(static_cast<char>(r.more_follows ? 0xFF : 0x00));
  out.push_back(static_cast<char>(r.more_follows ? r.next_object_id : 0));
  if (r.objects.size() > 255) return Fail(InvalidArgument("more than 255 objects"));
  out.push_back(static_cast<char>(r.objects.size()));
  for (const auto& o : r.objects) {
    if (o.value.size() > 255) {
      return Fail(
          InvalidArgument(fmt::format("object {} value of {} bytes", o.id, o.value.size())));
    }
    out.push_back(static_cast<char>(o.id));
    out.push_back(static_cast<char>(o.value.size()));
    out.append(o.value);
  }
  if (out.size() > kMaxPdu) {
    return Fail(
        InvalidArgument(fmt::format("device id response of {} bytes exceeds 253", out.size())));
  }
  return out;
}

Result<DeviceIdResponse> DecodeDeviceIdResponse(std::string_view pdu) {
  if (Status s = CheckResponseFunction(pdu, kEncapsulatedInterface); !s.ok()) return Fail(s);
  if (pdu.size() < kResponseHeader) {
    return Fail(
        InvalidArgument(fmt::format("device id response of {} bytes, header needs 7", pdu.size())));
  }
  if (Byte(pdu, 1) != kMeiReadDeviceId) {
    return Fail(InvalidArgument(fmt::format("MEI type {:02X} is not 0E", Byte(pdu, 1))));
  }
  uint8_t code = Byte(pdu, 2);
  if (code < 1 || code > 4) {
    return Fail(InvalidArgument(fmt::format("device id read code {} outside 1..4", code)));
  }
  uint8_t more = Byte(pdu, 4);
  if (more != 0x00 && more != 0xFF) {
    return Fail(
        InvalidArgument(fmt::format("more-follows byte {:02X} is neither 00 nor FF", more)));
  }
  DeviceIdResponse r{static_cast<DeviceIdCode>(code), Byte(pdu, 3), more == 0xFF, Byte(pdu, 5), {}};
  size_t count = Byte(pdu, 6);
  size_t pos = kResponseHeader;
  for (size_t i = 0; i < count; ++i) {
    if (pos + 2 > pdu.size()) {
      return Fail(
          InvalidArgument(fmt::format("device id object {} of {} truncated", i + 1, count)));
    }
    uint8_t id = Byte(pdu, pos);
    size_t len = Byte(pdu, pos + 1);
    if (pos + 2 + len > pdu.size()) {
      return Fail(InvalidArgument(fmt::format("device id object {:02X} claims {} bytes, {} left",
                                              id, len, pdu.size() - pos - 2)));
    }
    r.objects.push_back({id, std::string(pdu.substr(pos + 2, len))});
    pos += 2 + len;
  }
  if (pos != pdu.size()) {
    return Fail(
        InvalidArgument(fmt::format("{} bytes after the last device id object", pdu.size() - pos)));
  }
  return r;
}

}  // namespace wattline::modbus
