// PosixTz: a POSIX TZ rule such as "CET-1CEST,M3.5.0,M10.5.0/3", as stored in the footer of a
// TZif file (RFC 8536, section 3.3). The footer gives a zone's offsets after the last transition
// listed in the file; Debian's files list transitions only up to 2037, so Calendar uses this rule
// for later instants.
// Thread-safety: an immutable value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace wattline::historian {

// A stretch of time [begin_s, end_s) (Unix seconds) with one UTC offset. Bounds may be the
// sentinels kSpanMin / kSpanMax when the offset holds indefinitely.
struct OffsetSpan {
  int64_t begin_s = 0;
  int64_t end_s = 0;
  int32_t offset_s = 0;  // local time = UTC + offset_s
};
inline constexpr int64_t kSpanMin = INT64_MIN / 4;
inline constexpr int64_t kSpanMax = INT64_MAX / 4;

// The POSIX TZ rule in the footer of the TZif (version 2 or later) file at `path`: the text
// between the file's last two newlines. Empty when the file cannot be read, is not TZif v2+ or
// has an empty footer. Reads at most 1 MiB.
std::string ReadTzifFooter(const std::string& path);

class PosixTz {
 public:
  // Parses a TZ string: std offset [dst [offset] ,start[/time],end[/time]], names plain or in
  // <...>, rules Jn, n or Mm.w.d, transition times up to +-167 h (RFC 8536 extension).
  // Returns kInvalidArgument (naming the position) for anything else, including an empty string
  // and a DST name without rules.
  static Result<PosixTz> Parse(std::string_view tz);

  // The offset in force at `t_s` and the span around it between two rule transitions.
  // Instants beyond +-9e11 s (about year 30,000) are treated as that limit.
  OffsetSpan At(int64_t t_s) const;

  bool has_dst() const { return has_dst_; }

 private:
  struct Rule {
    enum class Kind : uint8_t { kJulian1, kJulian0, kMonthWeekDay };
    Kind kind = Kind::kMonthWeekDay;
    int month = 0;  // kMonthWeekDay: 1..12
    int week = 0;   // kMonthWeekDay: 1..5, 5 = last
    int day = 0;    // day of year (kJulian*) or weekday 0 = Sunday (kMonthWeekDay)
    int32_t time_s = 7200;
  };

  // Unix seconds of `rule` in `year` when the local clock before it runs at `offset_s`.
  static int64_t TransitionUtc(int64_t year, const Rule& rule, int32_t offset_s);

  int32_t std_offset_s_ = 0;
  int32_t dst_offset_s_ = 0;
  bool has_dst_ = false;
  Rule start_;
  Rule end_;
};

}  // namespace wattline::historian
