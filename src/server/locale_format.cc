#include "server/locale_format.h"

#include <date/date.h>
#include <fmt/format.h>

#include <cmath>

namespace wattline::server {
namespace {

constexpr int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && (a < 0)); }

// Days from 1899-12-30 (Excel's day 0, which absorbs its 1900 leap-year bug for all dates
// after February 1900) to 1970-01-01.
constexpr double kExcelUnixEpochDays = 25569.0;

}  // namespace

Result<Locale> ParseLocale(std::string_view name) {
  if (name == "en") return Locale::kEn;
  if (name == "de") return Locale::kDe;
  return Fail(InvalidArgument(fmt::format("unknown locale \"{}\" (expected \"en\" or \"de\")",
                                          std::string(name.substr(0, 64)))));
}

std::string_view LocaleName(Locale locale) { return locale == Locale::kDe ? "de" : "en"; }

Result<LocaleFormat> LocaleFormat::Create(Locale locale, std::string_view zone) {
  auto calendar = historian::Calendar::Create(zone);
  if (!calendar) return Fail(calendar.error());
  return LocaleFormat(locale, std::move(*calendar));
}

std::string LocaleFormat::Time(int64_t ts_ms) const {
  ts_ms = std::clamp(ts_ms, historian::Calendar::kMinMs, historian::Calendar::kMaxMs);
  int64_t t_s = FloorDiv(ts_ms, 1000);
  int64_t ms = ts_ms - t_s * 1000;
  int64_t local = t_s + calendar_.UtcOffsetSeconds(ts_ms);
  int64_t days = FloorDiv(local, 86400);
  int64_t sod = local - days * 86400;
  date::year_month_day ymd{date::sys_days{date::days{static_cast<int>(days)}}};
  int year = int{ymd.year()};
  unsigned month = unsigned{ymd.month()};
  unsigned day = unsigned{ymd.day()};
  std::string text = locale_ == Locale::kDe
                         ? fmt::format("{:02}.{:02}.{:04} {:02}:{:02}:{:02}", day, month, year,
                                       sod / 3600, sod / 60 % 60, sod % 60)
                         : fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", year, month, day,
                                       sod / 3600, sod / 60 % 60, sod % 60);
  if (ms != 0) text += fmt::format("{}{:03}", decimal_separator(), ms);
  return text;
}

// Hand-written: neither std::format/fmt nor printf has "at most N decimals, no exponent"; "{:g}"
// switches to exponents at 1e6 (a meter reading of 1,234,567 kWh) and "{:.6f}" keeps trailing
// zeros. std::locale is not used for the decimal comma because the "de_DE" locale need not be
// installed on the server, and the choice must not depend on the process's global locale.
std::string LocaleFormat::Number(double value) const {
  if (!std::isfinite(value)) return "";
  double magnitude = std::fabs(value);
  std::string text;
  if (magnitude >= 1e15 || (magnitude != 0 && magnitude < 5e-7)) {
    text = fmt::format("{}", value);  // shortest text that reads back as the same double
  } else {
    text = fmt::format("{:.6f}", value);
    size_t end = text.find_last_not_of('0');
    if (text[end] == '.') --end;
    text.resize(end + 1);
    if (text == "-0") text = "0";
  }
  if (locale_ == Locale::kDe) {
    for (char& c : text) {
      if (c == '.') c = ',';
    }
  }
  return text;
}

int64_t LocaleFormat::LocalMs(int64_t ts_ms) const {
  ts_ms = std::clamp(ts_ms, historian::Calendar::kMinMs, historian::Calendar::kMaxMs);
  return ts_ms + int64_t{calendar_.UtcOffsetSeconds(ts_ms)} * 1000;
}

double LocaleFormat::ExcelSerial(int64_t ts_ms) const {
  return kExcelUnixEpochDays + static_cast<double>(LocalMs(ts_ms)) / 86'400'000.0;
}

std::string_view LocaleFormat::ExcelDateFormat() const {
  return locale_ == Locale::kDe ? "dd.mm.yyyy hh:mm:ss" : "yyyy-mm-dd hh:mm:ss";
}

}  // namespace wattline::server
