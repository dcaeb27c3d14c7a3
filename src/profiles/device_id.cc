#include "profiles/device_id.h"

#include <algorithm>

namespace wattline::profiles {

bool MatchesDeviceId(const Profile& profile, const std::vector<modbus::DeviceIdObject>& objects) {
  if (profile.device_id_rules.empty()) return false;
  return std::all_of(
      profile.device_id_rules.begin(), profile.device_id_rules.end(), [&](const auto& rule) {
        auto it = std::find_if(objects.begin(), objects.end(),
                               [&](const auto& o) { return o.id == rule.object_id; });
        if (it == objects.end()) return false;
        return rule.prefix ? it->value.starts_with(rule.text) : it->value == rule.text;
      });
}

bool RegisterRuleHolds(const RegisterRule& rule, std::span<const uint16_t> regs) {
  auto v = modbus::DecodeAsDouble(regs, rule.type, rule.word_order);
  // NaN fails both comparisons.
  return v.has_value() && *v >= rule.min && *v <= rule.max;
}

}  // namespace wattline::profiles
