// Profile: the driver profile of one meter model, i.e. which Modbus registers hold which
// signal, in which type, word order and unit, plus how to recognise the meter, its transport
// quirks and optional clock and history registers. Profiles are small XML files
// (docs/profiles.md):
//
//   <profile vendor="Janitza" model="UMG 96RM-E" max-registers="125" word-order="ABCD"
//            address-base="0" max-gap="16">
//     <signal name="voltage_l1_n" fc="3" address="19000" type="float32" unit="V"
//             kind="instant" scale="1"/>
//   </profile>
//
// Parsing is strict: unknown elements or attributes, missing required attributes, bad numbers,
// signal names outside the vocabulary (vocabulary.h) and duplicate signal names are errors whose
// message names the source and the line ("janitza.xml:12: signal 'x': unknown type 'float'").
// ValidateProfile collects every error of a file; ParseProfile reports them all in one Status.
// Thread-safety: Profile is a value type; the functions are stateless.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/sample.h"
#include "core/status.h"
#include "modbus/register_decode.h"

namespace wattline::profiles {

// How a signal's registers are interpreted.
enum class SignalFormat : uint8_t {
  kNumber,    // `type` (int16 .. float64)
  kString,    // `length` registers, two ASCII characters each, high byte first
  kBitfield,  // bit `bit` of a `length`-register (1 or 2) unsigned value; value 0 or 1
};

struct SignalSpec {
  std::string name;      // vocabulary name, e.g. "active_power_total"
  int line = 0;          // line in the profile file
  uint8_t function = 3;  // 3 (holding) or 4 (input)
  uint16_t address = 0;  // protocol (0-based) address: the profile's address minus address-base
  SignalFormat format = SignalFormat::kNumber;
  modbus::ValueType type = modbus::ValueType::kFloat32;     // kNumber only
  uint16_t length = 0;                                      // registers, kString and kBitfield only
  uint8_t bit = 0;                                          // kBitfield only
  modbus::WordOrder word_order = modbus::WordOrder::kABCD;  // the profile's unless overridden
  std::string unit;                                         // "V", "W", "Wh", "" for dimensionless
  SignalKind kind = SignalKind::kInstant;
  double scale = 1.0;  // value = raw * scale * 10^sf + offset, then negated when `invert`
  double offset = 0.0;
  bool invert = false;
  std::optional<uint16_t> scale_register;  // protocol address of an int16 sf register, same fc
  // Raw bit patterns (masked to the type's width) that mean "no value". NaN is always invalid
  // for floats.
  std::vector<uint64_t> invalid;

  // Registers the signal occupies.
  uint16_t RegisterCount() const;
  // True for identity data (serial_number, firmware_version, model_name): read by
  // PlanIdentityReads/DecodeIdentity, never part of the numeric readings.
  bool IsIdentity() const;
};

// "Device identification object `object_id` (FC43/14) equals `text`" or "starts with it".
struct DeviceIdRule {
  uint8_t object_id = 0;  // 0 vendor name, 1 product code, 2 revision, ...
  std::string text;
  bool prefix = false;
};

// "The register at `address` decodes to a value in [min, max]".
struct RegisterRule {
  uint8_t function = 3;
  uint16_t address = 0;  // protocol address
  modbus::ValueType type = modbus::ValueType::kUint16;
  modbus::WordOrder word_order = modbus::WordOrder::kABCD;
  double min = 0;
  double max = 0;
};

// Registers [first, last] (protocol addresses, inclusive) that must never be read: the read
// planner does not span them.
struct ForbiddenRange {
  uint8_t function = 3;
  uint16_t first = 0;
  uint16_t last = 0;
};

struct ClockSpec {
  enum class Encoding : uint8_t {
    kEpochU32,   // uint32 seconds since 1970 UTC at `address` (2 registers)
    kYmdhmsU16,  // six uint16: year, month, day, hour, minute, second from `address`
  };
  Encoding encoding = Encoding::kEpochU32;
  uint8_t function = 3;
  uint16_t address = 0;        // protocol address to read
  uint16_t write_address = 0;  // protocol address to write (FC16); `address` unless given
  uint16_t year_base = 0;      // kYmdhmsU16: stored year = year - year_base (2000 for 0..99)
};

// Recorded energy values: `records` values of `signal`, one every `interval_minutes`, newest
// first, starting at `address`.
struct HistorySpec {
  std::string signal;
  uint8_t function = 3;
  uint16_t address = 0;
  modbus::ValueType type = modbus::ValueType::kFloat32;
  uint16_t records = 0;
  uint16_t interval_minutes = 15;
  double scale = 1.0;
};

struct Profile {
  std::string id;      // registry key: the file name without ".xml", e.g. "janitza-umg96rm-e"
  std::string vendor;  // "Janitza"
  std::string model;   // "UMG 96RM-E"
  uint16_t max_registers = 125;  // registers per read request, 1..125
  uint16_t max_gap = 0;          // unused registers a block read may span (they must be readable)
  uint16_t pause_ms = 0;         // idle time the device needs between a reply and a request
  modbus::WordOrder word_order = modbus::WordOrder::kABCD;
  uint16_t address_base = 0;  // 0: addresses are protocol addresses; 1: Modicon 1-based
  std::vector<DeviceIdRule> device_id_rules;
  std::vector<RegisterRule> register_rules;
  std::vector<ForbiddenRange> forbidden;
  std::optional<ClockSpec> clock;
  std::optional<HistorySpec> history;
  std::vector<SignalSpec> signals;

  // "Janitza UMG 96RM-E".
  std::string DisplayName() const { return vendor + " " + model; }
  // True when [address, address + count) of `function` touches a forbidden range.
  bool IsForbidden(uint8_t function, uint32_t address, uint32_t count) const;
};

// Parses profile XML. `id` becomes Profile::id; `source` names the text in error messages.
// kInvalidArgument carrying every error, one per line, in document order.
Result<Profile> ParseProfile(std::string_view xml_text, std::string id = "",
                             std::string_view source = "profile");

// Every problem in profile XML ("source:line: what"), in document order; empty when valid.
std::vector<std::string> ValidateProfile(std::string_view xml_text,
                                         std::string_view source = "profile");
// ValidateProfile on a file (source = the file name); an unreadable file is one error.
std::vector<std::string> ValidateProfileFile(const std::filesystem::path& path);

// Reads and parses a profile file; the id is the file name without extension. kNotFound when
// the file cannot be read, kInvalidArgument for bad content.
Result<Profile> LoadProfile(const std::filesystem::path& path);

}  // namespace wattline::profiles
