// ProfileRegisterMap: serves a simulated meter through a driver profile, the inverse of the
// connector's decoding ("one profile drives both sides"). The meter's MeterState is encoded into
// registers through the profile's types, word orders, scales, offsets, inversion, scale-factor
// registers, address base and function codes.
//
// What a request gets:
//   fc 03/04 inside a readable range   the registers (unmapped registers inside it read 0)
//   fc 03/04 elsewhere                  exception 02 (illegal data address)
//   count above profile.max_registers   exception 03 (the meter's maximum read size)
//   fc 43/14                            vendor, product code, revision from the profile
//   any other function                  exception 01
// The readable ranges are the blocks the read planner forms for the profile (so the gaps a
// profile declares readable with max-gap are readable), plus the clock registers, minus the
// <forbidden> ranges.
// Thread-safety: immutable after construction; Answer is const and safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modbus/device_identification.h"
#include "profiles/profile.h"
#include "sim/meter_physics.h"

namespace wattline::sim {

// The value of vocabulary signal `name` in `state` (per-phase energies are a third of the
// total; reactive and apparent energies fixed ratios of the real energy); nullopt for a name
// the physics does not model (it is served as 0).
std::optional<double> PhysicsValue(const MeterState& state, std::string_view name);

class ProfileRegisterMap {
 public:
  // `profile` must outlive the map. `serial` is the meter's serial number (served for the
  // serial_number signal).
  ProfileRegisterMap(const profiles::Profile& profile, uint32_t serial);

  // Answers one request PDU for a meter in `state` (see the file comment).
  std::string Answer(const MeterState& state, std::string_view request_pdu) const;

  // The device identification objects the meter reports, by id.
  const std::vector<modbus::DeviceIdObject>& device_objects() const { return objects_; }
  // The identity text the meter serves for an identity signal ("serial_number" -> "70000042").
  std::string IdentityText(std::string_view name) const;
  // The scale factor written to each scale register for `state` (protocol address -> sf).
  int16_t ScaleFactor(const MeterState& state, uint16_t scale_register) const;

  const profiles::Profile& profile() const { return profile_; }

 private:
  struct Range {
    uint8_t function;
    uint32_t first;
    uint32_t end;  // exclusive
  };
  std::string AnswerRead(const MeterState& state, std::string_view pdu) const;

  const profiles::Profile& profile_;
  uint32_t serial_;
  std::vector<Range> ranges_;
  std::vector<modbus::DeviceIdObject> objects_;
};

}  // namespace wattline::sim
