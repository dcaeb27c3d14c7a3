#include "historian/calendar.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <stdexcept>

namespace wattline::historian {
namespace {

// Where Debian's date library (built with USE_OS_TZDB) reads the zones from.
constexpr std::string_view kZoneInfoDir = "/usr/share/zoneinfo";

constexpr int64_t kMinS = Calendar::kMinMs / 1000;
constexpr int64_t kMaxS = Calendar::kMaxMs / 1000;
// Lookups stay inside this range: the supported range plus room for the searches around it.
constexpr int64_t kLookupMinS = kMinS - 400 * 86400;
constexpr int64_t kLookupMaxS = kMaxS + 400 * 86400;
// date::sys_info marks "no further transition" with an end near the year 32767.
constexpr int64_t kOpenEndS = 100'000'000'000;
// UTC offsets have never exceeded 16 hours (local mean time in 1844 Manila: -15:56).
constexpr int64_t kMaxOffsetS = 26 * 3600;

constexpr int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && (a < 0)); }
constexpr int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

struct Name {
  Interval interval;
  std::string_view name;
};
constexpr std::array<Name, 9> kNames = {{
    {Interval::kMinor, "minor"},
    {Interval::kMinor, "15min"},
    {Interval::kHour, "hour"},
    {Interval::kTwoHours, "2h"},
    {Interval::kDay, "day"},
    {Interval::kWeek, "week"},
    {Interval::kMonth, "month"},
    {Interval::kQuarter, "quarter"},
    {Interval::kYear, "year"},
}};

date::sys_days ToDays(int64_t days) { return date::sys_days{date::days{static_cast<int>(days)}}; }
int64_t DaysOf(date::sys_days d) { return d.time_since_epoch().count(); }

// Local wall-clock seconds of the start of the calendar interval that contains local_s.
int64_t LocalFloor(Interval interval, int64_t local_s) {
  int64_t days = FloorDiv(local_s, 86400);
  int64_t second_of_day = local_s - days * 86400;
  date::year_month_day ymd{ToDays(days)};
  switch (interval) {
    case Interval::kTwoHours:
      return days * 86400 + second_of_day / 7200 * 7200;
    case Interval::kWeek: {
      // ISO weeks start on Monday; weekday difference is always 0..6.
      int64_t back = (date::weekday{ToDays(days)} - date::Monday).count();
      return (days - back) * 86400;
    }
    case Interval::kMonth:
      return DaysOf(date::sys_days{ymd.year() / ymd.month() / 1}) * 86400;
    case Interval::kQuarter: {
      unsigned month = (static_cast<unsigned>(ymd.month()) - 1) / 3 * 3 + 1;
      return DaysOf(date::sys_days{ymd.year() / date::month{month} / 1}) * 86400;
    }
    case Interval::kYear:
      return DaysOf(date::sys_days{ymd.year() / 1 / 1}) * 86400;
    case Interval::kDay:
    case Interval::kMinor:
    case Interval::kHour:
      break;
  }
  return days * 86400;
}

// The local start of the calendar interval after the one starting at local_start_s.
int64_t LocalNext(Interval interval, int64_t local_start_s) {
  int64_t days = FloorDiv(local_start_s, 86400);
  date::year_month_day ymd{ToDays(days)};
  switch (interval) {
    case Interval::kTwoHours:
      return local_start_s + 7200;
    case Interval::kWeek:
      return local_start_s + 7 * 86400;
    case Interval::kMonth:
      return DaysOf(date::sys_days{ymd + date::months{1}}) * 86400;
    case Interval::kQuarter:
      return DaysOf(date::sys_days{ymd + date::months{3}}) * 86400;
    case Interval::kYear:
      return DaysOf(date::sys_days{ymd + date::years{1}}) * 86400;
    case Interval::kDay:
    case Interval::kMinor:
    case Interval::kHour:
      break;
  }
  return local_start_s + 86400;
}

}  // namespace

std::string_view IntervalName(Interval interval) {
  for (const Name& n : kNames) {
    if (n.interval == interval) return n.name;
  }
  return "unknown";
}

Result<Interval> ParseInterval(std::string_view name) {
  for (const Name& n : kNames) {
    if (n.name == name) return n.interval;
  }
  return Fail(InvalidArgument(fmt::format(
      "unknown interval \"{}\" (expected minor, 15min, hour, 2h, day, week, month, quarter or "
      "year)",
      name)));
}

Result<Calendar> Calendar::Create(std::string_view iana_zone, std::chrono::minutes minor) {
  if (minor.count() <= 0 || 60 % minor.count() != 0) {
    return Fail(InvalidArgument(fmt::format(
        "minor interval of {} minutes does not divide an hour (use 1, 2, 3, 4, 5, 6, 10, 12, 15, "
        "20, 30 or 60)",
        minor.count())));
  }
  try {
    date::get_tzdb();
  } catch (const std::exception& e) {
    return Fail(FailedPrecondition(fmt::format(
        "cannot read the time zone database in {} (install tzdata): {}", kZoneInfoDir, e.what())));
  }
  Calendar c;
  try {
    c.tz_ = date::locate_zone(iana_zone);
  } catch (const std::exception&) {
    c.tz_ = nullptr;
  }
  if (c.tz_ == nullptr) {
    return Fail(InvalidArgument(fmt::format("unknown time zone \"{}\"", iana_zone)));
  }
  c.zone_ = std::string(iana_zone);
  c.minor_s_ = static_cast<int32_t>(minor.count() * 60);
  std::string path = fmt::format("{}/{}", kZoneInfoDir, c.tz_->name());
  std::string footer = ReadTzifFooter(path);
  if (!footer.empty()) {
    auto rule = PosixTz::Parse(footer);
    if (rule) {
      c.rule_ = *rule;
    } else {
      spdlog::warn("time zone {}: ignoring the rule in {}: {}", c.zone_, path,
                   rule.error().ToString());
    }
  }
  return c;
}

OffsetSpan Calendar::RawSpan(int64_t t_s) const {
  t_s = std::clamp(t_s, kLookupMinS, kLookupMaxS);
  date::sys_info info = tz_->get_info(date::sys_seconds{std::chrono::seconds{t_s}});
  OffsetSpan span{info.begin.time_since_epoch().count(), info.end.time_since_epoch().count(),
                  static_cast<int32_t>(info.offset.count())};
  if (rule_ && span.end_s >= kOpenEndS) {
    // After the file's last transition the footer rule decides; its spans start no earlier
    // than that transition.
    OffsetSpan r = rule_->At(t_s);
    r.begin_s = std::max(r.begin_s, span.begin_s);
    span = r;
  }
  span.begin_s = std::max(span.begin_s, kSpanMin);
  span.end_s = std::min(span.end_s, kSpanMax);
  return span;
}

OffsetSpan Calendar::Span(int64_t t_s) const {
  OffsetSpan span = RawSpan(t_s);
  // Abbreviation-only transitions (e.g. a renamed zone) do not move the clock: merge them.
  for (int i = 0; i < 8 && span.begin_s > kLookupMinS; ++i) {
    OffsetSpan before = RawSpan(span.begin_s - 1);
    if (before.offset_s != span.offset_s) break;
    span.begin_s = before.begin_s;
  }
  for (int i = 0; i < 8 && span.end_s < kLookupMaxS; ++i) {
    OffsetSpan after = RawSpan(span.end_s);
    if (after.offset_s != span.offset_s) break;
    span.end_s = after.end_s;
  }
  return span;
}

int64_t Calendar::FirstAtOrAfterLocal(int64_t local_s) const {
  // Scan forward from an instant whose local time is surely earlier; the first offset span
  // whose local times reach local_s holds the answer: local_s itself if the span shows it,
  // else the span's start (the clock jumped over local_s).
  int64_t t = local_s - kMaxOffsetS;
  OffsetSpan span{};
  for (int i = 0; i < 16; ++i) {
    span = Span(t);
    if (span.end_s > local_s - span.offset_s) return std::max(t, local_s - span.offset_s);
    t = span.end_s;
  }
  return local_s - span.offset_s;
}

int64_t Calendar::FloorSeconds(Interval interval, int64_t t_s) const {
  if (interval == Interval::kMinor || interval == Interval::kHour) {
    int64_t unit = interval == Interval::kHour ? 3600 : minor_s_;
    OffsetSpan span = Span(t_s);
    return std::max(t_s - FloorMod(t_s + span.offset_s, unit), span.begin_s);
  }
  int64_t local_start = LocalFloor(interval, t_s + Span(t_s).offset_s);
  int64_t start = FirstAtOrAfterLocal(local_start);
  // After the clock went back, the local time can read less than a start that has already
  // passed: the latest start at or before t_s wins.
  for (int i = 0; i < 4; ++i) {
    int64_t next_local = LocalNext(interval, local_start);
    int64_t next = FirstAtOrAfterLocal(next_local);
    if (next > t_s) break;
    local_start = next_local;
    start = next;
  }
  return start;
}

int64_t Calendar::NextSeconds(Interval interval, int64_t t_s) const {
  if (interval == Interval::kMinor || interval == Interval::kHour) {
    int64_t unit = interval == Interval::kHour ? 3600 : minor_s_;
    OffsetSpan span = Span(t_s);
    return std::min(t_s - FloorMod(t_s + span.offset_s, unit) + unit, span.end_s);
  }
  int64_t local_start = LocalFloor(interval, t_s + Span(t_s).offset_s);
  // Skip starts that the clock jumped over together (an empty interval, as when Samoa skipped
  // 2011-12-30) and starts already passed before a clock change.
  int64_t next = t_s + 1;
  for (int i = 0; i < 8; ++i) {
    local_start = LocalNext(interval, local_start);
    next = FirstAtOrAfterLocal(local_start);
    if (next > t_s) break;
  }
  return next;
}

int64_t Calendar::Floor(Interval interval, int64_t ts_ms) const {
  int64_t t_s = FloorDiv(std::clamp(ts_ms, kMinMs, kMaxMs), 1000);
  // Interval starts are whole seconds, so the second containing ts_ms has the same start.
  return FloorSeconds(interval, t_s) * 1000;
}

int64_t Calendar::Next(Interval interval, int64_t start_ms) const {
  int64_t t_s = FloorDiv(std::clamp(start_ms, kMinMs, kMaxMs), 1000);
  return NextSeconds(interval, t_s) * 1000;
}

std::vector<int64_t> Calendar::Starts(Interval interval, int64_t from_ms, int64_t to_ms) const {
  std::vector<int64_t> starts;
  if (to_ms <= from_ms) return starts;
  to_ms = std::min(to_ms, kMaxMs);
  int64_t s = Floor(interval, from_ms);
  starts.push_back(s);
  while (true) {
    int64_t next = Next(interval, s);
    if (next >= to_ms || next <= s) break;
    starts.push_back(next);
    s = next;
  }
  return starts;
}

int32_t Calendar::UtcOffsetSeconds(int64_t ts_ms) const {
  return Span(FloorDiv(std::clamp(ts_ms, kMinMs, kMaxMs), 1000)).offset_s;
}

std::string Calendar::Local(int64_t ts_ms) const {
  ts_ms = std::clamp(ts_ms, kMinMs, kMaxMs);
  int64_t t_s = FloorDiv(ts_ms, 1000);
  int64_t ms = ts_ms - t_s * 1000;
  int32_t offset = UtcOffsetSeconds(ts_ms);
  int64_t local = t_s + offset;
  int64_t days = FloorDiv(local, 86400);
  int64_t sod = local - days * 86400;
  date::year_month_day ymd{ToDays(days)};
  std::string text =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}", int{ymd.year()}, unsigned{ymd.month()},
                  unsigned{ymd.day()}, sod / 3600, sod / 60 % 60);
  if (sod % 60 != 0 || ms != 0) text += fmt::format(":{:02}", sod % 60);
  if (ms != 0) text += fmt::format(".{:03}", ms);
  int32_t abs = offset < 0 ? -offset : offset;
  text += fmt::format("{}{:02}:{:02}", offset < 0 ? '-' : '+', abs / 3600, abs / 60 % 60);
  if (abs % 60 != 0) text += fmt::format(":{:02}", abs % 60);
  return text;
}

}  // namespace wattline::historian
