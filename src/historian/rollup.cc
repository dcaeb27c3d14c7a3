#include "historian/rollup.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace wattline::historian {
namespace {

// Clamping every time to +-2^62 keeps differences and sums of two times inside int64.
constexpr int64_t kTimeLimit = int64_t{1} << 62;

int64_t ClampTime(int64_t t) { return std::clamp(t, -kTimeLimit, kTimeLimit); }

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return r;
}

// What a counter counted from reading `prev` to reading `cur`.
double CounterDelta(double prev, double cur, double wrap) {
  if (cur >= prev) return cur - prev;
  // A drop from the top tenth of the register's range into the bottom tenth is the register
  // rolling over; any other drop is the meter restarting from zero.
  if (wrap > 0 && prev >= 0.9 * wrap && cur < 0.1 * wrap) return wrap - prev + cur;
  return cur;
}

class MinMax {
 public:
  // Strict comparisons keep the earliest of equal values (callers feed in time order).
  void Add(Aggregate* a, double min_v, int64_t min_ts, double max_v, int64_t max_ts) {
    if (!seen_ || min_v < a->min) {
      a->min = min_v;
      a->min_ts_ms = min_ts;
    }
    if (!seen_ || max_v > a->max) {
      a->max = max_v;
      a->max_ts_ms = max_ts;
    }
    seen_ = true;
  }

 private:
  bool seen_ = false;
};

}  // namespace

Aggregate Compute(int64_t start_ms, int64_t end_ms, std::span<const Sample> samples,
                  std::optional<Sample> before, std::optional<Sample> after,
                  const RollupOptions& options) {
  Aggregate a;
  a.start_ms = ClampTime(start_ms);
  a.end_ms = ClampTime(end_ms);
  if (options.counter) a.consumption = 0.0;
  if (a.end_ms <= a.start_ms) return a;
  const int64_t start = a.start_ms;
  const int64_t end = a.end_ms;

  std::optional<Sample> prev;
  if (before && std::isfinite(before->value) && before->ts_ms < start) prev = before;
  int64_t hold_limit = end;
  if (after && std::isfinite(after->value) && after->ts_ms >= end) {
    hold_limit = std::min(hold_limit, ClampTime(after->ts_ms));
  }

  double integral = 0;
  // The value of `s` holds from its time until `until`, at most max_hold_ms, inside the interval.
  auto hold = [&](const Sample& s, int64_t until) {
    if (options.max_hold_ms > 0)
      until = std::min(until, SaturatingAdd(s.ts_ms, options.max_hold_ms));
    int64_t from = std::max(s.ts_ms, start);
    until = std::min(until, end);
    if (until <= from) return;
    integral += s.value * static_cast<double>(until - from);
    a.weighted_ms += until - from;
  };

  MinMax extremes;
  for (const Sample& s : samples) {
    if (!std::isfinite(s.value) || s.ts_ms < start || s.ts_ms >= end) continue;
    if (prev) {
      hold(*prev, s.ts_ms);
      if (options.counter)
        *a.consumption += CounterDelta(prev->value, s.value, options.counter_wrap);
    }
    if (a.count == 0) {
      a.first = s.value;
      a.first_ts_ms = s.ts_ms;
    }
    a.last = s.value;
    a.last_ts_ms = s.ts_ms;
    extremes.Add(&a, s.value, s.ts_ms, s.value, s.ts_ms);
    ++a.count;
    prev = s;
  }
  if (prev) hold(*prev, hold_limit);
  if (a.weighted_ms > 0) a.mean = integral / static_cast<double>(a.weighted_ms);
  return a;
}

Aggregate Combine(int64_t start_ms, int64_t end_ms, std::span<const Aggregate> parts,
                  MinMaxFrom from) {
  Aggregate a;
  a.start_ms = ClampTime(start_ms);
  a.end_ms = ClampTime(end_ms);

  std::vector<const Aggregate*> inside;
  inside.reserve(parts.size());
  for (const Aggregate& p : parts) {
    if (p.start_ms >= a.start_ms && p.end_ms <= a.end_ms && p.start_ms < p.end_ms) {
      inside.push_back(&p);
    }
  }
  std::stable_sort(inside.begin(), inside.end(), [](const Aggregate* x, const Aggregate* y) {
    return x->start_ms < y->start_ms;
  });

  double weighted_sum = 0;
  MinMax extremes;
  for (const Aggregate* p : inside) {
    if (p->count > 0) {
      if (a.count == 0) {
        a.first = p->first;
        a.first_ts_ms = p->first_ts_ms;
      }
      a.last = p->last;
      a.last_ts_ms = p->last_ts_ms;
      a.count += p->count;
      if (from == MinMaxFrom::kSamples) {
        extremes.Add(&a, p->min, p->min_ts_ms, p->max, p->max_ts_ms);
      }
    }
    if (p->weighted_ms > 0 && std::isfinite(p->mean)) {
      weighted_sum += p->mean * static_cast<double>(p->weighted_ms);
      a.weighted_ms = SaturatingAdd(a.weighted_ms, p->weighted_ms);
      if (from == MinMaxFrom::kMeans) {
        extremes.Add(&a, p->mean, p->start_ms, p->mean, p->start_ms);
      }
    }
    if (p->consumption) a.consumption = a.consumption.value_or(0.0) + *p->consumption;
  }
  if (a.weighted_ms > 0) a.mean = weighted_sum / static_cast<double>(a.weighted_ms);
  return a;
}

}  // namespace wattline::historian
