#include "core/time.h"

namespace wattline {
namespace {
class RealTimeSource final : public TimeSource {
 public:
  SystemTime SystemNow() override { return std::chrono::system_clock::now(); }
  MonotonicTime MonotonicNow() override { return std::chrono::steady_clock::now(); }
};
}  // namespace

TimeSource& RealTime() {
  static RealTimeSource source;
  return source;
}

}  // namespace wattline
