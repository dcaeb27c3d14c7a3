// Recorder: what the connector stores of each signal, between the poller's sink and the durable
// queue. Without rules every reading passes through unchanged. A RecordingRule for a signal
// (of one meter or of all) turns its polled values into one of:
//   - cycles: the values of each wall-clock-aligned cycle [k*cycle, (k+1)*cycle) (UTC ms) are
//     reduced to one value per aggregate (mean, last, min, max), stamped at the cycle start. The
//     first aggregate of the rule keeps the signal's name, the others are stored as
//     "<signal>.<aggregate>" (e.g. "active_power_total.max"). A cycle is emitted when a reading of
//     its meter from a later cycle arrives, or by Flush. Invalid values are left out of the
//     aggregates (also `last`); a cycle holding only invalid values is emitted as kInvalid.
//     Counters (SignalKind::kCounter) only have a `last`: under any rule they record their last
//     value under the signal's name (logged once per rule and signal when the rule asks for more).
//   - delta events (a dead band set): a value is stored only when it moved more than the band from
//     the last stored value, when its quality changed, or when heartbeat_ms has passed since the
//     last stored one; the first value after start is always stored. With a cycle the band
//     applies to each cycle result series on its own.
//   - neither (a rule with no cycle and no band): every value is stored, which exempts a signal
//     from a wider rule.
// Identity signals and signals without a rule pass through untouched; so does a reading older
// than the newest one seen from its meter (recorded history delivered at first contact). A
// reading that ends up with no values is not emitted. Emitted readings of one meter are in time
// order: finished cycles first, then what the triggering reading keeps.
//
// Crash behaviour: the recorder holds only the open cycle of each signal in memory; Flush (on a
// clean stop) emits them, so a clean stop loses nothing and a crash loses at most the open cycle.
// After Flush the recorder starts afresh: a restart within a cycle records that cycle again, at
// the same start time, from the values polled after the restart.
//
// Memory: state per (meter, signal) only. Clock-free: times come from the readings.
// Thread-safety: none; call Add and Flush from one thread (the poller's io_context thread). The
// sink is called synchronously from Add and Flush.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "wire/reading.h"

namespace wattline::edge {

enum class Aggregate : uint8_t { kMean = 0, kLast = 1, kMin = 2, kMax = 3 };

// "mean", "last", "min", "max" (configuration and series suffixes), and back; nullopt otherwise.
std::string_view AggregateName(Aggregate aggregate);
std::optional<Aggregate> ParseAggregate(std::string_view name);

struct RecordingRule {
  std::string meter = "*";  // a meter key, or "*" for every meter
  std::string signal;       // a vocabulary signal name, or "*" for every signal
  // 0: no cycle (every polled value is a candidate). Otherwise at least 1000, whole seconds.
  int64_t cycle_ms = 0;
  // REQUIRES: non-empty and without repeats when cycle_ms is set; empty otherwise.
  std::vector<Aggregate> aggregates;
  double dead_band = 0;          // absolute, in the signal's unit; 0 = off
  double dead_band_percent = 0;  // of the last stored value's magnitude; 0 = off
  // (With both bands set the larger applies: the absolute band is a floor near zero.)
  // With a dead band: store a value at the latest this long after the last stored one. 0 = none.
  int64_t heartbeat_ms = 0;
};

// Checks one rule as the Recorder needs it: kInvalidArgument with the reason (no signal, an
// unknown or identity signal name, a cycle under 1 s or not whole seconds, aggregates without a
// cycle or repeated, negative or non-finite bands, a heartbeat without a band).
Status ValidateRecordingRule(const RecordingRule& rule);

// Reads the `[[recording]]` array of tables of a config: meter (default "*"), signal (required,
// "*" allowed), cycle_ms (1000..86400000, multiple of 1000), aggregate (array of "mean", "last",
// "min", "max"; default ["mean"] with cycle_ms), dead_band, dead_band_percent (numbers >= 0),
// heartbeat_ms (0..31 days, needs a band). kInvalidArgument naming the table's index, its
// meter/signal, the key and the line for a wrong value or type, an unknown key or aggregate, an
// unknown signal, or a (meter, signal) pair given twice. No [[recording]] tables: empty list.
Result<std::vector<RecordingRule>> RecordingRulesFromToml(const toml::table& config);

class Recorder {
 public:
  using Sink = std::function<void(wire::MeterReading)>;

  // kInvalidArgument when a rule fails ValidateRecordingRule or a (meter, signal) pair repeats.
  static Result<std::unique_ptr<Recorder>> Create(std::vector<RecordingRule> rules, Sink sink);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Takes one poll (or recorded value) of a meter; hands what is to be stored to the sink.
  void Add(wire::MeterReading reading);

  // Emits every open cycle (as if its end had passed) and forgets all state.
  void Flush();
  // The same for one meter, e.g. when it is no longer polled.
  void FlushMeter(std::string_view meter);

  const std::vector<RecordingRule>& rules() const;

  struct State;

 private:
  explicit Recorder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace wattline::edge
