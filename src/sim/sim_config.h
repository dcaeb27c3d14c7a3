// SimConfig: the simulator's gateways and faults from its TOML config file (`[[gateway]]` and
// `[[fault]]` tables; the format is in docs/modbus.md, "Simulator configuration").
// Thread-safety: pure functions.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

#include "core/status.h"
#include "profiles/profile_registry.h"
#include "sim/fleet.h"

namespace wattline::sim {

struct SimConfig {
  std::vector<GatewaySpec> gateways;
  std::vector<MeterFault> faults;
};

// Parses the `[[gateway]]` and `[[fault]]` tables of `config` (other keys are left to Options).
// Meter types are checked against `profiles` (nullptr: only janitza-umg96rm-e). Returns
// kInvalidArgument naming the table and key for an unknown key, a value of the wrong type or
// range (a rate outside 0..1, a baud rate of 0, an exception other than 2, 4, 6 or 0x0B, a
// clock_offset_s beyond ten years), an unknown meter type or a gateway without meters. Meter
// keys of faults are checked by Fleet.
Result<SimConfig> ParseSimConfig(const toml::table& config,
                                 const profiles::ProfileRegistry* profiles);

// Only the `[[fault]]` tables, as ParseSimConfig checks them (for reloading at run time).
Result<std::vector<MeterFault>> ParseFaults(const toml::table& config);

// Reads `path` and parses its `[[fault]]` tables. kInvalidArgument for an unreadable file or a
// TOML syntax error (with its line), or as ParseFaults.
Result<std::vector<MeterFault>> LoadFaults(const std::string& path);

}  // namespace wattline::sim
