// Rollup arithmetic: the aggregate of one signal over one interval (min, max, time-weighted
// mean, first, last, count and, for counters, consumption), and the combination of aggregates
// of finer intervals into a coarser one. Pure functions of their arguments: no storage, no
// clock. Definitions in docs/rollups.md.
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>

namespace wattline::historian {

struct Sample {
  int64_t ts_ms = 0;
  double value = 0;
};

struct Aggregate {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int64_t count = 0;  // finite samples in [start_ms, end_ms)
  // Of those samples; NaN (and timestamps 0) when count is 0. On ties the earliest sample.
  double min = kNaN;
  double max = kNaN;
  double first = kNaN;
  double last = kNaN;
  int64_t min_ts_ms = 0;
  int64_t max_ts_ms = 0;
  int64_t first_ts_ms = 0;
  int64_t last_ts_ms = 0;
  // Time-weighted (sample-and-hold) mean over weighted_ms; NaN when weighted_ms is 0.
  double mean = kNaN;
  int64_t weighted_ms = 0;
  // Counters only: what the meter counted in the interval (sum of deltas between readings).
  std::optional<double> consumption;
};

struct RollupOptions {
  bool counter = false;     // the signal is a meter reading that grows (energy)
  double counter_wrap = 0;  // e.g. 4294967296 for a uint32 register; 0 = unknown
  int64_t max_hold_ms = 0;  // 0: no limit; a sample holds its value at most this long
};

// Aggregate of the samples in [start_ms, end_ms).
// REQUIRES: samples sorted by time (unsorted input gives meaningless figures, never a crash).
// Samples outside [start_ms, end_ms) are ignored. NaN and infinite values are skipped as if
// absent: they are not counted and the previous value keeps holding. `before` is the last
// finite sample before start_ms, if any: it holds into the interval and is the base of the
// first counter delta. `after` is the first finite sample at or after end_ms, if any; with
// sample-and-hold it cannot change the result (holds are cut at end_ms) and is accepted so that
// every caller passes the same neighbours. Non-finite or misplaced before/after are ignored.
// Times are clamped to +-2^62 ms; end_ms <= start_ms gives an empty aggregate.
Aggregate Compute(int64_t start_ms, int64_t end_ms, std::span<const Sample> samples,
                  std::optional<Sample> before, std::optional<Sample> after,
                  const RollupOptions& options);

enum class MinMaxFrom : uint8_t {
  kSamples,  // min/max of the parts' min/max: the extreme samples
  kMeans,    // min/max of the parts' means: "the day's lowest 2-hour mean"; *_ts_ms is the
             // start of that part
};

// The aggregate of [start_ms, end_ms) from aggregates of finer intervals that tile it (a day
// from its 2-hour values). count, first, last and consumption add up exactly; mean is weighted
// by weighted_ms; min/max per `from`. Parts may be missing (gaps) and come in any order; parts
// not inside [start_ms, end_ms) are ignored. consumption is empty when no part has one.
Aggregate Combine(int64_t start_ms, int64_t end_ms, std::span<const Aggregate> parts,
                  MinMaxFrom from);

}  // namespace wattline::historian
