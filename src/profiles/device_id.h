// Recognising a meter by Modbus device identification (function 43 / MEI 14, codec in
// modbus/device_identification.h): the match of a profile's <identify> <device-id> rules against
// the objects a device reports. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "modbus/device_identification.h"
#include "profiles/profile.h"

namespace wattline::profiles {

// Basic objects: 0 vendor name, 1 product code, 2 major/minor revision.
inline constexpr uint8_t kObjectVendorName = 0;
inline constexpr uint8_t kObjectProductCode = 1;
inline constexpr uint8_t kObjectRevision = 2;

// True when every <device-id> rule of `profile` holds for `objects` (value equal, or starting
// with the rule's prefix); false when the profile has no such rule or an object is missing.
bool MatchesDeviceId(const Profile& profile, const std::vector<modbus::DeviceIdObject>& objects);

// True when `regs` (read from rule.function at rule.address, at least
// modbus::RegisterCount(rule.type) registers) decode, unscaled, to a value in [rule.min, rule.max].
// False for too few registers or NaN.
bool RegisterRuleHolds(const RegisterRule& rule, std::span<const uint16_t> regs);

}  // namespace wattline::profiles
