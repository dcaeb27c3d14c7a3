#include "edge/recorder.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "profiles/vocabulary.h"

namespace wattline::edge {

std::string_view AggregateName(Aggregate aggregate) {
  switch (aggregate) {
    case Aggregate::kLast:
      return "last";
    case Aggregate::kMin:
      return "min";
    case Aggregate::kMax:
      return "max";
    case Aggregate::kMean:
      break;
  }
  return "mean";
}

std::optional<Aggregate> ParseAggregate(std::string_view name) {
  for (Aggregate a : {Aggregate::kMean, Aggregate::kLast, Aggregate::kMin, Aggregate::kMax}) {
    if (name == AggregateName(a)) return a;
  }
  return std::nullopt;
}

namespace {

constexpr int64_t kMaxCycleMs = 86'400'000;
constexpr int64_t kMaxHeartbeatMs = 31 * kMaxCycleMs;

bool HasBand(const RecordingRule& rule) { return rule.dead_band > 0 || rule.dead_band_percent > 0; }

}  // namespace

Status ValidateRecordingRule(const RecordingRule& rule) {
  if (rule.meter.empty()) return InvalidArgument("'meter' must be a meter key or \"*\"");
  if (rule.signal.empty()) return InvalidArgument("'signal' is missing");
  if (rule.signal != "*") {
    if (!profiles::IsKnownSignal(rule.signal))
      return InvalidArgument(
          fmt::format("unknown signal '{}' (not in the vocabulary)", rule.signal));
    if (profiles::IsIdentitySignal(rule.signal)) {
      return InvalidArgument(
          fmt::format("'{}' is an identity signal: it is always stored as read", rule.signal));
    }
  }
  if (rule.cycle_ms != 0) {
    if (rule.cycle_ms < 1000 || rule.cycle_ms > kMaxCycleMs || rule.cycle_ms % 1000 != 0) {
      return InvalidArgument(fmt::format(
          "'cycle_ms' must be whole seconds from 1000 to {} (got {})", kMaxCycleMs, rule.cycle_ms));
    }
    if (rule.aggregates.empty()) return InvalidArgument("'aggregate' must name at least one");
    std::set<Aggregate> seen;
    for (Aggregate a : rule.aggregates) {
      if (!seen.insert(a).second) {
        return InvalidArgument(
            fmt::format("'aggregate' names \"{}\" more than once", AggregateName(a)));
      }
    }
  } else if (!rule.aggregates.empty()) {
    return InvalidArgument("'aggregate' needs a 'cycle_ms'");
  }
  for (auto [name, band] : {std::pair{"dead_band", rule.dead_band},
                            std::pair{"dead_band_percent", rule.dead_band_percent}}) {
    if (!std::isfinite(band) || band < 0) {
      return InvalidArgument(fmt::format("'{}' must be a number >= 0 (got {})", name, band));
    }
  }
  if (rule.heartbeat_ms < 0 || rule.heartbeat_ms > kMaxHeartbeatMs) {
    return InvalidArgument(fmt::format("'heartbeat_ms' must be from 0 to {} (got {})",
                                       kMaxHeartbeatMs, rule.heartbeat_ms));
  }
  if (rule.heartbeat_ms > 0 && !HasBand(rule)) {
    return InvalidArgument("'heartbeat_ms' needs a 'dead_band' or 'dead_band_percent'");
  }
  return Status::Ok();
}

namespace {

// "[[recording]] #2 (meter-01/active_power_total), line 14: ..."
Status RuleError(size_t index, const RecordingRule& rule, const toml::node& node,
                 const std::string& what) {
  std::string who;
  if (!rule.signal.empty()) who = fmt::format(" ({}/{})", rule.meter, rule.signal);
  return InvalidArgument(fmt::format("[[recording]] #{}{}, line {}: {}", index + 1, who,
                                     node.source().begin.line, what));
}

const std::set<std::string, std::less<>>& RecordingKeys() {
  static const auto* keys = new std::set<std::string, std::less<>>{
      "meter", "signal", "cycle_ms", "aggregate", "dead_band", "dead_band_percent", "heartbeat_ms"};
  return *keys;
}

}  // namespace

Result<std::vector<RecordingRule>> RecordingRulesFromToml(const toml::table& config) {
  std::vector<RecordingRule> out;
  const toml::node* node = config.get("recording");
  if (node == nullptr) return out;
  const toml::array* tables = node->as_array();
  if (tables == nullptr) {
    return Fail(RuleError(0, {}, *node, "'recording' must be an array of tables ([[recording]])"));
  }
  std::set<std::pair<std::string, std::string>> pairs;
  for (size_t i = 0; i < tables->size(); ++i) {
    const toml::table* t = (*tables)[i].as_table();
    if (t == nullptr) return Fail(RuleError(i, {}, (*tables)[i], "not a table"));
    RecordingRule rule;
    auto str = [&](const char* name, std::string& dst) -> Status {
      const toml::node* n = t->get(name);
      if (n == nullptr) return Status::Ok();
      if (!n->is_string() || n->value<std::string>()->empty()) {
        return RuleError(i, rule, *n, fmt::format("'{}' must be a non-empty string", name));
      }
      dst = *n->value<std::string>();
      return Status::Ok();
    };
    auto integer = [&](const char* name, int64_t lo, int64_t hi, int64_t& dst) -> Status {
      const toml::node* n = t->get(name);
      if (n == nullptr) return Status::Ok();
      auto v = n->value<int64_t>();
      if (!n->is_integer() || !v || *v < lo || *v > hi) {
        return RuleError(i, rule, *n,
                         fmt::format("'{}' must be an integer in {}..{}", name, lo, hi));
      }
      dst = *v;
      return Status::Ok();
    };
    auto number = [&](const char* name, double& dst) -> Status {
      const toml::node* n = t->get(name);
      if (n == nullptr) return Status::Ok();
      auto v = n->value<double>();
      if (!n->is_number() || !v || !std::isfinite(*v) || *v < 0) {
        return RuleError(i, rule, *n, fmt::format("'{}' must be a number >= 0", name));
      }
      dst = *v;
      return Status::Ok();
    };
    // The pair first, so that later messages name it.
    for (Status s : {str("meter", rule.meter), str("signal", rule.signal)}) {
      if (!s.ok()) return Fail(s);
    }
    if (rule.signal.empty()) return Fail(RuleError(i, rule, *t, "missing 'signal'"));
    for (auto&& [key, value] : *t) {
      if (!RecordingKeys().contains(key.str())) {
        return Fail(RuleError(i, rule, value, fmt::format("unknown key '{}'", key.str())));
      }
    }
    if (rule.signal != "*" &&
        (!profiles::IsKnownSignal(rule.signal) || profiles::IsIdentitySignal(rule.signal))) {
      Status s = ValidateRecordingRule(rule);
      return Fail(RuleError(i, rule, *t->get("signal"), s.message()));
    }
    for (Status s :
         {integer("cycle_ms", 1000, kMaxCycleMs, rule.cycle_ms),
          number("dead_band", rule.dead_band), number("dead_band_percent", rule.dead_band_percent),
          integer("heartbeat_ms", 0, kMaxHeartbeatMs, rule.heartbeat_ms)}) {
      if (!s.ok()) return Fail(s);
    }
    if (rule.cycle_ms % 1000 != 0) {
      return Fail(RuleError(i, rule, *t->get("cycle_ms"), "'cycle_ms' must be whole seconds"));
    }
    if (const toml::node* n = t->get("aggregate")) {
      const toml::array* list = n->as_array();
      if (list == nullptr || list->empty()) {
        return Fail(RuleError(i, rule, *n,
                              "'aggregate' must be a non-empty array of \"mean\", \"last\", "
                              "\"min\", \"max\""));
      }
      for (const toml::node& item : *list) {
        auto name = item.value<std::string>();
        auto parsed = item.is_string() ? ParseAggregate(*name) : std::nullopt;
        if (!parsed) {
          return Fail(RuleError(
              i, rule, item,
              fmt::format("unknown aggregate {} (use \"mean\", \"last\", \"min\" or \"max\")",
                          name ? "\"" + *name + "\"" : std::string("(not a string)"))));
        }
        rule.aggregates.push_back(*parsed);
      }
    } else if (rule.cycle_ms != 0) {
      rule.aggregates = {Aggregate::kMean};
    }
    if (Status s = ValidateRecordingRule(rule); !s.ok()) {
      return Fail(RuleError(i, rule, *t, s.message()));
    }
    if (!pairs.emplace(rule.meter, rule.signal).second) {
      return Fail(RuleError(i, rule, *t, "a rule for this meter and signal is given twice"));
    }
    out.push_back(std::move(rule));
  }
  return out;
}

namespace {

// The delta filter of one stored series: what was stored last.
struct Series {
  bool stored = false;
  double value = 0;
  Quality quality = Quality::kGood;
  int64_t ts_ms = 0;
};

struct SignalState {
  std::string name;
  const RecordingRule* rule = nullptr;  // nullptr: passes through
  size_t rule_index = 0;
  // The open cycle [cycle_start_ms, cycle_start_ms + rule->cycle_ms).
  bool open = false;
  int64_t cycle_start_ms = 0;
  std::string unit;
  SignalKind kind = SignalKind::kInstant;
  uint32_t valid = 0;  // values in the aggregates (invalid ones are left out)
  double sum = 0, min = 0, max = 0, last = 0;
  double last_raw = 0;  // the value of a cycle without valid values
  // One per stored series: the rule's aggregates (a counter: one), or the signal itself.
  std::vector<Series> series;
};

struct MeterState {
  std::string model;
  int64_t newest_ts_ms = std::numeric_limits<int64_t>::min();
  std::vector<SignalState> signals;  // in the order first seen
  std::unordered_map<std::string, size_t> index;
};

// floor(ts / cycle) * cycle, also for times before 1970.
int64_t CycleStart(int64_t ts_ms, int64_t cycle_ms) {
  int64_t q = ts_ms / cycle_ms;
  if (ts_ms % cycle_ms < 0) --q;
  return q * cycle_ms;
}

bool Valid(Quality q, double v) { return q != Quality::kInvalid && !std::isnan(v); }

}  // namespace

struct Recorder::State {
  std::vector<RecordingRule> rules;
  std::map<std::pair<std::string, std::string>, size_t, std::less<>> by_pair;
  Sink sink;
  std::map<std::string, MeterState, std::less<>> meters;
  std::set<std::pair<size_t, std::string>> counter_logged;  // (rule index, signal)

  // Most specific first: meter+signal, meter+*, *+signal, *+*.
  const RecordingRule* FindRule(const std::string& meter, const std::string& signal,
                                size_t& index) const {
    if (profiles::IsIdentitySignal(signal)) return nullptr;
    for (const auto& key : {std::pair<std::string, std::string>{meter, signal},
                            std::pair<std::string, std::string>{meter, "*"},
                            std::pair<std::string, std::string>{"*", signal},
                            std::pair<std::string, std::string>{"*", "*"}}) {
      if (auto it = by_pair.find(key); it != by_pair.end()) {
        index = it->second;
        return &rules[it->second];
      }
    }
    return nullptr;
  }

  SignalState& Signal(const std::string& meter_key, MeterState& meter, const std::string& name) {
    auto [it, inserted] = meter.index.try_emplace(name, meter.signals.size());
    if (inserted) {
      SignalState s;
      s.name = name;
      s.rule = FindRule(meter_key, name, s.rule_index);
      meter.signals.push_back(std::move(s));
    }
    return meter.signals[it->second];
  }

  // Whether the filter of `series` stores (value, quality) at ts_ms; updates it when it does.
  static bool Pass(const RecordingRule& rule, Series& series, double value, Quality quality,
                   int64_t ts_ms) {
    bool store = !series.stored || quality != series.quality || !HasBand(rule) ||
                 (rule.heartbeat_ms > 0 && ts_ms - series.ts_ms >= rule.heartbeat_ms);
    if (!store && quality != Quality::kInvalid) {
      if (std::isnan(value) || std::isnan(series.value)) {
        store = std::isnan(value) != std::isnan(series.value);
      } else {
        // Both bands set: the larger applies (the absolute one is a floor near zero).
        double band =
            std::max(rule.dead_band, std::abs(series.value) * rule.dead_band_percent / 100);
        store = std::abs(value - series.value) > band;
      }
    }
    if (store) series = Series{true, value, quality, ts_ms};
    return store;
  }

  void Accumulate(SignalState& s, const wire::SignalValue& v, int64_t ts_ms) {
    if (!s.open) {
      s.open = true;
      s.cycle_start_ms = CycleStart(ts_ms, s.rule->cycle_ms);
      s.valid = 0;
      s.sum = 0;
    }
    s.unit = v.unit;
    s.kind = v.kind;
    s.last_raw = v.value;
    if (!Valid(v.quality, v.value)) return;
    s.min = s.valid == 0 ? v.value : std::min(s.min, v.value);
    s.max = s.valid == 0 ? v.value : std::max(s.max, v.value);
    s.sum += v.value;
    s.last = v.value;
    ++s.valid;
  }

  // Ends the open cycle of `s`: its stored series go to out[cycle start].
  void Close(const std::string& meter_key, SignalState& s,
             std::map<int64_t, std::vector<wire::SignalValue>>& out) {
    s.open = false;
    const RecordingRule& rule = *s.rule;
    const Quality quality = s.valid == 0 ? Quality::kInvalid : Quality::kGood;
    std::vector<std::pair<std::string, double>> results;
    if (s.kind == SignalKind::kCounter) {
      // A counter's mean, minimum or maximum over a cycle means nothing; its last value is the
      // reading to keep (consumption comes from differences of it).
      if (std::any_of(rule.aggregates.begin(), rule.aggregates.end(),
                      [](Aggregate a) { return a != Aggregate::kLast; }) &&
          counter_logged.emplace(s.rule_index, s.name).second) {
        spdlog::warn(
            "recording: {} is a counter: it records its last value per cycle only (rule for "
            "{}/{}, first seen on meter {})",
            s.name, rule.meter, rule.signal, meter_key);
      }
      results.emplace_back(s.name, s.valid == 0 ? s.last_raw : s.last);
    } else {
      for (size_t i = 0; i < rule.aggregates.size(); ++i) {
        double v = s.last_raw;
        if (s.valid > 0) {
          switch (rule.aggregates[i]) {
            case Aggregate::kMean:
              v = s.sum / s.valid;
              break;
            case Aggregate::kLast:
              v = s.last;
              break;
            case Aggregate::kMin:
              v = s.min;
              break;
            case Aggregate::kMax:
              v = s.max;
              break;
          }
        }
        results.emplace_back(
            i == 0 ? s.name : fmt::format("{}.{}", s.name, AggregateName(rule.aggregates[i])), v);
      }
    }
    // A signal whose kind changed (another profile) starts its series afresh.
    if (s.series.size() != results.size()) s.series.assign(results.size(), Series{});
    for (size_t i = 0; i < results.size(); ++i) {
      if (!Pass(rule, s.series[i], results[i].second, quality, s.cycle_start_ms)) continue;
      out[s.cycle_start_ms].push_back(wire::SignalValue{std::move(results[i].first), s.unit, s.kind,
                                                        results[i].second, quality});
    }
  }

  void Emit(const std::string& meter_key, const MeterState& meter,
            std::map<int64_t, std::vector<wire::SignalValue>>& closed) {
    for (auto& [ts_ms, values] : closed) {
      sink(wire::MeterReading{meter_key, meter.model, ts_ms, std::move(values)});
    }
  }

  void FlushMeter(const std::string& meter_key, MeterState& meter) {
    std::map<int64_t, std::vector<wire::SignalValue>> closed;
    for (auto& s : meter.signals) {
      if (s.open) Close(meter_key, s, closed);
    }
    Emit(meter_key, meter, closed);
  }
};

Result<std::unique_ptr<Recorder>> Recorder::Create(std::vector<RecordingRule> rules, Sink sink) {
  auto state = std::make_unique<State>();
  for (size_t i = 0; i < rules.size(); ++i) {
    const RecordingRule& rule = rules[i];
    if (Status s = ValidateRecordingRule(rule); !s.ok()) {
      return Fail(InvalidArgument(
          fmt::format("recording rule {}/{}: {}", rule.meter, rule.signal, s.message())));
    }
    if (!state->by_pair.emplace(std::pair{rule.meter, rule.signal}, i).second) {
      return Fail(InvalidArgument(
          fmt::format("recording rule {}/{} is given twice", rule.meter, rule.signal)));
    }
  }
  state->rules = std::move(rules);
  state->sink = std::move(sink);
  return std::unique_ptr<Recorder>(new Recorder(std::move(state)));
}

Recorder::Recorder(std::unique_ptr<State> state) : state_(std::move(state)) {}
Recorder::~Recorder() = default;

const std::vector<RecordingRule>& Recorder::rules() const { return state_->rules; }

void Recorder::Add(wire::MeterReading reading) {
  State& st = *state_;
  if (st.rules.empty()) {
    st.sink(std::move(reading));
    return;
  }
  MeterState& meter = st.meters[reading.device];
  // Older than what the meter delivered before: its recorded history (first contact). It is
  // stored as read rather than mixed into cycles it does not belong to.
  if (reading.ts_ms < meter.newest_ts_ms) {
    st.sink(std::move(reading));
    return;
  }
  meter.newest_ts_ms = reading.ts_ms;
  meter.model = reading.model;
  const int64_t ts_ms = reading.ts_ms;
  // Every cycle of this meter that has ended, also of signals missing from this reading.
  std::map<int64_t, std::vector<wire::SignalValue>> closed;
  for (auto& s : meter.signals) {
    if (s.open && ts_ms >= s.cycle_start_ms + s.rule->cycle_ms) st.Close(reading.device, s, closed);
  }
  std::vector<wire::SignalValue> keep;
  for (auto& v : reading.values) {
    SignalState& s = st.Signal(reading.device, meter, v.signal);
    if (s.rule == nullptr) {
      keep.push_back(std::move(v));
    } else if (s.rule->cycle_ms > 0) {
      st.Accumulate(s, v, ts_ms);
    } else {
      if (s.series.size() != 1) s.series.assign(1, Series{});
      if (State::Pass(*s.rule, s.series[0], v.value, v.quality, ts_ms))
        keep.push_back(std::move(v));
    }
  }
  st.Emit(reading.device, meter, closed);
  if (!keep.empty()) {
    reading.values = std::move(keep);
    st.sink(std::move(reading));
  }
}

void Recorder::Flush() {
  State& st = *state_;
  for (auto& [key, meter] : st.meters) st.FlushMeter(key, meter);
  st.meters.clear();
}

void Recorder::FlushMeter(std::string_view meter) {
  State& st = *state_;
  auto it = st.meters.find(meter);
  if (it == st.meters.end()) return;
  st.FlushMeter(it->first, it->second);
  st.meters.erase(it);
}

}  // namespace wattline::edge
