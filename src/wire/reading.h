// One poll of one meter: what the connector's poller produces, the durable queue stores and the
// uplink sends. Encoding lives in reading_codec.h; the batch that carries readings in batch.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/sample.h"

namespace wattline::wire {

struct SignalValue {
  std::string signal;  // name from the fixed vocabulary, e.g. "active_power_total"
  std::string unit;    // "W", "Wh", "V", ...
  SignalKind kind = SignalKind::kInstant;
  double value = 0;
  Quality quality = Quality::kGood;
};

struct MeterReading {
  std::string device;  // the meter's stable key on this connector, e.g. "meter-01"
  std::string model;   // profile model, e.g. "Janitza UMG 96RM-E"
  int64_t ts_ms = 0;   // when the values were read (Unix ms, UTC)
  std::vector<SignalValue> values;
};

}  // namespace wattline::wire
