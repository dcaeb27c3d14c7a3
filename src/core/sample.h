// The unit of data that flows from meter to browser.
#pragma once

#include <cstdint>
#include <string>

namespace wattline {

// Quality of a sample, part of the wire and storage formats: never renumber.
enum class Quality : uint8_t {
  kGood = 0,
  kInvalid = 1,  // the meter reported its invalid-value sentinel
  kManual = 2,   // entered by a person
};

// The name of a quality in JSON answers: "good", "invalid" or "manual".
constexpr const char* QualityName(Quality q) {
  switch (q) {
    case Quality::kGood:
      return "good";
    case Quality::kInvalid:
      return "invalid";
    case Quality::kManual:
      return "manual";
  }
  return "invalid";
}

// Whether a signal is a momentary reading or a counter that only grows (energy).
enum class SignalKind : uint8_t {
  kInstant = 0,
  kCounter = 1,
};

// One measured value of one signal of one device, as the connector sees it.
struct Sample {
  int64_t ts_ms = 0;  // Unix milliseconds, UTC
  double value = 0;
  Quality quality = Quality::kGood;
};

}  // namespace wattline
