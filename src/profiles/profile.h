// Profile: the driver profile of one meter model, i.e. which Modbus registers hold which
// signal, in which type, word order and unit. Profiles are small XML files (docs/profiles.md):
//
//   <profile vendor="Janitza" model="UMG 96RM-E" max-registers="125" word-order="ABCD"
//            address-base="0" max-gap="16">
//     <signal name="voltage_l1_n" fc="3" address="19000" type="float32" unit="V"
//             kind="instant" scale="1"/>
//   </profile>
//
// Parsing is strict: unknown elements or attributes, missing required attributes, bad numbers
// and duplicate signal names are errors (kInvalidArgument) whose message names the source and
// the line ("janitza.xml:12: signal 'x': unknown type 'float'").
// Thread-safety: Profile is a value type; the functions are stateless.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/sample.h"
#include "core/status.h"
#include "modbus/register_decode.h"

namespace wattline::profiles {

struct SignalSpec {
  std::string name;      // vocabulary name, e.g. "active_power_total"
  uint8_t function = 3;  // 3 (holding) or 4 (input)
  uint16_t address = 0;  // protocol (0-based) address: the profile's address minus address-base
  modbus::ValueType type = modbus::ValueType::kFloat32;
  modbus::WordOrder word_order = modbus::WordOrder::kABCD;  // the profile's unless overridden
  std::string unit;                                         // "V", "W", "Wh", "" for dimensionless
  SignalKind kind = SignalKind::kInstant;
  double scale = 1.0;  // decoded value = raw * scale
};

struct Profile {
  std::string id;      // registry key: the file name without ".xml", e.g. "janitza-umg96rm-e"
  std::string vendor;  // "Janitza"
  std::string model;   // "UMG 96RM-E"
  uint16_t max_registers = 125;  // registers per read request, 1..125
  uint16_t max_gap = 0;          // unused registers a block read may span (they must be readable)
  modbus::WordOrder word_order = modbus::WordOrder::kABCD;
  uint16_t address_base = 0;  // 0: addresses are protocol addresses; 1: Modicon 1-based
  std::vector<SignalSpec> signals;

  // "Janitza UMG 96RM-E".
  std::string DisplayName() const { return vendor + " " + model; }
};

// Parses profile XML. `id` becomes Profile::id; `source` names the text in error messages.
Result<Profile> ParseProfile(std::string_view xml_text, std::string id = "",
                             std::string_view source = "profile");

// Reads and parses a profile file; the id is the file name without extension. kNotFound when
// the file cannot be read, kInvalidArgument for bad content.
Result<Profile> LoadProfile(const std::filesystem::path& path);

}  // namespace wattline::profiles
