// SampleStore: the historian's narrow interface (append, latest, range). The first
// implementation keeps one row per sample in SQLite; the compressed engine replaces it behind
// this same interface.
// Thread-safety: implementations are safe to call from several threads.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/sample.h"
#include "core/status.h"

namespace wattline::historian {

struct StoredSample {
  int64_t signal_id = 0;
  int64_t ts_ms = 0;
  double value = 0;
  Quality quality = Quality::kGood;
};

class SampleStore {
 public:
  virtual ~SampleStore() = default;

  // Stores the samples durably: when Append returns OK they survive a crash or power cut.
  // A sample whose (signal_id, ts_ms) is already stored is ignored, so replays are harmless.
  virtual Status Append(std::span<const StoredSample> samples) = 0;

  // The newest sample of each of `signal_ids` that has one, in no particular order.
  virtual Result<std::vector<StoredSample>> Latest(std::span<const int64_t> signal_ids) = 0;

  // Samples of one signal with from_ms <= ts < to_ms in time order, at most `limit` of them.
  virtual Result<std::vector<StoredSample>> Range(int64_t signal_id, int64_t from_ms, int64_t to_ms,
                                                  size_t limit) = 0;

  // Number of stored samples of one signal in [from_ms, to_ms).
  virtual Result<int64_t> Count(int64_t signal_id, int64_t from_ms, int64_t to_ms) = 0;
};

// Thins `points` (time-ordered, within [from_ms, to_ms)) to at most max_points by splitting the
// range into max_points/2 equal buckets and keeping each bucket's minimum and maximum in time
// order, so that peaks survive. Returns the input when it is already small enough.
std::vector<StoredSample> DownsampleMinMax(const std::vector<StoredSample>& points, int64_t from_ms,
                                           int64_t to_ms, size_t max_points);

}  // namespace wattline::historian
