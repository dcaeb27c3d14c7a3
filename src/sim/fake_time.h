// FakeTime: a TimeSource for tests that only moves when told to.
#pragma once

#include "core/time.h"

namespace wattline::sim {

class FakeTime final : public TimeSource {
 public:
  explicit FakeTime(SystemTime start) : system_(start) {}
  SystemTime SystemNow() override { return system_; }
  MonotonicTime MonotonicNow() override { return monotonic_; }
  void Advance(std::chrono::nanoseconds d) {
    system_ += std::chrono::duration_cast<SystemTime::duration>(d);
    monotonic_ += d;
  }

 private:
  SystemTime system_;
  MonotonicTime monotonic_{};
};

}  // namespace wattline::sim
