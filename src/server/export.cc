#include "server/export.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "historian/calendar.h"
#include "server/export_table.h"
#include "server/locale_format.h"

namespace wattline::server {
namespace {

using export_internal::ExportTable;
using export_internal::RowCursor;
using nlohmann::json;

constexpr size_t kMaxTitleBytes = 500;
constexpr size_t kMaxNameBytes = 200;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// JSON type names for error messages ("expected a string, got number").
std::string_view TypeName(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "number";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    default:
      return "binary";
  }
}

Status WrongType(std::string_view what, std::string_view expected, const json& got) {
  return InvalidArgument(fmt::format("{} must be {}, got {}", what, expected, TypeName(got)));
}

// An optional string member: `fallback` when absent or null.
Result<std::string> OptionalString(const json& obj, const char* key, std::string_view what,
                                   std::string fallback, size_t max_bytes) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_string()) return Fail(WrongType(what, "a string", *it));
  const std::string& s = it->get_ref<const std::string&>();
  if (s.size() > max_bytes) {
    return Fail(InvalidArgument(fmt::format("{} is longer than {} bytes", what, max_bytes)));
  }
  return s;
}

// A timestamp: an integral number of Unix milliseconds inside the calendar's supported range.
Result<int64_t> ParseTimestamp(const json& j, size_t series, size_t point) {
  auto where = [&] { return fmt::format("series[{}].points[{}]", series, point); };
  double as_double = 0;
  int64_t ts = 0;
  if (j.is_number_integer() && !j.is_number_unsigned()) {
    ts = j.get<int64_t>();
    as_double = static_cast<double>(ts);
  } else if (j.is_number_unsigned()) {
    uint64_t u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(historian::Calendar::kMaxMs)) {
      return Fail(InvalidArgument(fmt::format("{}: timestamp {} is out of range", where(), u)));
    }
    ts = static_cast<int64_t>(u);
    as_double = static_cast<double>(ts);
  } else if (j.is_number_float()) {
    as_double = j.get<double>();
    if (!std::isfinite(as_double)) {
      return Fail(InvalidArgument(fmt::format("{}: timestamp is not finite", where())));
    }
    if (std::trunc(as_double) != as_double) {
      return Fail(InvalidArgument(fmt::format(
          "{}: timestamp {} is not a whole number of milliseconds", where(), as_double)));
    }
  } else {
    return Fail(WrongType(where() + " timestamp", "a number (Unix milliseconds)", j));
  }
  if (as_double < static_cast<double>(historian::Calendar::kMinMs) ||
      as_double >= static_cast<double>(historian::Calendar::kMaxMs)) {
    return Fail(InvalidArgument(
        fmt::format("{}: timestamp {} is out of range (years 1800 to 2999 in Unix milliseconds)",
                    where(), as_double)));
  }
  if (j.is_number_float()) ts = static_cast<int64_t>(as_double);
  return ts;
}

Result<ExportSeries> ParseSeries(const json& j, size_t index) {
  std::string what = fmt::format("series[{}]", index);
  if (!j.is_object()) return Fail(WrongType(what, "an object", j));
  ExportSeries s;
  auto name = j.find("name");
  if (name == j.end()) return Fail(InvalidArgument(what + ".name is missing"));
  if (!name->is_string()) return Fail(WrongType(what + ".name", "a string", *name));
  s.name = name->get<std::string>();
  if (s.name.size() > kMaxNameBytes) {
    return Fail(
        InvalidArgument(fmt::format("{}.name is longer than {} bytes", what, kMaxNameBytes)));
  }
  auto unit = OptionalString(j, "unit", what + ".unit", "", kMaxNameBytes);
  if (!unit) return Fail(unit.error());
  s.unit = std::move(*unit);
  auto points = j.find("points");
  if (points == j.end()) return Fail(InvalidArgument(what + ".points is missing"));
  if (!points->is_array()) return Fail(WrongType(what + ".points", "an array", *points));
  s.points.reserve(points->size());
  for (size_t i = 0; i < points->size(); ++i) {
    const json& p = (*points)[i];
    if (!p.is_array() || p.size() != 2) {
      return Fail(InvalidArgument(
          fmt::format("{}.points[{}] must be an array [ts_ms, value], got {}{}", what, i,
                      TypeName(p), p.is_array() ? fmt::format(" of {} elements", p.size()) : "")));
    }
    auto ts = ParseTimestamp(p[0], index, i);
    if (!ts) return Fail(ts.error());
    double value = kNaN;
    if (p[1].is_number()) {
      value = p[1].get<double>();
    } else if (!p[1].is_null()) {
      return Fail(WrongType(fmt::format("{}.points[{}] value", what, i), "a number or null", p[1]));
    }
    s.points.emplace_back(*ts, value);
  }
  return s;
}

Result<ExportFormat> ParseFormat(const json& j) {
  if (!j.is_string()) return Fail(WrongType("format", "a string", j));
  const std::string& s = j.get_ref<const std::string&>();
  if (s == "csv") return ExportFormat::kCsv;
  if (s == "xlsx") return ExportFormat::kXlsx;
  if (s == "pdf") return ExportFormat::kPdf;
  return Fail(InvalidArgument(fmt::format(
      "unknown format \"{}\" (expected \"csv\", \"xlsx\" or \"pdf\")", s.substr(0, 64))));
}

Status CheckLimits(const ExportRequest& r) {
  if (r.series.empty()) return InvalidArgument("series is empty: nothing to export");
  if (r.series.size() > kMaxExportSeries) {
    return InvalidArgument(
        fmt::format("too many series: {} (at most {})", r.series.size(), kMaxExportSeries));
  }
  size_t values = 0;
  for (const auto& s : r.series) values += s.points.size();
  if (values > kMaxExportValues) {
    return InvalidArgument(
        fmt::format("too many values: {} (at most {} in all series)", values, kMaxExportValues));
  }
  return Status::Ok();
}

std::string SeriesHeader(const ExportSeries& s) {
  return s.unit.empty() ? s.name : fmt::format("{} [{}]", s.name, s.unit);
}

Result<ExportTable> BuildTable(const ExportRequest& r, const LocaleFormat& format) {
  ExportTable t;
  t.title = r.title;
  t.time_header =
      fmt::format("{} ({})", format.locale() == Locale::kDe ? "Zeit" : "Time", format.zone());
  size_t total = 0;
  for (const auto& s : r.series) {
    t.headers.push_back(SeriesHeader(s));
    t.units.push_back(s.unit);
    auto points = s.points;
    // Stable, so that of equal timestamps the one given last stays last; keep it.
    std::stable_sort(points.begin(), points.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::pair<int64_t, double>> unique;
    unique.reserve(points.size());
    for (const auto& p : points) {
      if (!unique.empty() && unique.back().first == p.first) {
        unique.back().second = p.second;
      } else {
        unique.push_back(p);
      }
    }
    total += unique.size();
    t.series.push_back(std::move(unique));
  }
  t.times.reserve(total);
  for (const auto& s : t.series) {
    for (const auto& p : s) t.times.push_back(p.first);
  }
  std::sort(t.times.begin(), t.times.end());
  t.times.erase(std::unique(t.times.begin(), t.times.end()), t.times.end());
  return t;
}

// Hand-written: CSV is a few lines of RFC 4180 and no Debian C/C++ library for writing it is in
// the project's dependencies. A field is quoted when it holds the separator, a quote, CR or LF;
// quotes inside are doubled.
void AppendCsvField(std::string& out, std::string_view field, char separator) {
  if (field.find_first_of(std::string{separator, '"', '\r', '\n'}) == std::string_view::npos) {
    out += field;
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

// A text cell that a spreadsheet would take for a formula ("=HYPERLINK(...)", "+1", "@SUM") is
// prefixed with an apostrophe, the usual defence against CSV formula injection; series names
// come from users. Only text cells get it: numbers are written by LocaleFormat.
std::string SafeText(std::string_view text) {
  if (!text.empty() && std::string_view("=+-@\t\r").find(text[0]) != std::string_view::npos) {
    return "'" + std::string(text);
  }
  return std::string(text);
}

std::string RenderCsv(const ExportTable& t, const LocaleFormat& format) {
  const char sep = format.csv_separator();
  std::string out = "\xEF\xBB\xBF";  // UTF-8 byte order mark: Excel reads the file as UTF-8
  AppendCsvField(out, SafeText(t.time_header), sep);
  for (const auto& h : t.headers) {
    out += sep;
    AppendCsvField(out, SafeText(h), sep);
  }
  out += "\r\n";
  RowCursor rows(t);
  while (rows.Next()) {
    AppendCsvField(out, format.Time(rows.time()), sep);
    for (double v : rows.values()) {
      out += sep;
      AppendCsvField(out, format.Number(v), sep);
    }
    out += "\r\n";
  }
  return out;
}

}  // namespace

namespace export_internal {

bool RowCursor::Next() {
  if (started_) ++row_;
  started_ = true;
  if (row_ >= table_.times.size()) return false;
  int64_t t = table_.times[row_];
  for (size_t s = 0; s < table_.series.size(); ++s) {
    const auto& points = table_.series[s];
    if (next_[s] < points.size() && points[next_[s]].first == t) {
      values_[s] = points[next_[s]].second;
      ++next_[s];
    } else {
      values_[s] = kNaN;
    }
  }
  return true;
}

}  // namespace export_internal

Result<ExportRequest> ParseExportRequest(std::string_view json_body,
                                         const std::string& default_zone) {
  json body;
  try {
    body = json::parse(json_body);
  } catch (const json::exception& e) {
    return Fail(InvalidArgument(fmt::format("the body is not valid JSON: {}", e.what())));
  }
  if (!body.is_object()) return Fail(WrongType("the body", "a JSON object", body));
  ExportRequest r;
  auto format = body.find("format");
  if (format == body.end()) return Fail(InvalidArgument("format is missing"));
  auto parsed_format = ParseFormat(*format);
  if (!parsed_format) return Fail(parsed_format.error());
  r.format = *parsed_format;

  auto locale = OptionalString(body, "locale", "locale", "en", 64);
  if (!locale) return Fail(locale.error());
  if (auto l = ParseLocale(*locale); !l) return Fail(l.error());
  r.locale = std::move(*locale);

  auto zone = OptionalString(body, "zone", "zone", default_zone, 128);
  if (!zone) return Fail(zone.error());
  if (auto cal = historian::Calendar::Create(*zone); !cal) return Fail(cal.error());
  r.zone = std::move(*zone);

  auto title = OptionalString(body, "title", "title", "Export", kMaxTitleBytes);
  if (!title) return Fail(title.error());
  r.title = std::move(*title);

  auto series = body.find("series");
  if (series == body.end()) return Fail(InvalidArgument("series is missing"));
  if (!series->is_array()) return Fail(WrongType("series", "an array", *series));
  if (series->size() > kMaxExportSeries) {
    return Fail(InvalidArgument(
        fmt::format("too many series: {} (at most {})", series->size(), kMaxExportSeries)));
  }
  // Count before converting, so that an oversized body is refused before any copy is made.
  size_t values = 0;
  for (const auto& s : *series) {
    if (auto p = s.is_object() ? s.find("points") : s.end(); s.is_object() && p != s.end()) {
      values += p->is_array() ? p->size() : 0;
    }
  }
  if (values > kMaxExportValues) {
    return Fail(InvalidArgument(
        fmt::format("too many values: {} (at most {} in all series)", values, kMaxExportValues)));
  }
  for (size_t i = 0; i < series->size(); ++i) {
    auto s = ParseSeries((*series)[i], i);
    if (!s) return Fail(s.error());
    r.series.push_back(std::move(*s));
  }
  if (Status st = CheckLimits(r); !st.ok()) return Fail(st);
  return r;
}

std::string ExportFilename(std::string_view title, std::string_view extension) {
  std::string name;
  for (char c : title) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (ok) {
      if (!name.empty() || (c != '.' && c != '_')) name += c;
    } else if (!name.empty() && name.back() != '_') {
      name += '_';
    }
    if (name.size() >= 100) break;
  }
  while (!name.empty() && (name.back() == '_' || name.back() == '.')) name.pop_back();
  if (name.empty()) name = "export";
  return name + std::string(extension);
}

Result<ExportFile> RenderExport(const ExportRequest& r) {
  if (Status st = CheckLimits(r); !st.ok()) return Fail(st);
  auto locale = ParseLocale(r.locale);
  if (!locale) return Fail(locale.error());
  auto format = LocaleFormat::Create(*locale, r.zone);
  if (!format) return Fail(format.error());
  auto table = BuildTable(r, *format);
  if (!table) return Fail(table.error());
  ExportFile file;
  switch (r.format) {
    case ExportFormat::kCsv:
      file.content_type = "text/csv; charset=utf-8";
      file.filename = ExportFilename(r.title, ".csv");
      file.bytes = RenderCsv(*table, *format);
      break;
    case ExportFormat::kXlsx: {
      file.content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
      file.filename = ExportFilename(r.title, ".xlsx");
      auto bytes = export_internal::RenderXlsx(*table, *format);
      if (!bytes) return Fail(bytes.error());
      file.bytes = std::move(*bytes);
      break;
    }
    case ExportFormat::kPdf: {
      file.content_type = "application/pdf";
      file.filename = ExportFilename(r.title, ".pdf");
      auto bytes = export_internal::RenderPdf(*table, *format);
      if (!bytes) return Fail(bytes.error());
      file.bytes = std::move(*bytes);
      break;
    }
  }
  return file;
}

}  // namespace wattline::server
