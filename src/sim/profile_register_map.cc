#include "sim/profile_register_map.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>

#include "modbus/pdu.h"
#include "profiles/clock_history.h"
#include "profiles/device_id.h"
#include "profiles/read_plan.h"
#include "profiles/signal_codec.h"

namespace wattline::sim {
namespace {

using profiles::SignalFormat;
using profiles::SignalSpec;

// "_l2" -> 1; -1 when the name has no phase suffix.
int PhaseOf(std::string_view name) {
  for (int p = 0; p < 3; ++p) {
    if (name.ends_with(fmt::format("_l{}", p + 1))) return p;
  }
  return -1;
}

// A meter's clock may be set up to here (SystemTime, nanoseconds in 64 bits, ends in 2262).
constexpr std::chrono::sys_seconds kLatestClock =
    std::chrono::sys_days(std::chrono::year(2200) / 1 / 1);

// Largest |raw| the integer type holds (floats: unlimited).
double TypeLimit(modbus::ValueType type) {
  switch (type) {
    case modbus::ValueType::kInt16:
      return 32767;
    case modbus::ValueType::kUint16:
      return 65535;
    case modbus::ValueType::kInt32:
      return 2147483647.0;
    case modbus::ValueType::kUint32:
      return 4294967295.0;
    case modbus::ValueType::kInt64:
    case modbus::ValueType::kUint64:
      return 9.0e15;  // stay where doubles are exact
    case modbus::ValueType::kFloat32:
    case modbus::ValueType::kFloat64:
      return HUGE_VAL;
  }
  return HUGE_VAL;
}

}  // namespace

std::optional<double> PhysicsValue(const MeterState& s, std::string_view name) {
  int p = PhaseOf(name);
  auto per_phase = [&](const std::array<double, 3>& a, double total) {
    return p >= 0 ? a[p] : total;
  };
  auto base = [&](std::string_view n) { return name.starts_with(n); };
  if (name == "voltage_l1_l2") return s.voltage_ll[0];
  if (name == "voltage_l2_l3") return s.voltage_ll[1];
  if (name == "voltage_l3_l1") return s.voltage_ll[2];
  if (base("voltage_l") && name.ends_with("_n") && name.size() == 12) {
    return s.voltage[name[9] - '1'];
  }
  if (name == "current_sum") return s.current_sum();
  if (name == "current_n") return 0.0;
  if (base("current_l") && p >= 0) return s.current[p];
  if (base("active_power_")) return per_phase(s.active_power, s.active_power_total());
  if (base("reactive_power_")) return per_phase(s.reactive_power, s.reactive_power_total());
  if (base("apparent_power_")) return per_phase(s.apparent_power, s.apparent_power_total());
  if (base("cos_phi_") || base("power_factor_")) {
    double total_s = s.apparent_power_total();
    return per_phase(s.cos_phi, total_s > 0 ? s.active_power_total() / total_s : 1.0);
  }
  if (name == "frequency") return s.frequency;
  if (name == "rotation_field") return 1.0;
  if (base("thd_voltage_") && p >= 0) return 1.5 + 0.3 * p;
  if (base("thd_current_") && p >= 0) return 8.0 + 1.0 * p;
  double share = p >= 0 ? 1.0 / 3 : 1.0;
  double real = s.energy_import_wh + s.energy_export_wh;
  if (base("active_energy_import")) return s.energy_import_wh * share;
  if (base("active_energy_export")) return s.energy_export_wh * share;
  if (base("active_energy_total")) return s.energy_total_wh() * share;
  // Apparent and reactive energies: plausible fixed ratios of the real energy.
  if (base("reactive_energy_import")) return real * 0.30 * share;
  if (base("reactive_energy_export")) return real * 0.05 * share;
  if (base("reactive_energy_total")) return real * 0.35 * share;
  if (base("apparent_energy_")) return real * 1.08 * share;
  return std::nullopt;
}

ProfileRegisterMap::ProfileRegisterMap(const profiles::Profile& profile, uint32_t serial)
    : profile_(profile), serial_(serial) {
  std::vector<Range> ranges;
  for (const auto& plan : {profiles::PlanReads(profile), profiles::PlanIdentityReads(profile)}) {
    for (const auto& b : plan.blocks) {
      ranges.push_back({b.function, b.address, uint32_t{b.address} + b.count});
    }
  }
  if (profile.clock) {
    ranges.push_back(
        {profile.clock->function, profile.clock->address,
         uint32_t{profile.clock->address} + profiles::ClockRegisterCount(*profile.clock)});
  }
  if (auto spec = profiles::HistoryRecordSpec(profile); spec) {
    history_spec_ = std::move(*spec);
    const auto& h = *profile.history;
    uint32_t end = h.address + uint32_t{h.records} * modbus::RegisterCount(h.type);
    ranges.push_back({h.function, h.address, std::min<uint32_t>(end, 65536)});
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.function != b.function ? a.function < b.function : a.first < b.first;
  });
  // Merge touching ranges: a real meter answers any read inside its contiguous register map.
  for (const Range& r : ranges) {
    if (!ranges_.empty() && ranges_.back().function == r.function &&
        r.first <= ranges_.back().end) {
      ranges_.back().end = std::max(ranges_.back().end, r.end);
    } else {
      ranges_.push_back(r);
    }
  }
  std::map<uint8_t, std::string> objects = {{profiles::kObjectVendorName, profile.vendor},
                                            {profiles::kObjectProductCode, profile.model},
                                            {profiles::kObjectRevision, "1.0.0"}};
  // A rule's expected text (or prefix) wins, so that the profile recognises its own simulator.
  for (const auto& rule : profile.device_id_rules) objects[rule.object_id] = rule.text;
  for (auto& [id, value] : objects) objects_.push_back({id, std::move(value)});
}

std::string ProfileRegisterMap::IdentityText(std::string_view name) const {
  if (name == "serial_number") return fmt::format("{}", serial_);
  if (name == "firmware_version") return "100";
  if (name == "model_name") return profile_.model;
  return "";
}

int16_t ProfileRegisterMap::ScaleFactor(const MeterState& state, uint16_t scale_register) const {
  // The finest resolution at which every signal sharing the register still fits its type.
  for (int16_t sf = -3; sf < 6; ++sf) {
    bool fits = true;
    for (const SignalSpec& s : profile_.signals) {
      if (s.scale_register != scale_register || s.format != SignalFormat::kNumber) continue;
      double v = std::abs(PhysicsValue(state, s.name).value_or(0) - s.offset);
      if (v / (std::abs(s.scale) * std::pow(10.0, sf)) > TypeLimit(s.type)) fits = false;
    }
    if (fits) return sf;
  }
  return 6;
}

std::string ProfileRegisterMap::Answer(MeterPhysics& physics, MeterClock& clock,
                                       std::string_view pdu) const {
  const MeterState& state = physics.Advance();
  return Respond(state, clock, &physics, pdu);
}

std::string ProfileRegisterMap::Answer(const MeterState& state, std::string_view pdu) const {
  MeterClock clock;
  return Respond(state, clock, nullptr, pdu);
}

std::string ProfileRegisterMap::Respond(const MeterState& state, MeterClock& clock,
                                        MeterPhysics* physics, std::string_view pdu) const {
  using modbus::ExceptionCode;
  uint8_t function = pdu.empty() ? 0 : static_cast<uint8_t>(pdu[0]);
  if (function == modbus::kWriteMultipleRegisters && profile_.clock) {
    return AnswerClockWrite(state, clock, pdu);
  }
  if (function == modbus::kEncapsulatedInterface) {
    auto request = modbus::DecodeDeviceIdRequest(pdu);
    if (!request) return modbus::EncodeException(function, ExceptionCode::kIllegalDataValue);
    modbus::DeviceIdResponse response;
    response.code = request->code;
    response.conformity = 0x81;  // basic identification, stream and individual access
    for (const auto& o : objects_) {
      bool wanted =
          request->code == modbus::DeviceIdCode::kSpecific
              ? o.id == request->object_id
              : o.id >= request->object_id && (request->code != modbus::DeviceIdCode::kBasic ||
                                               o.id <= profiles::kObjectRevision);
      if (wanted) response.objects.push_back(o);
    }
    if (response.objects.empty()) {
      return modbus::EncodeException(function, ExceptionCode::kIllegalDataAddress);
    }
    auto encoded = modbus::EncodeDeviceIdResponse(response);
    if (!encoded) return modbus::EncodeException(function, ExceptionCode::kServerDeviceFailure);
    return *encoded;
  }
  bool served = std::any_of(ranges_.begin(), ranges_.end(),
                            [&](const Range& r) { return r.function == function; });
  if ((function != modbus::kReadHoldingRegisters && function != modbus::kReadInputRegisters) ||
      !served) {
    return modbus::EncodeException(function, ExceptionCode::kIllegalFunction);
  }
  return AnswerRead(state, clock, physics, pdu);
}

std::string ProfileRegisterMap::AnswerClockWrite(const MeterState& state, MeterClock& clock,
                                                 std::string_view pdu) const {
  using modbus::ExceptionCode;
  const uint8_t function = modbus::kWriteMultipleRegisters;
  auto request = modbus::DecodeWriteMultipleRequest(pdu);
  if (!request) {
    spdlog::debug("sim {}: malformed write: {}", profile_.id, request.error().message());
    return modbus::EncodeException(function, ExceptionCode::kIllegalDataValue);
  }
  const profiles::ClockSpec& c = *profile_.clock;
  uint32_t clock_first = c.write_address;
  uint32_t clock_end = clock_first + profiles::ClockRegisterCount(c);
  uint32_t first = request->address;
  uint32_t end = first + static_cast<uint32_t>(request->values.size());
  if (end <= clock_first || first >= clock_end) {
    return modbus::EncodeException(function, ExceptionCode::kIllegalDataAddress);
  }
  if (first != clock_first || end != clock_end) {
    // More than the clock: the other registers are not writable. Less: half a time is no time.
    bool covers = first <= clock_first && end >= clock_end;
    spdlog::debug("sim {}: clock write of registers {}..{} rejected (clock is {}..{})", profile_.id,
                  first, end - 1, clock_first, clock_end - 1);
    return modbus::EncodeException(
        function, covers ? ExceptionCode::kIllegalDataAddress : ExceptionCode::kIllegalDataValue);
  }
  auto t = profiles::DecodeClock(c, request->values);
  // SystemTime counts nanoseconds in 64 bits and ends in 2262: later times are refused.
  if (t && *t >= kLatestClock) t = Fail(InvalidArgument("clock: times from 2200 on are refused"));
  if (!t) {
    spdlog::debug("sim {}: clock write rejected: {}", profile_.id, t.error().message());
    return modbus::EncodeException(function, ExceptionCode::kIllegalDataValue);
  }
  clock.offset = SystemTime(*t) - state.time;
  return modbus::EncodeWriteMultipleResponse(request->address,
                                             static_cast<uint16_t>(request->values.size()));
}

std::string ProfileRegisterMap::AnswerRead(const MeterState& state, const MeterClock& clock,
                                           MeterPhysics* physics, std::string_view pdu) const {
  using modbus::ExceptionCode;
  uint8_t function = static_cast<uint8_t>(pdu[0]);
  auto request = modbus::DecodeReadRequest(pdu);
  if (!request || request->count > profile_.max_registers) {
    return modbus::EncodeException(function, ExceptionCode::kIllegalDataValue);
  }
  uint32_t first = request->address;
  uint32_t end = first + request->count;
  bool inside = std::any_of(ranges_.begin(), ranges_.end(), [&](const Range& r) {
    return r.function == function && first >= r.first && end <= r.end;
  });
  if (!inside || profile_.IsForbidden(function, first, request->count)) {
    return modbus::EncodeException(function, ExceptionCode::kIllegalDataAddress);
  }
  std::vector<uint16_t> regs(request->count, 0);
  auto put = [&](uint32_t address, const std::vector<uint16_t>& values) {
    for (size_t i = 0; i < values.size(); ++i) {
      if (address + i >= first && address + i < end) regs[address + i - first] = values[i];
    }
  };
  std::map<uint16_t, int16_t> scale_factors;
  for (const SignalSpec& s : profile_.signals) {
    if (s.function != function) continue;
    int16_t sf = 0;
    if (s.scale_register) {
      auto it = scale_factors.find(*s.scale_register);
      if (it == scale_factors.end()) {
        it = scale_factors.emplace(*s.scale_register, ScaleFactor(state, *s.scale_register)).first;
      }
      sf = it->second;
      put(*s.scale_register, {static_cast<uint16_t>(sf)});
    }
    if (s.address >= end || uint32_t{s.address} + s.RegisterCount() <= first) continue;
    if (s.IsIdentity()) {
      std::string text = IdentityText(s.name);
      if (s.format == SignalFormat::kString) {
        put(s.address, profiles::EncodeText(s, text));
      } else {
        put(s.address, profiles::EncodeNumber(s, std::strtod(text.c_str(), nullptr), sf));
      }
      continue;
    }
    put(s.address, profiles::EncodeNumber(s, PhysicsValue(state, s.name).value_or(0), sf));
  }
  const auto meter_now = std::chrono::floor<std::chrono::seconds>(clock.Now(state.time));
  if (const auto& c = profile_.clock; c && c->function == function) {
    // A time the encoding cannot hold (a clock set far off) reads as zeros.
    if (auto words = profiles::EncodeClockWrite(*c, meter_now); words) put(c->address, *words);
  }
  if (const auto& h = profile_.history; history_spec_ && h->function == function) {
    const uint32_t width = modbus::RegisterCount(h->type);
    const uint32_t h_end = std::min<uint32_t>(h->address + uint32_t{h->records} * width, 65536);
    if (first < h_end && end > h->address) {
      uint32_t newest = (std::max<uint32_t>(first, h->address) - h->address) / width;
      uint32_t oldest = (std::min(end, h_end) - 1 - h->address) / width;
      // Newest first: each record's counters integrate back from the previous one's.
      for (uint32_t i = newest; i <= oldest; ++i) {
        SystemTime at = SystemTime(profiles::HistoryRecordEnd(*h, meter_now, i)) - clock.offset;
        double value = std::numeric_limits<double>::quiet_NaN();
        if (auto counters = physics ? physics->CountersAt(at) : std::nullopt;
            counters && counters->import_wh >= 0 && counters->export_wh >= 0) {
          MeterState past = physics->At(at);
          past.energy_import_wh = counters->import_wh;
          past.energy_export_wh = counters->export_wh;
          value = PhysicsValue(past, h->signal).value_or(0);
        }
        put(h->address + i * width, profiles::EncodeNumber(*history_spec_, value));
      }
    }
  }
  return modbus::EncodeReadResponse(function, regs);
}

}  // namespace wattline::sim
