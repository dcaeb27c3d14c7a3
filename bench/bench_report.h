// Shared by the benchmarks' reports: warnings about conditions that make the figures
// unrepresentative, and the target verdict.
#pragma once

#include <fmt/format.h>

#include <string>

namespace wattline::bench {

// `load1` is the 1-minute load average before the benchmark started.
inline std::string BuildNotes(double load1) {
  std::string notes;
  if (load1 >= 0.5) {
    notes += fmt::format(
        "\n> WARNING: load average {:.1f} before the run: other processes compete for the CPUs "
        "and distort the figures.",
        load1);
  }
#ifndef NDEBUG
  notes += "\n> WARNING: assertions on (NDEBUG not defined): figures are not representative.";
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  notes += "\n> WARNING: built with sanitizers: figures are not representative.";
#endif
  return notes;
}

inline const char* Verdict(bool pass) { return pass ? "met" : "MISSED"; }

}  // namespace wattline::bench
