// MeterPhysics: the electrical state of one simulated three-phase meter, a deterministic
// function of its seed and the wall clock, plus energy counters that integrate power over the
// real elapsed time.
//
// Per phase: a base load with a daily shape (low at night, high during the day), noise and
// occasional appliance steps; about 30 % of meters (chosen by seed) also have PV that exports
// around midday. U is about 230 V, |cos phi| 0.85..0.99, and the quantities are consistent:
//   I = |P| / (U * |cos phi|),  P = U * I * cos phi  (cos phi carries the sign of P),
//   S = U * I,  Q = sqrt(S^2 - P^2) >= 0.
// Import integrates positive total power, export negative total power (Wh). The power between
// whole Unix seconds is taken as linear, so the counters are one function of time, whatever the
// pattern of requests: CountersAt(t) gives them for any instant, also before the meter was
// created (integrating backwards from its start values), which the simulator serves as the
// meter's recorded history.
//
// Thread-safety: not thread-safe; one owner (the io_context thread that serves the meter).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>

#include "core/time.h"

namespace wattline::sim {

struct MeterState {
  SystemTime time;
  std::array<double, 3> voltage{};         // L-N, V
  std::array<double, 3> voltage_ll{};      // L1-L2, L2-L3, L3-L1, V
  std::array<double, 3> current{};         // A
  std::array<double, 3> active_power{};    // W, negative when exporting
  std::array<double, 3> apparent_power{};  // VA
  std::array<double, 3> reactive_power{};  // var
  std::array<double, 3> cos_phi{};         // signed like active_power
  double frequency = 50;                   // Hz
  double energy_import_wh = 0;
  double energy_export_wh = 0;

  double current_sum() const { return current[0] + current[1] + current[2]; }
  double active_power_total() const { return active_power[0] + active_power[1] + active_power[2]; }
  double apparent_power_total() const {
    return apparent_power[0] + apparent_power[1] + apparent_power[2];
  }
  double reactive_power_total() const {
    return reactive_power[0] + reactive_power[1] + reactive_power[2];
  }
  double energy_total_wh() const { return energy_import_wh - energy_export_wh; }
};

struct EnergyCounters {
  double import_wh = 0;
  double export_wh = 0;
};

class MeterPhysics {
 public:
  // `time` must outlive the object. The counters start at seed-derived values at time.SystemNow().
  MeterPhysics(uint64_t seed, TimeSource& time);

  // Advances the counters to time.SystemNow() and returns the state at that instant. A clock
  // that went backwards leaves the counters unchanged. A jump of more than a day is integrated
  // coarsely (86400 steps) and starts a new reference for CountersAt.
  const MeterState& Advance();

  // The energy counters at `t`: the start values plus the energy since the meter was created
  // (minus the energy until then, for earlier instants; such values may be negative: the meter
  // did not exist yet). Agrees with the counters Advance() reaches at `t` up to rounding. Costs
  // one power evaluation per second between `t` and the nearest instant already known (the
  // last Advance, the start, or an earlier CountersAt, which are remembered).
  // nullopt when `t` lies more than two days from every known instant (not integrated).
  std::optional<EnergyCounters> CountersAt(SystemTime t);

  const MeterState& state() const { return state_; }
  bool has_pv() const { return pv_peak_w_ > 0; }

  // The instantaneous state at `t` without touching the counters (pure function of seed and t).
  MeterState At(SystemTime t) const;

 private:
  double PhasePower(int phase, double unix_s) const;
  double TotalPower(double unix_s) const;
  // The energy imported (positive power) and exported (negative power) in [from, to], from <= to.
  EnergyCounters Integrate(double from, double to) const;

  uint64_t seed_;
  TimeSource& time_;
  std::array<double, 3> base_load_w_{};
  double pv_peak_w_ = 0;
  MeterState state_;
  // Counters computed by CountersAt (bounded: cleared when full; state_ is always known too).
  std::map<SystemTime, EnergyCounters> known_;
};

}  // namespace wattline::sim
