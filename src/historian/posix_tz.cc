#include "historian/posix_tz.h"

#include <date/date.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <string>

namespace wattline::historian {
namespace {

constexpr int64_t kClampS = 900'000'000'000;  // about year 30,500: inside date::year's range

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return i_ == s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  bool Eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  size_t pos() const { return i_; }

  // A zone abbreviation: three or more letters, or <...> of letters, digits, '+' and '-'.
  bool Name() {
    size_t start = i_;
    if (Eat('<')) {
      while (!done() && peek() != '>') {
        char c = peek();
        if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '-') return false;
        ++i_;
      }
      return i_ - start >= 2 && Eat('>');
    }
    while (!done() && IsAlpha(peek())) ++i_;
    return i_ - start >= 3;
  }

  // An unsigned decimal of at most `max_digits` digits, at most `max`.
  bool Number(int max_digits, int max, int* out) {
    int v = 0;
    int n = 0;
    while (n < max_digits && IsDigit(peek())) {
      v = v * 10 + (s_[i_] - '0');
      ++i_;
      ++n;
    }
    if (n == 0 || v > max) return false;
    *out = v;
    return true;
  }

  // [+|-]hh[:mm[:ss]] in seconds; hours at most `max_hours`.
  bool Time(int max_hours, int32_t* out) {
    int sign = 1;
    if (Eat('-')) {
      sign = -1;
    } else {
      Eat('+');
    }
    int h = 0, m = 0, s = 0;
    if (!Number(3, max_hours, &h)) return false;
    if (Eat(':')) {
      if (!Number(2, 59, &m)) return false;
      if (Eat(':') && !Number(2, 59, &s)) return false;
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
  }

 private:
  static bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  std::string_view s_;
  size_t i_ = 0;
};

date::sys_days DayOf(int64_t year, unsigned month, unsigned day) {
  return date::sys_days{date::year{static_cast<int>(year)} / date::month{month} / date::day{day}};
}

}  // namespace

std::string ReadTzifFooter(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  constexpr size_t kMaxFile = 1 << 20;
  std::string data(kMaxFile + 1, '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<size_t>(in.gcount()));
  if (data.size() > kMaxFile || data.size() < 6 || data.compare(0, 4, "TZif") != 0 ||
      data[4] < '2' || data.back() != '\n') {
    return {};
  }
  size_t open = data.rfind('\n', data.size() - 2);
  if (open == std::string::npos) return {};
  return data.substr(open + 1, data.size() - open - 2);
}

Result<PosixTz> PosixTz::Parse(std::string_view tz) {
  Cursor c(tz);
  auto error = [&](std::string_view what) {
    return Fail(InvalidArgument("TZ rule \"" + std::string(tz) + "\": " + std::string(what) +
                                " at offset " + std::to_string(c.pos())));
  };
  PosixTz z;
  int32_t west = 0;
  if (!c.Name()) return error("expected a zone name");
  if (!c.Time(24, &west)) return error("expected a UTC offset");
  // POSIX offsets count hours west of Greenwich: "CET-1" is UTC+1.
  z.std_offset_s_ = -west;
  z.dst_offset_s_ = z.std_offset_s_;
  if (c.done()) return z;
  if (!c.Name()) return error("expected a DST zone name");
  z.has_dst_ = true;
  z.dst_offset_s_ = z.std_offset_s_ + 3600;
  if (c.peek() != ',') {
    if (!c.Time(24, &west)) return error("expected a DST offset");
    z.dst_offset_s_ = -west;
  }
  // A DST zone without rules means "implementation-defined rules": TZif footers never do that.
  if (!c.Eat(',')) return error("expected ',' and the DST start rule");
  for (Rule* r : {&z.start_, &z.end_}) {
    if (r == &z.end_ && !c.Eat(',')) return error("expected ',' and the DST end rule");
    if (c.Eat('M')) {
      r->kind = Rule::Kind::kMonthWeekDay;
      if (!c.Number(2, 12, &r->month) || r->month < 1 || !c.Eat('.') || !c.Number(1, 5, &r->week) ||
          r->week < 1 || !c.Eat('.') || !c.Number(1, 6, &r->day)) {
        return error("bad Mm.w.d rule");
      }
    } else if (c.Eat('J')) {
      r->kind = Rule::Kind::kJulian1;
      if (!c.Number(3, 365, &r->day) || r->day < 1) return error("bad Jn rule");
    } else {
      r->kind = Rule::Kind::kJulian0;
      if (!c.Number(3, 365, &r->day)) return error("bad rule");
    }
    r->time_s = 7200;
    if (c.Eat('/') && !c.Time(167, &r->time_s)) return error("bad rule time");
  }
  if (!c.done()) return error("unexpected trailing characters");
  return z;
}

int64_t PosixTz::TransitionUtc(int64_t year, const Rule& rule, int32_t offset_s) {
  date::sys_days day;
  switch (rule.kind) {
    case Rule::Kind::kJulian1: {
      // Jn counts 1..365 and never names February 29: in leap years that day is skipped.
      int doy = rule.day - 1;
      if (date::year{static_cast<int>(year)}.is_leap() && rule.day >= 60) ++doy;
      day = DayOf(year, 1, 1) + date::days{doy};
      break;
    }
    case Rule::Kind::kJulian0:
      day = DayOf(year, 1, 1) + date::days{rule.day};
      break;
    case Rule::Kind::kMonthWeekDay: {
      auto first = DayOf(year, static_cast<unsigned>(rule.month), 1);
      date::weekday wanted{static_cast<unsigned>(rule.day)};
      day = first + (wanted - date::weekday{first});
      day += date::days{7 * (rule.week - 1)};
      if (rule.week == 5) {
        // Week 5 means "the last such weekday of the month".
        auto next_month = date::sys_days{date::year_month_day{first} + date::months{1}};
        while (day >= next_month) day -= date::days{7};
      }
      break;
    }
  }
  return int64_t{day.time_since_epoch().count()} * 86400 + rule.time_s - offset_s;
}

OffsetSpan PosixTz::At(int64_t t_s) const {
  if (!has_dst_) return {kSpanMin, kSpanMax, std_offset_s_};
  t_s = std::clamp(t_s, -kClampS, kClampS);
  int64_t days = t_s / 86400 - (t_s % 86400 < 0 ? 1 : 0);
  int64_t year = int{date::year_month_day{date::sys_days{date::days{days}}}.year()};
  // Rule times reach up to 167 h past their day, so look two years either side.
  struct Event {
    int64_t at;
    int32_t offset;
  };
  std::array<Event, 10> events;
  size_t n = 0;
  for (int64_t y = year - 2; y <= year + 2; ++y) {
    events[n++] = {TransitionUtc(y, start_, std_offset_s_), dst_offset_s_};
    events[n++] = {TransitionUtc(y, end_, dst_offset_s_), std_offset_s_};
  }
  // Stable: when DST lasts all year, a year's end and the next year's start fall on one
  // instant, and the start, generated later, must win.
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.at < b.at; });
  OffsetSpan span{kSpanMin, kSpanMax, std_offset_s_};
  for (const Event& e : events) {
    if (e.at <= t_s) {
      span.begin_s = e.at;
      span.offset_s = e.offset;
    } else {
      span.end_s = e.at;
      break;
    }
  }
  return span;
}

}  // namespace wattline::historian
