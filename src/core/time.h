// Clocks. Sample timestamps use wall-clock time (Unix milliseconds, UTC); intervals and
// timeouts use monotonic time. Code that must be tested without sleeping takes a TimeSource.
// Thread-safety: implementations must be safe to call from any thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace wattline {

using SystemTime = std::chrono::system_clock::time_point;
using MonotonicTime = std::chrono::steady_clock::time_point;

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual SystemTime SystemNow() = 0;
  virtual MonotonicTime MonotonicNow() = 0;
};

// The real clocks. The returned object lives for the whole program.
TimeSource& RealTime();

// Milliseconds since the Unix epoch.
inline int64_t ToUnixMs(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline SystemTime FromUnixMs(int64_t ms) { return SystemTime(std::chrono::milliseconds(ms)); }

}  // namespace wattline
