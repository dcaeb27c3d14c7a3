#include "historian/calendar.h"

#include <date/date.h>
#include <date/tz.h>
#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>
#include <string>

#include "historian/posix_tz.h"

namespace wattline::historian {
namespace {

using std::chrono::minutes;

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kHourMs = 3'600'000;

// Unix ms of a UTC wall-clock time.
int64_t Utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  int64_t days =
      date::sys_days{date::year{y} / date::month{mo} / date::day{d}}.time_since_epoch().count();
  return ((days * 24 + h) * 60 + mi) * kMinuteMs + s * 1000;
}

Calendar MustCreate(std::string_view zone, minutes minor = minutes{15}) {
  auto c = Calendar::Create(zone, minor);
  if (!c) throw std::runtime_error(c.error().ToString());
  return *c;
}

// Length of the interval containing t.
int64_t LengthMs(const Calendar& c, Interval iv, int64_t t) {
  int64_t s = c.Floor(iv, t);
  return c.Next(iv, s) - s;
}

std::vector<std::string> Labels(const Calendar& c, const std::vector<int64_t>& starts) {
  std::vector<std::string> out;
  for (int64_t s : starts) out.push_back(c.Local(s));
  return out;
}

TEST(CalendarTest, RejectsUnknownZoneNamingIt) {
  auto c = Calendar::Create("Europe/Atlantis");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code(), Code::kInvalidArgument);
  EXPECT_NE(c.error().message().find("Europe/Atlantis"), std::string::npos);
  EXPECT_FALSE(Calendar::Create("").has_value());
  EXPECT_FALSE(Calendar::Create("../../../etc/passwd").has_value());
}

TEST(CalendarTest, MinorIntervalMustDivideAnHour) {
  for (int m : {1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60}) {
    EXPECT_TRUE(Calendar::Create("UTC", minutes{m}).has_value()) << m;
  }
  for (int m : {0, -15, 7, 8, 9, 11, 25, 45, 90, 120}) {
    auto c = Calendar::Create("UTC", minutes{m});
    ASSERT_FALSE(c.has_value()) << m;
    EXPECT_EQ(c.error().code(), Code::kInvalidArgument);
  }
}

TEST(CalendarTest, IntervalNamesRoundTrip) {
  for (Interval iv : {Interval::kMinor, Interval::kHour, Interval::kTwoHours, Interval::kDay,
                      Interval::kWeek, Interval::kMonth, Interval::kQuarter, Interval::kYear}) {
    auto parsed = ParseInterval(IntervalName(iv));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, iv);
  }
  EXPECT_EQ(ParseInterval("15min").value(), Interval::kMinor);
  EXPECT_EQ(ParseInterval("2h").value(), Interval::kTwoHours);
  auto bad = ParseInterval("fortnight");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("fortnight"), std::string::npos);
}

TEST(CalendarTest, BerlinSpringForwardDayHas23Hours) {
  Calendar c = MustCreate("Europe/Berlin");
  int64_t noon = Utc(2025, 3, 30, 10);
  int64_t day = c.Floor(Interval::kDay, noon);
  EXPECT_EQ(c.Local(day), "2025-03-30T00:00+01:00");
  EXPECT_EQ(day, Utc(2025, 3, 29, 23));
  EXPECT_EQ(c.Next(Interval::kDay, day) - day, 23 * kHourMs);
  EXPECT_EQ(c.Local(c.Next(Interval::kDay, day)), "2025-03-31T00:00+02:00");

  auto hours = Labels(c, c.Starts(Interval::kHour, day, c.Next(Interval::kDay, day)));
  ASSERT_EQ(hours.size(), 23u);
  EXPECT_EQ(hours[1], "2025-03-30T01:00+01:00");
  EXPECT_EQ(hours[2], "2025-03-30T03:00+02:00");  // 02:00 never happens

  // Two-hour intervals: 00:00 (2 h), then 02:00, which begins at the jump (03:00 CEST) and
  // lasts 1 h, then 04:00.
  auto two = c.Starts(Interval::kTwoHours, day, c.Next(Interval::kDay, day));
  ASSERT_EQ(two.size(), 12u);
  EXPECT_EQ(two[1] - two[0], 2 * kHourMs);
  EXPECT_EQ(c.Local(two[1]), "2025-03-30T03:00+02:00");
  EXPECT_EQ(two[2] - two[1], 1 * kHourMs);
  EXPECT_EQ(c.Local(two[2]), "2025-03-30T04:00+02:00");
  EXPECT_EQ(c.Starts(Interval::kMinor, day, c.Next(Interval::kDay, day)).size(), 92u);
}

TEST(CalendarTest, BerlinFallBackDayHas25HoursAndRepeatsAnHour) {
  Calendar c = MustCreate("Europe/Berlin");
  int64_t day = c.Floor(Interval::kDay, Utc(2025, 10, 26, 12));
  EXPECT_EQ(c.Local(day), "2025-10-26T00:00+02:00");
  int64_t next_day = c.Next(Interval::kDay, day);
  EXPECT_EQ(next_day - day, 25 * kHourMs);

  auto hours = Labels(c, c.Starts(Interval::kHour, day, next_day));
  ASSERT_EQ(hours.size(), 25u);
  EXPECT_EQ(hours[2], "2025-10-26T02:00+02:00");
  EXPECT_EQ(hours[3], "2025-10-26T02:00+01:00");  // the repeated hour is its own interval
  EXPECT_EQ(hours[4], "2025-10-26T03:00+01:00");
  // Both 02:00 hours are one hour long and Floor finds each of them.
  int64_t first_0230 = Utc(2025, 10, 26, 0, 30);
  int64_t second_0230 = Utc(2025, 10, 26, 1, 30);
  EXPECT_EQ(c.Floor(Interval::kHour, first_0230), Utc(2025, 10, 26, 0));
  EXPECT_EQ(c.Floor(Interval::kHour, second_0230), Utc(2025, 10, 26, 1));
  EXPECT_EQ(LengthMs(c, Interval::kHour, second_0230), kHourMs);

  // The 2-hour interval 02:00 starts at the first 02:00 and ends at 04:00: 3 hours.
  int64_t two = c.Floor(Interval::kTwoHours, second_0230);
  EXPECT_EQ(c.Local(two), "2025-10-26T02:00+02:00");
  EXPECT_EQ(c.Next(Interval::kTwoHours, two) - two, 3 * kHourMs);
  EXPECT_EQ(c.Floor(Interval::kTwoHours, first_0230), two);
  EXPECT_EQ(c.Starts(Interval::kTwoHours, day, next_day).size(), 12u);
  EXPECT_EQ(c.Starts(Interval::kMinor, day, next_day).size(), 100u);
}

TEST(CalendarTest, NewYorkDstDays) {
  Calendar c = MustCreate("America/New_York");
  EXPECT_EQ(LengthMs(c, Interval::kDay, Utc(2025, 3, 9, 17)), 23 * kHourMs);
  EXPECT_EQ(LengthMs(c, Interval::kDay, Utc(2025, 11, 2, 17)), 25 * kHourMs);
  EXPECT_EQ(LengthMs(c, Interval::kDay, Utc(2025, 11, 3, 17)), 24 * kHourMs);
  EXPECT_EQ(c.Local(c.Floor(Interval::kDay, Utc(2025, 11, 2, 17))), "2025-11-02T00:00-04:00");
  EXPECT_EQ(c.Local(c.Floor(Interval::kDay, Utc(2025, 11, 3, 17))), "2025-11-03T00:00-05:00");
  // 03:30 UTC on 9 March is still 8 March in New York.
  EXPECT_EQ(c.Local(c.Floor(Interval::kDay, Utc(2025, 3, 9, 3, 30))), "2025-03-08T00:00-05:00");
}

TEST(CalendarTest, KolkataHoursStartAtLocalFullHour) {
  Calendar c = MustCreate("Asia/Kolkata");
  int64_t t = Utc(2025, 6, 1, 10, 10);  // 15:40 IST
  int64_t hour = c.Floor(Interval::kHour, t);
  EXPECT_EQ(c.Local(hour), "2025-06-01T15:00+05:30");
  EXPECT_EQ(hour, Utc(2025, 6, 1, 9, 30));
  EXPECT_EQ(c.Next(Interval::kHour, hour), Utc(2025, 6, 1, 10, 30));
  EXPECT_EQ(c.Local(c.Floor(Interval::kMinor, t)), "2025-06-01T15:30+05:30");
  EXPECT_EQ(c.Floor(Interval::kDay, t), Utc(2025, 5, 31, 18, 30));
  EXPECT_EQ(LengthMs(c, Interval::kDay, t), 24 * kHourMs);
}

TEST(CalendarTest, LordHoweHalfHourShift) {
  Calendar c = MustCreate("Australia/Lord_Howe");
  // 5 October 2025: 02:00 +10:30 becomes 02:30 +11:00; the day has 23.5 hours.
  int64_t spring = c.Floor(Interval::kDay, Utc(2025, 10, 5, 3));
  EXPECT_EQ(c.Local(spring), "2025-10-05T00:00+10:30");
  EXPECT_EQ(c.Next(Interval::kDay, spring) - spring, 23 * kHourMs + 30 * kMinuteMs);
  // The local 02:00 hour exists only from 02:30 to 03:00.
  int64_t at_0245 = c.Floor(Interval::kMinor, Utc(2025, 10, 4, 15, 45));
  EXPECT_EQ(c.Local(at_0245), "2025-10-05T02:45+11:00");
  int64_t hour = c.Floor(Interval::kHour, at_0245);
  EXPECT_EQ(c.Local(hour), "2025-10-05T02:30+11:00");
  EXPECT_EQ(c.Next(Interval::kHour, hour) - hour, 30 * kMinuteMs);
  // 6 April 2025: 02:00 +11:00 becomes 01:30 +10:30; the day has 24.5 hours.
  int64_t autumn = c.Floor(Interval::kDay, Utc(2025, 4, 6, 3));
  EXPECT_EQ(c.Local(autumn), "2025-04-06T00:00+11:00");
  EXPECT_EQ(c.Next(Interval::kDay, autumn) - autumn, 24 * kHourMs + 30 * kMinuteMs);
  // Hours 00, 01 (+11:00), 01:30..02:00 (+10:30, the repeated half hour), 02 .. 23.
  auto hours = c.Starts(Interval::kHour, autumn, c.Next(Interval::kDay, autumn));
  ASSERT_EQ(hours.size(), 25u);
  EXPECT_EQ(c.Local(hours[2]), "2025-04-06T01:30+10:30");
  EXPECT_EQ(hours[2] - hours[1], kHourMs);
  EXPECT_EQ(hours[3] - hours[2], 30 * kMinuteMs);
  EXPECT_EQ(c.Local(hours[3]), "2025-04-06T02:00+10:30");
}

TEST(CalendarTest, DayStartsAtFirstInstantWhenMidnightIsSkipped) {
  Calendar c = MustCreate("America/Santiago");
  // 7 September 2025: at 00:00 -04 the clock jumps to 01:00 -03; the day starts at 01:00.
  int64_t day = c.Floor(Interval::kDay, Utc(2025, 9, 7, 15));
  EXPECT_EQ(c.Local(day), "2025-09-07T01:00-03:00");
  EXPECT_EQ(day, Utc(2025, 9, 7, 4));
  EXPECT_EQ(c.Next(Interval::kDay, day) - day, 23 * kHourMs);
  // The previous day ends exactly there and keeps 24 hours.
  int64_t before = c.Floor(Interval::kDay, day - 1);
  EXPECT_EQ(c.Local(before), "2025-09-06T00:00-04:00");
  EXPECT_EQ(c.Next(Interval::kDay, before), day);
  // 7 September 2025 is a Sunday: its week started on Monday 1 September.
  EXPECT_EQ(c.Local(c.Floor(Interval::kWeek, day)), "2025-09-01T00:00-04:00");
  EXPECT_EQ(c.Next(Interval::kWeek, c.Floor(Interval::kWeek, day)), Utc(2025, 9, 8, 3));
  // 6 April 2025: at 24:00 -03 the clock goes back to 23:00 -04, so 5 April has 25 hours
  // and 6 April starts at the (single) midnight.
  int64_t long_day = c.Floor(Interval::kDay, Utc(2025, 4, 5, 15));
  EXPECT_EQ(c.Next(Interval::kDay, long_day) - long_day, 25 * kHourMs);
  EXPECT_EQ(c.Local(c.Next(Interval::kDay, long_day)), "2025-04-06T00:00-04:00");
  // The repeated 23:00 hour belongs to 5 April both times.
  EXPECT_EQ(c.Floor(Interval::kDay, Utc(2025, 4, 6, 3, 30)), long_day);
}

TEST(CalendarTest, MonthBoundaries) {
  Calendar c = MustCreate("Europe/Berlin");
  int64_t feb1 = Utc(2025, 1, 31, 23);  // 2025-02-01T00:00+01:00
  EXPECT_EQ(c.Local(c.Floor(Interval::kMonth, feb1 - 1)), "2025-01-01T00:00+01:00");
  EXPECT_EQ(c.Floor(Interval::kMonth, feb1), feb1);
  EXPECT_EQ(c.Next(Interval::kMonth, c.Floor(Interval::kMonth, feb1 - 1)), feb1);
  EXPECT_EQ(c.Floor(Interval::kDay, feb1 - 1), feb1 - 24 * kHourMs);

  // 2028 is a leap year: February has 29 days and 29 February is a day of its own.
  int64_t leap_day = c.Floor(Interval::kDay, Utc(2028, 2, 29, 12));
  EXPECT_EQ(c.Local(leap_day), "2028-02-29T00:00+01:00");
  EXPECT_EQ(c.Local(c.Next(Interval::kDay, leap_day)), "2028-03-01T00:00+01:00");
  EXPECT_EQ(LengthMs(c, Interval::kMonth, leap_day), 29 * 24 * kHourMs);
  EXPECT_EQ(LengthMs(c, Interval::kMonth, Utc(2027, 2, 10)), 28 * 24 * kHourMs);
  // March 2025 loses the DST hour, October gains it.
  EXPECT_EQ(LengthMs(c, Interval::kMonth, Utc(2025, 3, 10)), (31 * 24 - 1) * kHourMs);
  EXPECT_EQ(LengthMs(c, Interval::kMonth, Utc(2025, 10, 10)), (31 * 24 + 1) * kHourMs);

  auto months = Labels(c, c.Starts(Interval::kMonth, Utc(2028, 1, 1), Utc(2028, 12, 31, 23)));
  ASSERT_EQ(months.size(), 12u);  // 2028-01-01T00:00Z is already January in Berlin
  EXPECT_EQ(months[0], "2028-01-01T00:00+01:00");
  EXPECT_EQ(months[3], "2028-04-01T00:00+02:00");
  EXPECT_EQ(months[11], "2028-12-01T00:00+01:00");
  // In New York the same instant is still December 2027.
  Calendar ny = MustCreate("America/New_York");
  EXPECT_EQ(ny.Local(ny.Starts(Interval::kMonth, Utc(2028, 1, 1), Utc(2029, 1, 1)).front()),
            "2027-12-01T00:00-05:00");
}

TEST(CalendarTest, QuarterBoundaries) {
  Calendar c = MustCreate("Europe/Berlin");
  int64_t q = c.Floor(Interval::kQuarter, Utc(2025, 5, 15));
  EXPECT_EQ(c.Local(q), "2025-04-01T00:00+02:00");
  EXPECT_EQ(c.Local(c.Next(Interval::kQuarter, q)), "2025-07-01T00:00+02:00");
  auto quarters = Labels(c, c.Starts(Interval::kQuarter, Utc(2024, 12, 31, 23), Utc(2025, 12, 31)));
  EXPECT_EQ(quarters,
            (std::vector<std::string>{"2025-01-01T00:00+01:00", "2025-04-01T00:00+02:00",
                                      "2025-07-01T00:00+02:00", "2025-10-01T00:00+02:00"}));
  // Q1 2025: 90 days, less the hour lost on 30 March.
  EXPECT_EQ(LengthMs(c, Interval::kQuarter, Utc(2025, 2, 1)), (90 * 24 - 1) * kHourMs);
  // The last millisecond of Q3 and the first of Q4.
  int64_t q4 = Utc(2025, 9, 30, 22);
  EXPECT_EQ(c.Local(c.Floor(Interval::kQuarter, q4 - 1)), "2025-07-01T00:00+02:00");
  EXPECT_EQ(c.Floor(Interval::kQuarter, q4), q4);
}

TEST(CalendarTest, IsoWeekCrossesYear) {
  Calendar c = MustCreate("Europe/Berlin");
  // 2026-01-01 is a Thursday; its ISO week (week 1 of 2026) starts on Monday 2025-12-29.
  int64_t week = c.Floor(Interval::kWeek, Utc(2026, 1, 1, 11));
  EXPECT_EQ(c.Local(week), "2025-12-29T00:00+01:00");
  EXPECT_EQ(c.Local(c.Next(Interval::kWeek, week)), "2026-01-05T00:00+01:00");
  // Sunday 23:59 belongs to the week before, Monday 00:00 starts the next.
  int64_t monday = Utc(2025, 12, 28, 23);
  EXPECT_EQ(c.Floor(Interval::kWeek, monday), monday);
  EXPECT_EQ(c.Local(c.Floor(Interval::kWeek, monday - 1)), "2025-12-22T00:00+01:00");
  // The week holding 26 October 2025 has the extra hour.
  EXPECT_EQ(LengthMs(c, Interval::kWeek, Utc(2025, 10, 26, 12)), (7 * 24 + 1) * kHourMs);
}

TEST(CalendarTest, YearLengths) {
  Calendar c = MustCreate("Europe/Berlin");
  int64_t y = c.Floor(Interval::kYear, Utc(2025, 6, 1));
  EXPECT_EQ(c.Local(y), "2025-01-01T00:00+01:00");
  EXPECT_EQ(c.Next(Interval::kYear, y) - y, 8760 * kHourMs);
  EXPECT_EQ(LengthMs(c, Interval::kYear, Utc(2028, 6, 1)), 8784 * kHourMs);
}

// Every interval of a year: Floor(t) <= t < Next(Floor(t)), starts are fixed points of Floor,
// and the lengths add up to the year.
void CheckYear(const Calendar& c, Interval iv, int year, size_t expected_count) {
  int64_t year_start = c.Floor(Interval::kYear, Utc(year, 7, 1));
  int64_t year_end = c.Next(Interval::kYear, year_start);
  auto starts = c.Starts(iv, year_start, year_end);
  EXPECT_EQ(starts.size(), expected_count);
  int64_t total = 0;
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t next = i + 1 < starts.size() ? starts[i + 1] : year_end;
    ASSERT_LT(starts[i], next);
    ASSERT_EQ(c.Floor(iv, starts[i]), starts[i]);
    ASSERT_EQ(c.Next(iv, starts[i]), next);
    ASSERT_EQ(c.Floor(iv, next - 1), starts[i]);
    ASSERT_EQ(c.Next(iv, next - 1), next);
    total += next - starts[i];
  }
  EXPECT_EQ(total, year_end - year_start);
}

TEST(CalendarTest, FloorNextRoundTripsOverWholeYears) {
  Calendar c = MustCreate("Europe/Berlin");
  CheckYear(c, Interval::kHour, 2025, 8760);
  CheckYear(c, Interval::kDay, 2025, 365);
  CheckYear(c, Interval::kDay, 2028, 366);
  CheckYear(c, Interval::kTwoHours, 2025, 365 * 12);
  EXPECT_EQ(c.Next(Interval::kYear, c.Floor(Interval::kYear, Utc(2025, 7, 1))) -
                c.Floor(Interval::kYear, Utc(2025, 7, 1)),
            8760 * kHourMs);
  // Irregular probes through the year, every interval kind.
  for (Interval iv : {Interval::kMinor, Interval::kHour, Interval::kTwoHours, Interval::kDay,
                      Interval::kWeek, Interval::kMonth, Interval::kQuarter, Interval::kYear}) {
    for (int64_t t = Utc(2025, 1, 1); t < Utc(2026, 1, 1); t += 97 * kMinuteMs + 13'001) {
      int64_t s = c.Floor(iv, t);
      ASSERT_LE(s, t) << IntervalName(iv) << " " << c.Local(t);
      ASSERT_GT(c.Next(iv, s), t) << IntervalName(iv) << " " << c.Local(t);
    }
  }
  // Day lengths: 363 of 24 h, one of 23 h, one of 25 h.
  int day23 = 0, day25 = 0;
  int64_t sum = 0;
  for (int64_t d : c.Starts(Interval::kDay, Utc(2025, 1, 1), Utc(2025, 12, 31, 23))) {
    int64_t len = c.Next(Interval::kDay, d) - d;
    day23 += len == 23 * kHourMs;
    day25 += len == 25 * kHourMs;
    sum += len;
  }
  EXPECT_EQ(day23, 1);
  EXPECT_EQ(day25, 1);
  EXPECT_EQ(sum, 8760 * kHourMs);  // 2025-01-01T00:00Z is already 1 January in Berlin
  // ISO weeks of 2025: the first starts on Monday 2024-12-30, 52 follow.
  auto weeks = c.Starts(Interval::kWeek, Utc(2024, 12, 31, 23), Utc(2025, 12, 31, 23));
  ASSERT_EQ(weeks.size(), 53u);
  EXPECT_EQ(c.Local(weeks.front()), "2024-12-30T00:00+01:00");
  EXPECT_EQ(c.Local(weeks.back()), "2025-12-29T00:00+01:00");
}

// Every zone, every day and 2-hour interval of 2025: intervals tile time without overlap.
TEST(CalendarTest, IntervalsTileTimeInEveryZone) {
  size_t zones = 0;
  for (const auto& zone : date::get_tzdb().zones) {
    Calendar c = MustCreate(zone.name());
    ++zones;
    for (Interval iv : {Interval::kDay, Interval::kHour}) {
      int64_t s = c.Floor(iv, Utc(2025, 1, 1));
      while (s < Utc(2026, 1, 1)) {
        int64_t next = c.Next(iv, s);
        ASSERT_GT(next, s) << zone.name() << " " << c.Local(s);
        ASSERT_LE(next - s, 26 * kHourMs) << zone.name() << " " << c.Local(s);
        ASSERT_EQ(c.Floor(iv, s), s) << zone.name() << " " << c.Local(s);
        ASSERT_EQ(c.Floor(iv, next - 1), s) << zone.name() << " " << c.Local(s);
        s = next;
      }
    }
  }
  EXPECT_GT(zones, 300u);
  // Samoa skipped 30 December 2011: the day before runs straight into 31 December.
  Calendar apia = MustCreate("Pacific/Apia");
  int64_t dec29 = apia.Floor(Interval::kDay, Utc(2011, 12, 29, 12));
  EXPECT_EQ(apia.Local(dec29), "2011-12-29T00:00-10:00");
  EXPECT_EQ(apia.Local(apia.Next(Interval::kDay, dec29)), "2011-12-31T00:00+14:00");
  EXPECT_EQ(apia.Next(Interval::kDay, dec29) - dec29, 24 * kHourMs);
}

TEST(CalendarTest, NegativeTimestampsFloorDown) {
  Calendar utc = MustCreate("UTC");
  EXPECT_EQ(utc.Floor(Interval::kDay, -1), -24 * kHourMs);
  EXPECT_EQ(utc.Floor(Interval::kHour, -1), -kHourMs);
  EXPECT_EQ(utc.Floor(Interval::kMinor, -1), -15 * kMinuteMs);
  EXPECT_EQ(utc.Floor(Interval::kMonth, -1), Utc(1969, 12, 1));
  EXPECT_EQ(utc.Floor(Interval::kYear, -1), Utc(1969, 1, 1));
  EXPECT_EQ(utc.Local(-1), "1969-12-31T23:59:59.999+00:00");
  Calendar berlin = MustCreate("Europe/Berlin");
  EXPECT_EQ(berlin.Local(berlin.Floor(Interval::kDay, Utc(1960, 5, 5, 5))),
            "1960-05-05T00:00+01:00");
  // 1 January 1970 00:30 in Berlin is still 31 December 1969 in UTC.
  EXPECT_EQ(berlin.Floor(Interval::kYear, 0), -kHourMs);
}

TEST(CalendarTest, LaterYearsFollowTheZoneRule) {
  Calendar c = MustCreate("Europe/Berlin");
  // The zone file lists transitions until 2037; later years come from its POSIX rule.
  // Last Sunday of March 2040 is the 25th, of October the 28th.
  EXPECT_EQ(LengthMs(c, Interval::kDay, Utc(2040, 3, 25, 12)), 23 * kHourMs);
  EXPECT_EQ(LengthMs(c, Interval::kDay, Utc(2040, 10, 28, 12)), 25 * kHourMs);
  EXPECT_EQ(c.Local(Utc(2040, 7, 1)), "2040-07-01T02:00+02:00");
  for (int year : {2038, 2100, 2199, 2200, 2999}) {
    int64_t y0 = c.Floor(Interval::kYear, Utc(year, 7, 1));
    int short_days = 0, long_days = 0;
    for (int64_t d : c.Starts(Interval::kDay, y0, c.Next(Interval::kYear, y0))) {
      int64_t len = c.Next(Interval::kDay, d) - d;
      short_days += len == 23 * kHourMs;
      long_days += len == 25 * kHourMs;
    }
    EXPECT_EQ(short_days, 1) << year;
    EXPECT_EQ(long_days, 1) << year;
  }
  Calendar sydney = MustCreate("Australia/Sydney");
  EXPECT_EQ(sydney.Local(Utc(2050, 1, 1)), "2050-01-01T11:00+11:00");
  EXPECT_EQ(sydney.Local(Utc(2050, 7, 1)), "2050-07-01T10:00+10:00");
}

TEST(CalendarTest, ExtremeTimestampsDoNotCrash) {
  Calendar c = MustCreate("America/Santiago");
  for (Interval iv : {Interval::kMinor, Interval::kHour, Interval::kTwoHours, Interval::kDay,
                      Interval::kWeek, Interval::kMonth, Interval::kQuarter, Interval::kYear}) {
    for (int64_t t : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                      Calendar::kMinMs, Calendar::kMaxMs, int64_t{0}}) {
      int64_t s = c.Floor(iv, t);
      EXPECT_GT(c.Next(iv, s), s);
      EXPECT_FALSE(c.Local(t).empty());
      int64_t later = t > Calendar::kMaxMs ? t : t + kHourMs;
      EXPECT_LE(c.Starts(iv, t, later).size(), 5u);
    }
  }
  EXPECT_TRUE(c.Starts(Interval::kDay, 10, 10).empty());
  EXPECT_TRUE(c.Starts(Interval::kDay, 10, 5).empty());
}

TEST(CalendarTest, LocalShowsSecondsAndMillisecondsOnlyWhenSet) {
  Calendar c = MustCreate("Asia/Kolkata");
  EXPECT_EQ(c.Local(Utc(2025, 1, 1)), "2025-01-01T05:30+05:30");
  EXPECT_EQ(c.Local(Utc(2025, 1, 1, 0, 0, 7)), "2025-01-01T05:30:07+05:30");
  EXPECT_EQ(c.Local(Utc(2025, 1, 1) + 250), "2025-01-01T05:30:00.250+05:30");
  EXPECT_EQ(MustCreate("America/St_Johns").Local(Utc(2025, 1, 1)), "2024-12-31T20:30-03:30");
}

TEST(CalendarTest, CopiesAreIndependentValues) {
  Calendar a = MustCreate("Europe/Berlin", minutes{5});
  Calendar b = a;
  EXPECT_EQ(b.zone(), "Europe/Berlin");
  EXPECT_EQ(b.minor(), minutes{5});
  EXPECT_EQ(b.Floor(Interval::kMinor, Utc(2025, 1, 1, 0, 7)), Utc(2025, 1, 1, 0, 5));
}

TEST(CalendarTest, PosixRuleParsesAndRejectsGarbage) {
  EXPECT_TRUE(PosixTz::Parse("CET-1CEST,M3.5.0,M10.5.0/3").has_value());
  EXPECT_TRUE(PosixTz::Parse("<+0530>-5:30").has_value());
  EXPECT_TRUE(PosixTz::Parse("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1").has_value());
  EXPECT_TRUE(PosixTz::Parse("IST-2IDT,M3.4.4/26,M10.5.0").has_value());
  EXPECT_TRUE(PosixTz::Parse("NZST-12NZDT,M9.5.0,M4.1.0/3").has_value());
  for (const char* bad :
       {"", "C", "CET", "CET-1CEST", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0",
        "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0", "CET-1CEST,J0,J100",
        "CET-1CEST,366,100", "CET-1x", "<+05", "CET-1CEST,M3.5.0/200,M10.5.0", "CET-99"}) {
    auto r = PosixTz::Parse(bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    }
  }
}

TEST(CalendarTest, PosixRuleAllYearDaylightTime) {
  // DST from 1 January 00:00 to 31 December 25:00: never standard time.
  auto z = PosixTz::Parse("EST5EDT,0/0,J365/25");
  ASSERT_TRUE(z.has_value());
  for (int64_t t : {Utc(2030, 1, 1), Utc(2030, 1, 1, 5), Utc(2030, 6, 1), Utc(2030, 12, 31, 23),
                    Utc(2032, 2, 29, 12)}) {
    EXPECT_EQ(z->At(t / 1000).offset_s, -4 * 3600) << t;
  }
}

// The footer rule of every zone must reproduce the transitions the zone file lists for
// 2030..2037, where both describe the same clock. Zones whose file lists irregular transitions
// beyond 2037 (Morocco's Ramadan changes, until 2087) have a footer for after those only.
TEST(CalendarTest, PosixRuleMatchesZoneFilesOfAllZones) {
  const auto& db = date::get_tzdb();
  size_t zones = 0, transitions = 0, irregular = 0;
  for (const auto& zone : db.zones) {
    std::string footer = ReadTzifFooter("/usr/share/zoneinfo/" + zone.name());
    if (footer.empty()) continue;
    auto rule = PosixTz::Parse(footer);
    ASSERT_TRUE(rule.has_value()) << zone.name() << ": " << rule.error().ToString();
    ++zones;
    auto far = zone.get_info(date::sys_seconds{std::chrono::seconds{Utc(2040, 1, 1) / 1000}});
    if (far.end.time_since_epoch().count() < Utc(3000, 1, 1) / 1000) {
      ++irregular;
      continue;
    }
    auto t = date::sys_seconds{std::chrono::seconds{Utc(2030, 1, 1) / 1000}};
    auto end = date::sys_seconds{std::chrono::seconds{Utc(2037, 12, 1) / 1000}};
    while (t < end) {
      auto info = zone.get_info(t);
      int64_t at = t.time_since_epoch().count();
      ASSERT_EQ(rule->At(at).offset_s, info.offset.count()) << zone.name() << " at " << at;
      if (info.end >= end) break;
      t = info.end;
      ++transitions;
    }
  }
  EXPECT_GT(zones, 300u);
  EXPECT_GT(transitions, 500u);
  EXPECT_LE(irregular, 5u);
}

}  // namespace
}  // namespace wattline::historian
