#include "sim/meter_physics.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numbers>

namespace wattline::sim {
namespace {

uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Uniform in [0, 1) from (seed, channel, bucket).
double Hash01(uint64_t seed, uint64_t channel, int64_t bucket) {
  uint64_t h = SplitMix(
      seed ^ SplitMix(channel * 0x100000001B3ull ^ SplitMix(static_cast<uint64_t>(bucket))));
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

// Smooth value noise in [-1, 1] with features every `period_s` seconds.
double Noise(uint64_t seed, uint64_t channel, double t_s, double period_s) {
  double x = t_s / period_s;
  double k = std::floor(x);
  double f = x - k;
  double a = Hash01(seed, channel, static_cast<int64_t>(k)) * 2 - 1;
  double b = Hash01(seed, channel, static_cast<int64_t>(k) + 1) * 2 - 1;
  double s = f * f * (3 - 2 * f);
  return a + (b - a) * s;
}

double HourOfDay(double unix_s) { return std::fmod(unix_s, 86400.0) / 3600.0; }

// Household-like load shape: ~0.25 at night, up to ~1 in the late afternoon.
double LoadShape(double hour) {
  double day = std::exp(-std::pow((hour - 13.0) / 4.5, 2));
  double evening = 0.6 * std::exp(-std::pow((hour - 19.0) / 2.0, 2));
  return 0.25 + 0.75 * std::min(1.0, day + evening);
}

// PV yield 0..1: a half sine from 06:00 to 18:00.
double PvShape(double hour) {
  if (hour < 6 || hour > 18) return 0;
  return std::sin(std::numbers::pi * (hour - 6) / 12);
}

// Gaps Advance integrates second by second; longer ones are integrated coarsely.
constexpr double kExactSpan_s = 86400;
// How far CountersAt integrates from the nearest known instant.
constexpr double kReach_s = 2 * 86400;
// Remembered CountersAt results per meter (a day of 15-minute records is 96).
constexpr size_t kMaxKnown = 1024;

double UnixSeconds(SystemTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

MeterPhysics::MeterPhysics(uint64_t seed, TimeSource& time) : seed_(seed), time_(time) {
  for (int p = 0; p < 3; ++p) base_load_w_[p] = 300 + 2200 * Hash01(seed_, 1, p);
  if (Hash01(seed_, 2, 0) < 0.3) pv_peak_w_ = 3000 + 7000 * Hash01(seed_, 2, 1);
  state_ = At(time_.SystemNow());
  // Counters start low (10 kWh .. 1 MWh), as on a recently installed meter, so that the
  // float32 register still resolves fractions of a Wh.
  state_.energy_import_wh = std::round(1e4 + 1e6 * Hash01(seed_, 3, 0));
  state_.energy_export_wh = has_pv() ? std::round(1e3 + 1e5 * Hash01(seed_, 3, 1)) : 0;
}

double MeterPhysics::PhasePower(int phase, double t) const {
  double hour = HourOfDay(t);
  double load = base_load_w_[phase] * LoadShape(hour) * (1 + 0.08 * Noise(seed_, 10 + phase, t, 7));
  // An appliance that runs for a whole quarter hour in about 15 % of quarter hours.
  int64_t quarter = static_cast<int64_t>(std::floor(t / 900));
  if (Hash01(seed_, 20 + phase, quarter) < 0.15)
    load += 1000 + 2000 * Hash01(seed_, 30 + phase, quarter);
  double pv = 0;
  if (has_pv()) {
    double clouds = 0.8 + 0.2 * Noise(seed_, 40, t, 120);
    pv = pv_peak_w_ * PvShape(hour) * clouds / 3;
  }
  return load - pv;
}

MeterState MeterPhysics::At(SystemTime time) const {
  MeterState s;
  s.time = time;
  double t = UnixSeconds(time);
  for (int p = 0; p < 3; ++p) {
    double u = 230 + 3 * Noise(seed_, 50 + p, t, 60) + 0.5 * Noise(seed_, 53 + p, t, 3);
    double cos_abs = 0.92 + 0.07 * Noise(seed_, 60 + p, t, 300);  // 0.85..0.99
    double power = PhasePower(p, t);
    double current = std::abs(power) / (u * cos_abs);
    s.voltage[p] = u;
    s.current[p] = current;
    s.active_power[p] = power;
    s.cos_phi[p] = power < 0 ? -cos_abs : cos_abs;
    s.apparent_power[p] = u * current;
    s.reactive_power[p] =
        std::sqrt(std::max(0.0, s.apparent_power[p] * s.apparent_power[p] - power * power));
  }
  for (int p = 0; p < 3; ++p) {
    s.voltage_ll[p] = std::numbers::sqrt3 * (s.voltage[p] + s.voltage[(p + 1) % 3]) / 2;
  }
  s.frequency = 50 + 0.03 * Noise(seed_, 70, t, 20);
  return s;
}

double MeterPhysics::TotalPower(double t) const {
  return PhasePower(0, t) + PhasePower(1, t) + PhasePower(2, t);
}

EnergyCounters MeterPhysics::Integrate(double from, double to) const {
  EnergyCounters e;
  if (!(to > from)) return e;
  // Power is sampled at whole seconds and linear in between, so that integrating [a, b] and then
  // [b, c] gives the same counters as [a, c] (up to a sign change inside one second): the
  // counters do not depend on when requests arrive.
  double k = std::floor(from);
  double p_k = TotalPower(k);
  double p_next = TotalPower(k + 1);
  double a = from;
  while (true) {
    double b = std::min(to, k + 1);
    double p_a = p_k + (p_next - p_k) * (a - k);
    double p_b = p_k + (p_next - p_k) * (b - k);
    double wh = (p_a + p_b) / 2 * (b - a) / 3600;
    if (wh >= 0) {
      e.import_wh += wh;
    } else {
      e.export_wh -= wh;
    }
    if (b >= to) break;
    a = b;
    k += 1;
    p_k = p_next;
    p_next = TotalPower(k + 1);
  }
  return e;
}

const MeterState& MeterPhysics::Advance() {
  SystemTime now = time_.SystemNow();
  if (now <= state_.time) return state_;
  double t0 = UnixSeconds(state_.time);
  double t1 = UnixSeconds(now);
  EnergyCounters c{state_.energy_import_wh, state_.energy_export_wh};
  if (t1 - t0 <= kExactSpan_s) {
    EnergyCounters d = Integrate(t0, t1);
    c.import_wh += d.import_wh;
    c.export_wh += d.export_wh;
  } else {
    // The clock jumped by days: trapezoids in 86400 steps cap the work. The counters before the
    // jump no longer follow from the ones after it, so the remembered ones are dropped.
    const int steps = 86400;
    double dt = (t1 - t0) / steps;
    double p_prev = TotalPower(t0);
    for (int i = 1; i <= steps; ++i) {
      double p = TotalPower(t0 + i * dt);
      double wh = (p_prev + p) / 2 * dt / 3600;
      if (wh >= 0) {
        c.import_wh += wh;
      } else {
        c.export_wh -= wh;
      }
      p_prev = p;
    }
    known_.clear();
  }
  state_ = At(now);
  state_.energy_import_wh = c.import_wh;
  state_.energy_export_wh = c.export_wh;
  return state_;
}

std::optional<EnergyCounters> MeterPhysics::CountersAt(SystemTime t) {
  // Start from the nearest known instant: the live state or a remembered one.
  SystemTime from = state_.time;
  EnergyCounters c{state_.energy_import_wh, state_.energy_export_wh};
  auto distance = [t](SystemTime u) { return u > t ? u - t : t - u; };
  auto consider = [&](const std::pair<const SystemTime, EnergyCounters>& known) {
    if (distance(known.first) < distance(from)) {
      from = known.first;
      c = known.second;
    }
  };
  auto it = known_.lower_bound(t);
  if (it != known_.end()) consider(*it);
  if (it != known_.begin()) consider(*std::prev(it));
  if (distance(from) > std::chrono::seconds(static_cast<int64_t>(kReach_s))) return std::nullopt;
  if (t > from) {
    EnergyCounters d = Integrate(UnixSeconds(from), UnixSeconds(t));
    c.import_wh += d.import_wh;
    c.export_wh += d.export_wh;
  } else if (t < from) {
    EnergyCounters d = Integrate(UnixSeconds(t), UnixSeconds(from));
    c.import_wh -= d.import_wh;
    c.export_wh -= d.export_wh;
  }
  if (known_.size() >= kMaxKnown) known_.clear();
  known_.emplace(t, c);
  return c;
}

}  // namespace wattline::sim
