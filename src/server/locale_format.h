// LocaleFormat: how numbers and instants are written for people in one locale and time zone,
// the single place that decides "1234,5" versus "1234.5" and "07.12.2026 14:05:00" versus
// "2026-12-07 14:05:00". Used by the exporter (export.h) and anywhere else that writes values
// for humans rather than machines.
//  - "en": dates "2026-12-07 14:05:00", decimal point, CSV separator ','.
//  - "de": dates "07.12.2026 14:05:00", decimal comma, CSV separator ';' (what German Excel
//    expects when it opens a .csv file).
// Times are the local wall clock of the zone, through historian::Calendar (the OS tz database
// via Howard Hinnant's date library), so DST days have 23 or 25 hours of rows; milliseconds are
// appended (".250") only when not zero. Numbers never use thousands separators, so that the text
// parses back.
// Thread-safety: immutable after Create; copies and concurrent calls are safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "historian/calendar.h"

namespace wattline::server {

enum class Locale : uint8_t { kEn, kDe };

// "en" / "de"; kInvalidArgument naming the text for anything else.
Result<Locale> ParseLocale(std::string_view name);
std::string_view LocaleName(Locale locale);

class LocaleFormat {
 public:
  // kInvalidArgument for an unknown IANA zone (the message names it); kFailedPrecondition when
  // the OS time zone database cannot be read.
  static Result<LocaleFormat> Create(Locale locale, std::string_view zone);

  // The local date and time of a Unix-millisecond instant in the zone.
  std::string Time(int64_t ts_ms) const;
  // A value with at most 6 decimals, trailing zeros dropped ("1234,5", "-0,000001", "42").
  // Magnitudes of 1e15 and more, and non-zero ones below 5e-7 that would round to 0, keep their
  // precision in exponent form ("1,5e+20"). NaN and infinities give "".
  std::string Number(double value) const;
  // The local wall-clock time as milliseconds since 1970-01-01T00:00 local (ts_ms + UTC offset).
  int64_t LocalMs(int64_t ts_ms) const;
  // The local date and time as the serial number of a spreadsheet date cell: days (with the
  // time of day as fraction) since 1899-12-30 on the local wall clock. Spreadsheets have no time
  // zones, so the repeated hour of a DST change gives the same serials twice.
  double ExcelSerial(int64_t ts_ms) const;
  // Excel number format code for date cells: "yyyy-mm-dd hh:mm:ss" / "dd.mm.yyyy hh:mm:ss".
  std::string_view ExcelDateFormat() const;
  char csv_separator() const { return locale_ == Locale::kDe ? ';' : ','; }
  char decimal_separator() const { return locale_ == Locale::kDe ? ',' : '.'; }
  Locale locale() const { return locale_; }
  const std::string& zone() const { return calendar_.zone(); }

 private:
  LocaleFormat(Locale locale, historian::Calendar calendar)
      : locale_(locale), calendar_(std::move(calendar)) {}

  Locale locale_;
  historian::Calendar calendar_;
};

}  // namespace wattline::server
