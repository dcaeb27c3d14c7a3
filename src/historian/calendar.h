// Calendar: the boundaries of rollup intervals (minor, hour, 2 h, day, week, month, quarter,
// year) in one IANA time zone, as Unix milliseconds (UTC). Every interval is defined on the
// local wall clock (docs/rollups.md):
//  - minor and hour intervals follow the local clock's minutes (in a +05:30 zone hours start at
//    local :00); they never span a change of UTC offset, so when the clock goes back the
//    repeated local hour is two intervals, and a 30-minute shift cuts an hour in two;
//  - 2-hour, day, week (ISO, Monday), month, quarter and year intervals start at the first
//    instant at which the local clock reads their start (local even hour or midnight of the
//    first day). A start that the clock skips begins at the instant of the jump, a repeated one
//    at its first occurrence: DST days have 23 or 25 hours and one 2-hour interval 1 or 3 hours.
// The time zone database is the OS one (/usr/share/zoneinfo, Debian package tzdata) read
// through Howard Hinnant's date library; after the last transition listed in a zone's file
// (2037 in Debian's files) the zone's POSIX TZ rule from the file's footer continues it.
// Supported instants: years 1800..2999 (kMinMs..kMaxMs); others are treated as the nearer
// limit, so Floor(t) <= t holds only inside that range.
// Thread-safety: a Calendar is immutable after Create; copies and concurrent calls are safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "historian/posix_tz.h"

namespace date {
class time_zone;
}

namespace wattline::historian {

enum class Interval : uint8_t { kMinor, kHour, kTwoHours, kDay, kWeek, kMonth, kQuarter, kYear };

// "minor" (also accepted: "15min"), "hour", "2h", "day", "week", "month", "quarter", "year".
std::string_view IntervalName(Interval interval);
// The inverse of IntervalName; kInvalidArgument (naming the text) for anything else.
Result<Interval> ParseInterval(std::string_view name);

class Calendar {
 public:
  static constexpr int64_t kMinMs = -5'364'662'400'000;  // 1800-01-01T00:00Z
  static constexpr int64_t kMaxMs = 32'503'680'000'000;  // 3000-01-01T00:00Z

  // A calendar for `iana_zone` ("Europe/Berlin") whose minor interval is `minor` long.
  // kInvalidArgument for an unknown zone (the message names it) or a minor interval that does
  // not divide an hour (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60 minutes);
  // kFailedPrecondition when the OS time zone database cannot be read (install tzdata).
  static Result<Calendar> Create(std::string_view iana_zone,
                                 std::chrono::minutes minor = std::chrono::minutes{15});

  // Start (Unix ms, UTC) of the interval that contains ts_ms: Floor(t) <= t < Next(Floor(t)).
  int64_t Floor(Interval interval, int64_t ts_ms) const;
  // Start of the interval after the one that contains start_ms (normally a Floor result).
  int64_t Next(Interval interval, int64_t start_ms) const;
  // The start of the interval containing from_ms, then every interval start in
  // (from_ms, to_ms), in order. Empty when to_ms <= from_ms. The caller bounds the range: a
  // year of minor intervals is 35,040 entries.
  std::vector<int64_t> Starts(Interval interval, int64_t from_ms, int64_t to_ms) const;
  // Local wall-clock text of an instant with its UTC offset, "2025-03-30T03:00+02:00";
  // seconds and milliseconds are added when not zero ("...T03:00:07.250+02:00").
  std::string Local(int64_t ts_ms) const;
  // UTC offset in force at ts_ms, in seconds (local = UTC + offset).
  int32_t UtcOffsetSeconds(int64_t ts_ms) const;

  const std::string& zone() const { return zone_; }
  std::chrono::minutes minor() const { return std::chrono::minutes{minor_s_ / 60}; }

 private:
  Calendar() = default;

  // The offset at t_s from the zone file, or from its POSIX rule after the file's last entry.
  OffsetSpan RawSpan(int64_t t_s) const;
  // RawSpan widened over neighbours with the same offset (abbreviation-only changes).
  OffsetSpan Span(int64_t t_s) const;
  // The first instant at which the local clock reads local_s or later.
  int64_t FirstAtOrAfterLocal(int64_t local_s) const;
  int64_t FloorSeconds(Interval interval, int64_t t_s) const;
  int64_t NextSeconds(Interval interval, int64_t t_s) const;

  std::string zone_;
  const date::time_zone* tz_ = nullptr;  // owned by the date library's database; never freed
  std::optional<PosixTz> rule_;          // footer rule; empty when the file has none
  int32_t minor_s_ = 900;
};

}  // namespace wattline::historian
