// ProfileRegisterMap: serves a simulated meter through a driver profile, the inverse of the
// connector's decoding ("one profile drives both sides"). The meter's MeterState is encoded into
// registers through the profile's types, word orders, scales, offsets, inversion, scale-factor
// registers, address base and function codes.
//
// What a request gets:
//   fc 03/04 inside a readable range   the registers (unmapped registers inside it read 0)
//   fc 03/04 elsewhere                  exception 02 (illegal data address)
//   count above profile.max_registers   exception 03 (the meter's maximum read size)
//   fc 16 of the whole clock at its write-address with a valid time
//                                       sets the meter's clock; the normal response
//   fc 16 of part of the clock, or an impossible time    exception 03
//   fc 16 anywhere else                 exception 02 (01 when the profile has no <clock>)
//   fc 43/14                            vendor, product code, revision from the profile
//   any other function                  exception 01
// The readable ranges are the blocks the read planner forms for the profile (so the gaps a
// profile declares readable with max-gap are readable), plus the clock and history registers,
// minus the <forbidden> ranges.
//
// Clock: the meter's time is the simulator's time plus the meter's MeterClock offset, which a
// clock write sets (offset = written time - simulator time). History (<history>): record i holds
// the recorded signal at the end of the i-th most recent complete interval of the meter's clock
// (profiles::HistoryRecordEnd), i.e. the live counter at that instant, from
// MeterPhysics::CountersAt; a record from before the meter's counters began (negative) or out of
// the physics' reach is NaN (for integer types the type's minimum).
//
// Thread-safety: the map is immutable after construction and its const methods are safe from any
// thread. The MeterPhysics and MeterClock passed to Answer belong to one meter: calls for one
// meter must not run concurrently (Fleet serves each meter from its io_context thread).
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

// The part of a simulated meter that requests change: its clock. One per meter, kept with the
// meter's physics and passed to every Answer; starts correct (offset 0) unless configured.
struct MeterClock {
  SystemTime::duration offset{0};  // meter time = simulator time + offset

  SystemTime Now(SystemTime simulator_time) const { return simulator_time + offset; }
};

class ProfileRegisterMap {
 public:
  // `profile` must outlive the map. `serial` is the meter's serial number (served for the
  // serial_number signal).
  ProfileRegisterMap(const profiles::Profile& profile, uint32_t serial);

  // Answers one request PDU (see the file comment) for the meter with `physics` and `clock`:
  // advances the physics to now, serves the clock as now + clock.offset and the history from
  // the physics; a valid clock write changes `clock`. Both must outlive the call.
  std::string Answer(MeterPhysics& physics, MeterClock& clock, std::string_view request_pdu) const;

  // Answers one request for a meter frozen in `state` with a correct clock and no history (its
  // records read as not recorded); a valid clock write is answered but not kept.
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
  std::string Respond(const MeterState& state, MeterClock& clock, MeterPhysics* physics,
                      std::string_view pdu) const;
  std::string AnswerRead(const MeterState& state, const MeterClock& clock, MeterPhysics* physics,
                         std::string_view pdu) const;
  std::string AnswerClockWrite(const MeterState& state, MeterClock& clock,
                               std::string_view pdu) const;

  const profiles::Profile& profile_;
  uint32_t serial_;
  std::vector<Range> ranges_;
  std::vector<modbus::DeviceIdObject> objects_;
  std::optional<profiles::SignalSpec> history_spec_;  // how records are encoded
};

}  // namespace wattline::sim
