#include "server/locale_format.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>

namespace wattline::server {
namespace {

using namespace date::literals;
using namespace std::chrono_literals;

// Unix ms of a UTC date and time.
int64_t Utc(date::year_month_day day, std::chrono::milliseconds time_of_day) {
  return (std::chrono::duration_cast<std::chrono::milliseconds>(
              date::sys_days(day).time_since_epoch()) +
          time_of_day)
      .count();
}

LocaleFormat Make(Locale locale, std::string_view zone) {
  auto f = LocaleFormat::Create(locale, zone);
  EXPECT_TRUE(f) << f.error().ToString();
  return *f;
}

TEST(LocaleFormatTest, NumbersUseTheLocalesDecimalSeparator) {
  LocaleFormat en = Make(Locale::kEn, "UTC"), de = Make(Locale::kDe, "UTC");
  EXPECT_EQ(en.Number(1234.5), "1234.5");
  EXPECT_EQ(de.Number(1234.5), "1234,5");
  EXPECT_EQ(de.Number(-0.25), "-0,25");
  EXPECT_EQ(en.Number(42), "42");
  EXPECT_EQ(en.Number(0.1 + 0.2), "0.3");
  EXPECT_EQ(en.Number(-0.0), "0");
}

TEST(LocaleFormatTest, NumbersKeepSixDecimalsWithoutExponent) {
  LocaleFormat en = Make(Locale::kEn, "UTC"), de = Make(Locale::kDe, "UTC");
  EXPECT_EQ(en.Number(123.4567891), "123.456789");
  EXPECT_EQ(en.Number(0.000001), "0.000001");
  EXPECT_EQ(en.Number(98765432.1), "98765432.1");  // a meter reading, no "9.87654e+07"
  EXPECT_EQ(de.Number(123456789012.5), "123456789012,5");
}

TEST(LocaleFormatTest, ExtremeNumbersKeepTheirPrecision) {
  LocaleFormat en = Make(Locale::kEn, "UTC"), de = Make(Locale::kDe, "UTC");
  EXPECT_EQ(std::stod(en.Number(2.5e-9)), 2.5e-9);
  EXPECT_EQ(std::stod(en.Number(1.5e20)), 1.5e20);
  EXPECT_NE(de.Number(2.5e-9).find(','), std::string::npos);
  EXPECT_EQ(en.Number(std::numeric_limits<double>::quiet_NaN()), "");
  EXPECT_EQ(en.Number(std::numeric_limits<double>::infinity()), "");
}

TEST(LocaleFormatTest, TimesAreLocalWallClockInTheLocalesOrder) {
  LocaleFormat en = Make(Locale::kEn, "Europe/Berlin"), de = Make(Locale::kDe, "Europe/Berlin");
  int64_t winter = Utc(2026_y / 12 / 7, 13h + 5min);  // CET, UTC+1
  EXPECT_EQ(en.Time(winter), "2026-12-07 14:05:00");
  EXPECT_EQ(de.Time(winter), "07.12.2026 14:05:00");
  int64_t summer = Utc(2026_y / 7 / 1, 22h + 30min + 7s);  // CEST, UTC+2: next day
  EXPECT_EQ(de.Time(summer), "02.07.2026 00:30:07");
  EXPECT_EQ(de.Time(summer + 250), "02.07.2026 00:30:07,250");
  EXPECT_EQ(en.Time(summer + 250), "2026-07-02 00:30:07.250");
}

TEST(LocaleFormatTest, DaylightSavingChangesInBerlin) {
  LocaleFormat de = Make(Locale::kDe, "Europe/Berlin");
  // Spring: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
  EXPECT_EQ(de.Time(Utc(2026_y / 3 / 29, 1h) - 1000), "29.03.2026 01:59:59");
  EXPECT_EQ(de.Time(Utc(2026_y / 3 / 29, 1h)), "29.03.2026 03:00:00");
  // Autumn: the hour from 02:00 to 03:00 comes twice (00:00 and 01:00 UTC).
  EXPECT_EQ(de.Time(Utc(2026_y / 10 / 25, 30min)), "25.10.2026 02:30:00");
  EXPECT_EQ(de.Time(Utc(2026_y / 10 / 25, 1h + 30min)), "25.10.2026 02:30:00");
  EXPECT_EQ(de.Time(Utc(2026_y / 10 / 25, 2h)), "25.10.2026 03:00:00");
}

TEST(LocaleFormatTest, ExcelSerialIsLocalDaysSince1899) {
  LocaleFormat utc = Make(Locale::kEn, "UTC"), berlin = Make(Locale::kDe, "Europe/Berlin");
  int64_t days_1899_to_1970 =
      (date::sys_days(1970_y / 1 / 1) - date::sys_days(1899_y / 12 / 30)).count();
  EXPECT_DOUBLE_EQ(utc.ExcelSerial(0), static_cast<double>(days_1899_to_1970));
  int64_t t = Utc(2026_y / 12 / 7, 13h + 5min);
  double expected =
      static_cast<double>(
          (date::sys_days(2026_y / 12 / 7) - date::sys_days(1899_y / 12 / 30)).count()) +
      (14 * 60 + 5) / 1440.0;
  EXPECT_NEAR(berlin.ExcelSerial(t), expected, 1e-9);
  EXPECT_EQ(berlin.ExcelDateFormat(), "dd.mm.yyyy hh:mm:ss");
  EXPECT_EQ(utc.ExcelDateFormat(), "yyyy-mm-dd hh:mm:ss");
}

TEST(LocaleFormatTest, CsvSeparatorFollowsTheLocale) {
  EXPECT_EQ(Make(Locale::kEn, "UTC").csv_separator(), ',');
  EXPECT_EQ(Make(Locale::kDe, "UTC").csv_separator(), ';');
}

TEST(LocaleFormatTest, UnknownLocaleOrZoneIsInvalidArgument) {
  auto l = ParseLocale("fr");
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code(), Code::kInvalidArgument);
  EXPECT_NE(l.error().message().find("\"fr\""), std::string::npos) << l.error().message();
  auto f = LocaleFormat::Create(Locale::kDe, "Mars/Olympus_Mons");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code(), Code::kInvalidArgument);
  EXPECT_NE(f.error().message().find("Mars/Olympus_Mons"), std::string::npos);
  EXPECT_EQ(*ParseLocale("de"), Locale::kDe);
  EXPECT_EQ(LocaleName(Locale::kDe), "de");
}

}  // namespace
}  // namespace wattline::server
