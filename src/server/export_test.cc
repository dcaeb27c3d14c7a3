#include "server/export.h"

#include <date/date.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "server/locale_format.h"
#include "server/test_dir.h"

namespace wattline::server {
namespace {

using namespace date::literals;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int64_t Utc(date::year_month_day day, std::chrono::milliseconds time_of_day) {
  return (std::chrono::duration_cast<std::chrono::milliseconds>(
              date::sys_days(day).time_since_epoch()) +
          time_of_day)
      .count();
}

// ---------------------------------------------------------------------------------------------
// Parsing

json ValidBody() {
  return json{{"format", "csv"},
              {"locale", "de"},
              {"zone", "Europe/Berlin"},
              {"title", "Wärmepumpe Dezember"},
              {"series",
               {{{"name", "Wärmepumpe"},
                 {"unit", "kW"},
                 {"points", {{1765112700000, 1234.5}, {1765113600000, nullptr}}}},
                {{"name", "PV"}, {"points", json::array({json::array({1765112700000.0, 3})})}}}}};
}

TEST(ExportParseTest, ParsesAValidBody) {
  auto r = ParseExportRequest(ValidBody().dump(), "UTC");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->format, ExportFormat::kCsv);
  EXPECT_EQ(r->locale, "de");
  EXPECT_EQ(r->zone, "Europe/Berlin");
  EXPECT_EQ(r->title, "Wärmepumpe Dezember");
  ASSERT_EQ(r->series.size(), 2u);
  EXPECT_EQ(r->series[0].name, "Wärmepumpe");
  EXPECT_EQ(r->series[0].unit, "kW");
  ASSERT_EQ(r->series[0].points.size(), 2u);
  EXPECT_EQ(r->series[0].points[0].first, 1765112700000);
  EXPECT_EQ(r->series[0].points[0].second, 1234.5);
  EXPECT_TRUE(std::isnan(r->series[0].points[1].second));  // null: no value
  EXPECT_EQ(r->series[1].unit, "");
  EXPECT_EQ(r->series[1].points[0].first, 1765112700000);  // 1765112700000.0 is integral
}

TEST(ExportParseTest, DefaultsForZoneLocaleAndTitle) {
  json body = ValidBody();
  body.erase("zone");
  body.erase("locale");
  body.erase("title");
  body["format"] = "pdf";
  auto r = ParseExportRequest(body.dump(), "America/New_York");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->format, ExportFormat::kPdf);
  EXPECT_EQ(r->zone, "America/New_York");
  EXPECT_EQ(r->locale, "en");
  EXPECT_EQ(r->title, "Export");
}

struct BadCase {
  std::string name;
  std::string body;
  std::string message;  // a part of the expected error message
};

std::string With(const char* key, json value) {
  json b = ValidBody();
  b[key] = std::move(value);
  return b.dump();
}
std::string WithPoint(json point) {
  json b = ValidBody();
  b["series"][0]["points"][1] = std::move(point);
  return b.dump();
}
std::string WithSeries(const char* key, json value) {
  json b = ValidBody();
  if (value.is_discarded()) {
    b["series"][0].erase(key);
  } else {
    b["series"][0][key] = std::move(value);
  }
  return b.dump();
}
std::string Without(const char* key) {
  json b = ValidBody();
  b.erase(key);
  return b.dump();
}
std::string ManySeries(size_t n) {
  json b = ValidBody();
  b["series"] = json::array();
  for (size_t i = 0; i < n; ++i) {
    b["series"].push_back({{"name", "s" + std::to_string(i)}, {"points", json::array()}});
  }
  return b.dump();
}
// Two series with `n` values in all, written directly (a json DOM of a million points is slow
// under ASan).
std::string ManyValues(size_t n) {
  std::string points[2];
  for (size_t i = 0; i < n; ++i) {
    std::string& p = points[i % 2];
    if (!p.empty()) p += ',';
    p += "[" + std::to_string(i) + ",1]";
  }
  return R"({"format":"csv","series":[{"name":"a","points":[)" + points[0] +
         R"(]},{"name":"b","points":[)" + points[1] + "]}]}";
}

TEST(ExportParseTest, EachBadInputIsInvalidArgumentNamingTheProblem) {
  const std::vector<BadCase> cases = {
      {"not json", "{\"format\": ", "not valid JSON"},
      {"not an object", "[1, 2]", "the body must be a JSON object, got array"},
      {"no format", Without("format"), "format is missing"},
      {"unknown format", With("format", "docx"), "unknown format \"docx\""},
      {"format type", With("format", 3), "format must be a string, got number"},
      {"unknown locale", With("locale", "fr"), "unknown locale \"fr\""},
      {"locale type", With("locale", json::array()), "locale must be a string, got array"},
      {"unknown zone", With("zone", "Mars/Olympus_Mons"),
       "unknown time zone \"Mars/Olympus_Mons\""},
      {"zone type", With("zone", 1), "zone must be a string, got number"},
      {"title type", With("title", true), "title must be a string, got boolean"},
      {"title too long", With("title", std::string(600, 'x')), "title is longer than 500 bytes"},
      {"no series", Without("series"), "series is missing"},
      {"series type", With("series", json::object()), "series must be an array, got object"},
      {"empty series", With("series", json::array()), "series is empty"},
      {"too many series", ManySeries(65), "too many series: 65 (at most 64)"},
      {"too many values", ManyValues(1'000'001), "too many values: 1000001 (at most 1000000"},
      {"series not object", With("series", json::array({1})), "series[0] must be an object"},
      {"no name", WithSeries("name", json(json::value_t::discarded)), "series[0].name is missing"},
      {"name type", WithSeries("name", 7), "series[0].name must be a string, got number"},
      {"unit type", WithSeries("unit", 7), "series[0].unit must be a string, got number"},
      {"no points", WithSeries("points", json(json::value_t::discarded)),
       "series[0].points is missing"},
      {"points type", WithSeries("points", "x"), "series[0].points must be an array, got string"},
      {"point not pair", WithPoint(json::array({1765112700000})),
       "series[0].points[1] must be an array [ts_ms, value], got array of 1 elements"},
      {"point object", WithPoint(json::object()), "series[0].points[1] must be an array"},
      {"timestamp type", WithPoint(json::array({"2026-12-07", 1})),
       "series[0].points[1] timestamp must be a number (Unix milliseconds), got string"},
      {"timestamp fraction", WithPoint(json::array({1765112700000.5, 1})),
       "not a whole number of milliseconds"},
      {"timestamp out of range", WithPoint(json::array({1e300, 1})), "out of range"},
      {"timestamp negative huge", WithPoint(json::array({-9223372036854775807LL, 1})),
       "out of range"},
      {"timestamp unsigned huge", WithPoint(json::array({18446744073709551615ULL, 1})),
       "out of range"},
      {"value type", WithPoint(json::array({1765112700000, "1,5"})),
       "series[0].points[1] value must be a number or null, got string"},
  };
  for (const auto& c : cases) {
    auto r = ParseExportRequest(c.body, "UTC");
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << c.name;
    EXPECT_NE(r.error().message().find(c.message), std::string::npos)
        << c.name << ": " << r.error().message();
  }
}

TEST(ExportParseTest, NonFiniteTimestampIsRefused) {
  // JSON has no NaN or Infinity; a number beyond double's range is how one arrives.
  std::string body = R"({"format":"csv","series":[{"name":"a","points":[[1e400,1]]}]})";
  auto r = ParseExportRequest(body, "UTC");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_TRUE(r.error().message().find("not finite") != std::string::npos ||
              r.error().message().find("not valid JSON") != std::string::npos)
      << r.error().message();
}

TEST(ExportParseTest, AcceptsTheLimits) {
  auto many_series = ParseExportRequest(ManySeries(64), "UTC");
  ASSERT_TRUE(many_series) << many_series.error().ToString();
  auto many_values = ParseExportRequest(ManyValues(1'000'000), "UTC");
  ASSERT_TRUE(many_values) << many_values.error().ToString();
  EXPECT_EQ(many_values->series[0].points.size() + many_values->series[1].points.size(),
            1'000'000u);
}

// ---------------------------------------------------------------------------------------------
// Helpers: a CSV reader written from RFC 4180 and the external tools.

std::vector<std::vector<std::string>> ReadCsv(std::string_view text, char sep) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, field_started = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty()) {
      quoted = true;
      field_started = true;
    } else if (c == sep) {
      row.push_back(std::move(field));
      field.clear();
      field_started = true;
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      field_started = false;
      ++i;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (field_started || !field.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

double ParseNumber(std::string text, char decimal) {
  for (char& c : text) {
    if (c == decimal) c = '.';
  }
  size_t used = 0;
  double v = std::stod(text, &used);
  EXPECT_EQ(used, text.size()) << text;
  return v;
}

struct Command {
  int exit_code = -1;
  std::string out;
};
Command Run(const std::string& command) {
  Command c;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return c;
  char buf[65536];
  size_t n;
  while ((n = ::fread(buf, 1, sizeof(buf), p)) > 0) c.out.append(buf, n);
  int status = ::pclose(p);
  c.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return c;
}

bool Have(const std::string& probe) { return Run(probe + " >/dev/null 2>&1").exit_code == 0; }

class ExportFileTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshTestDir("wl-export"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const ExportFile& f) {
    std::string path = (dir_ / f.filename).string();
    std::ofstream(path, std::ios::binary) << f.bytes;
    return path;
  }
  std::filesystem::path dir_;
};

ExportFile Render(const ExportRequest& r) {
  auto f = RenderExport(r);
  EXPECT_TRUE(f) << f.error().ToString();
  return f ? *f : ExportFile{};
}

// Two series on different grids: "Leistung" every 15 minutes from 14:00 UTC, "Zähler" every
// 30 minutes from 14:10 UTC, with a NaN, a name that needs quoting and values with decimals.
ExportRequest TwoSeries(ExportFormat format, std::string locale) {
  ExportRequest r;
  r.format = format;
  r.locale = std::move(locale);
  r.zone = "Europe/Berlin";
  r.title = "Wärmepumpe; Halle \"Süd\"";
  ExportSeries power{"Leistung; \"L1\"", "kW", {}};
  ExportSeries meter{"Zähler", "kWh", {}};
  int64_t t0 = Utc(2026_y / 12 / 7, 14h);
  for (int i = 0; i < 8; ++i) power.points.emplace_back(t0 + i * 900'000, 1234.5 + i * 0.125);
  power.points[3].second = kNaN;
  for (int i = 0; i < 4; ++i) meter.points.emplace_back(t0 + 600'000 + i * 1'800'000, 98765.25 + i);
  r.series = {power, meter};
  return r;
}

// ---------------------------------------------------------------------------------------------
// CSV

void CheckCsvRoundTrip(const ExportRequest& r, char sep, char decimal, std::string_view time0) {
  ExportFile f = Render(r);
  EXPECT_EQ(f.content_type, "text/csv; charset=utf-8");
  ASSERT_GE(f.bytes.size(), 3u);
  EXPECT_EQ(f.bytes.substr(0, 3), "\xEF\xBB\xBF");
  auto rows = ReadCsv(std::string_view(f.bytes).substr(3), sep);
  // The union of timestamps: 8 + 4 distinct ones.
  ASSERT_EQ(rows.size(), 1u + 12u);
  ASSERT_EQ(rows[0].size(), 3u);
  EXPECT_EQ(rows[0][1], r.series[0].name + " [kW]");
  EXPECT_EQ(rows[0][2], "Zähler [kWh]");
  EXPECT_EQ(rows[1][0], time0);
  // Every input value is in the row of its time and column; nothing else is there.
  std::map<std::pair<std::string, size_t>, double> expected;
  LocaleFormat fmt = *LocaleFormat::Create(*ParseLocale(r.locale), r.zone);
  for (size_t s = 0; s < r.series.size(); ++s) {
    for (const auto& [t, v] : r.series[s].points) {
      if (!std::isnan(v)) expected[{fmt.Time(t), s}] = v;
    }
  }
  size_t seen = 0;
  std::string previous;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 3u) << i;
    EXPECT_LT(previous, rows[i][0]);  // ascending (same day: the text sorts like the time)
    previous = rows[i][0];
    for (size_t s = 0; s < 2; ++s) {
      auto it = expected.find({rows[i][0], s});
      if (it == expected.end()) {
        EXPECT_EQ(rows[i][s + 1], "") << rows[i][0] << " series " << s;
      } else {
        EXPECT_NEAR(ParseNumber(rows[i][s + 1], decimal), it->second, 1e-9) << rows[i][0];
        ++seen;
      }
    }
  }
  EXPECT_EQ(seen, expected.size());
}

TEST_F(ExportFileTest, CsvEnglishParsesBack) {
  ExportRequest r = TwoSeries(ExportFormat::kCsv, "en");
  CheckCsvRoundTrip(r, ',', '.', "2026-12-07 15:00:00");
  std::string bytes = Render(r).bytes;
  EXPECT_NE(bytes.find("1234.625"), std::string::npos);
  EXPECT_NE(bytes.find("\"Leistung; \"\"L1\"\" [kW]\""), std::string::npos) << bytes;
}

TEST_F(ExportFileTest, CsvGermanUsesSemicolonAndDecimalComma) {
  ExportRequest r = TwoSeries(ExportFormat::kCsv, "de");
  CheckCsvRoundTrip(r, ';', ',', "07.12.2026 15:00:00");
  ExportFile f = Render(r);
  EXPECT_NE(f.bytes.find(";1234,625;"), std::string::npos) << f.bytes;
  EXPECT_NE(f.bytes.find("Zeit (Europe/Berlin)"), std::string::npos);
  EXPECT_EQ(f.filename, "W_rmepumpe_Halle_S_d.csv");
}

TEST_F(ExportFileTest, CsvDaylightSavingDaysInBerlin) {
  // Quarter-hourly values over the local days of both changes of 2026.
  for (auto [day, hours] : {std::pair{2026_y / 3 / 29, 23}, std::pair{2026_y / 10 / 25, 25}}) {
    ExportRequest r;
    r.format = ExportFormat::kCsv;
    r.locale = "de";
    r.zone = "Europe/Berlin";
    r.title = "dst";
    ExportSeries s{"P", "W", {}};
    // Local midnight is 23:00 UTC of the day before (CET, both days start in winter or summer
    // time: March 29 begins in CET, October 25 in CEST).
    int64_t start =
        Utc(date::year_month_day{date::sys_days(day) - date::days{1}}, hours == 23 ? 23h : 22h);
    for (int i = 0; i < hours * 4; ++i) s.points.emplace_back(start + i * 900'000, i);
    r.series = {s};
    auto rows = ReadCsv(Render(r).bytes.substr(3), ';');
    ASSERT_EQ(rows.size(), 1u + hours * 4u);
    std::string prefix = date::format("%d.%m.%Y ", date::sys_days(day));
    EXPECT_EQ(rows[1][0], prefix + "00:00:00");
    EXPECT_EQ(rows.back()[0], prefix + "23:45:00");
    std::multiset<std::string> times;
    for (size_t i = 1; i < rows.size(); ++i) {
      times.insert(rows[i][0]);
      EXPECT_EQ(ParseNumber(rows[i][1], ','), static_cast<double>(i - 1));
    }
    if (hours == 23) {
      EXPECT_EQ(times.count(prefix + "02:00:00"), 0u);  // skipped
      EXPECT_EQ(rows[8][0], prefix + "01:45:00");
      EXPECT_EQ(rows[9][0], prefix + "03:00:00");
    } else {
      EXPECT_EQ(times.count(prefix + "02:15:00"), 2u);  // the hour that comes twice
      EXPECT_EQ(times.count(prefix + "03:00:00"), 1u);
    }
  }
}

TEST_F(ExportFileTest, CsvNeutralisesFormulaNames) {
  ExportRequest r = TwoSeries(ExportFormat::kCsv, "en");
  r.series[0].name = "=HYPERLINK(\"http://x\")";
  r.series[0].unit = "";
  auto rows = ReadCsv(Render(r).bytes.substr(3), ',');
  EXPECT_EQ(rows[0][1], "'=HYPERLINK(\"http://x\")");
}

TEST_F(ExportFileTest, DuplicateTimestampsKeepTheLastValue) {
  ExportRequest r = TwoSeries(ExportFormat::kCsv, "en");
  r.series.resize(1);
  r.series[0].points = {{2000, 1}, {1000, 2}, {2000, 3}};
  r.zone = "UTC";
  auto rows = ReadCsv(Render(r).bytes.substr(3), ',');
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][0], "1970-01-01 00:00:01");
  EXPECT_EQ(rows[1][1], "2");
  EXPECT_EQ(rows[2][1], "3");
}

TEST(ExportRenderTest, RefusesWhatTheParserRefuses) {
  ExportRequest r = TwoSeries(ExportFormat::kCsv, "en");
  r.zone = "Nowhere/City";
  auto f = RenderExport(r);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code(), Code::kInvalidArgument);
  r = TwoSeries(ExportFormat::kCsv, "xx");
  EXPECT_EQ(RenderExport(r).error().code(), Code::kInvalidArgument);
  r = TwoSeries(ExportFormat::kCsv, "en");
  r.series.resize(65, r.series[0]);
  EXPECT_EQ(RenderExport(r).error().code(), Code::kInvalidArgument);
}

TEST(ExportRenderTest, FilenamesAreSanitised) {
  EXPECT_EQ(ExportFilename("Wärmepumpe Dezember 2026", ".csv"), "W_rmepumpe_Dezember_2026.csv");
  EXPECT_EQ(ExportFilename("../../etc/passwd", ".pdf"), "etc_passwd.pdf");
  EXPECT_EQ(ExportFilename("", ".xlsx"), "export.xlsx");
  EXPECT_EQ(ExportFilename("äöü", ".csv"), "export.csv");
  EXPECT_EQ(ExportFilename("meter-01_v2.final", ".csv"), "meter-01_v2.final.csv");
  EXPECT_EQ(ExportFilename(std::string(300, 'a'), ".csv"), std::string(100, 'a') + ".csv");
}

// ---------------------------------------------------------------------------------------------
// XLSX, read back with openpyxl (Debian python3-openpyxl)

constexpr char kOpenpyxlDump[] = R"PY(
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb.active
def cell(c):
    v = c.value
    if hasattr(v, 'isoformat'):
        return {'date': v.isoformat(sep=' '), 'format': c.number_format}
    return v
print(json.dumps({
    'sheet': ws.title,
    'freeze': ws.freeze_panes,
    'width_a': ws.column_dimensions['A'].width,
    'width_b': ws.column_dimensions['B'].width,
    'rows': [[cell(c) for c in row] for row in ws.iter_rows()],
}))
)PY";

json ReadXlsx(const std::string& path) {
  std::string script = path + ".py";
  std::ofstream(script) << kOpenpyxlDump;
  Command c = Run("/usr/bin/python3 '" + script + "' '" + path + "'");
  EXPECT_EQ(c.exit_code, 0) << c.out;
  return json::parse(c.out, nullptr, false);
}

TEST_F(ExportFileTest, XlsxHasRealDatesNumbersAndHeader) {
  if (!Have("/usr/bin/python3 -c 'import openpyxl'")) {
    GTEST_SKIP() << "python3-openpyxl is not installed (scripts/install-deps.sh --test)";
  }
  for (std::string locale : {"de", "en"}) {
    ExportRequest r = TwoSeries(ExportFormat::kXlsx, locale);
    ExportFile f = Render(r);
    EXPECT_EQ(f.content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    EXPECT_EQ(f.filename, "W_rmepumpe_Halle_S_d.xlsx");
    json x = ReadXlsx(Write(f));
    ASSERT_TRUE(x.is_object()) << locale;
    EXPECT_EQ(x["freeze"], "B3");
    EXPECT_GE(x["width_a"].get<double>(), 19);
    const json& rows = x["rows"];
    ASSERT_EQ(rows.size(), 2u + 12u);
    EXPECT_EQ(rows[0][0], r.title);
    EXPECT_EQ(rows[1][0], locale == "de" ? "Zeit (Europe/Berlin)" : "Time (Europe/Berlin)");
    EXPECT_EQ(rows[1][1], "Leistung; \"L1\" [kW]");
    EXPECT_EQ(rows[1][2], "Zähler [kWh]");
    // 14:00 UTC is 15:00 in Berlin; the date cell carries the locale's display format.
    EXPECT_EQ(rows[2][0]["date"], "2026-12-07 15:00:00");
    EXPECT_EQ(rows[2][0]["format"], locale == "de" ? "dd.mm.yyyy hh:mm:ss" : "yyyy-mm-dd hh:mm:ss");
    EXPECT_EQ(rows[2][1], 1234.5);  // a number cell, not text
    EXPECT_TRUE(rows[2][2].is_null());
    EXPECT_EQ(rows[3][0]["date"], "2026-12-07 15:10:00");
    EXPECT_EQ(rows[3][2], 98765.25);
    // The NaN at 14:45 UTC (15:45 local) is an empty cell.
    bool found = false;
    for (const auto& row : rows) {
      if (row[0].is_object() && row[0]["date"] == "2026-12-07 15:45:00") {
        found = true;
        EXPECT_TRUE(row[1].is_null());
      }
    }
    EXPECT_TRUE(found);
  }
}

TEST_F(ExportFileTest, XlsxLeavesNoTemporaryFiles) {
  auto before =
      std::distance(std::filesystem::directory_iterator(std::filesystem::temp_directory_path()),
                    std::filesystem::directory_iterator{});
  for (int i = 0; i < 3; ++i) Render(TwoSeries(ExportFormat::kXlsx, "en"));
  auto after =
      std::distance(std::filesystem::directory_iterator(std::filesystem::temp_directory_path()),
                    std::filesystem::directory_iterator{});
  // Other processes share /tmp; with none of ours left the count does not grow by 3.
  EXPECT_LT(after - before, 3);
}

// ---------------------------------------------------------------------------------------------
// PDF, read back with poppler's pdftotext and pdfinfo (Debian poppler-utils)

int PdfPages(const std::string& path) {
  Command c = Run("pdfinfo '" + path + "'");
  EXPECT_EQ(c.exit_code, 0) << c.out;
  size_t at = c.out.find("Pages:");
  return at == std::string::npos ? -1 : std::stoi(c.out.substr(at + 6));
}

std::string PdfText(const std::string& path, const std::string& pages = "") {
  Command c = Run("pdftotext -layout -enc UTF-8 " + pages + " '" + path + "' -");
  EXPECT_EQ(c.exit_code, 0);
  return c.out;
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST_F(ExportFileTest, PdfShowsTitleUmlautsGermanNumbersAndDates) {
  if (!Have("pdftotext -v") || !Have("pdfinfo -v")) {
    GTEST_SKIP() << "pdftotext/pdfinfo are missing: install poppler-utils";
  }
  ExportRequest r = TwoSeries(ExportFormat::kPdf, "de");
  r.title = "Wärmepumpe Halle Süd → Ost";  // the arrow has no CP1252 form
  r.series[1].name = "Wärmepumpe";
  ExportFile f = Render(r);
  EXPECT_EQ(f.content_type, "application/pdf");
  EXPECT_EQ(f.bytes.substr(0, 5), "%PDF-");
  std::string path = Write(f);
  EXPECT_EQ(PdfPages(path), 2);
  std::string text = PdfText(path);
  EXPECT_NE(text.find("Wärmepumpe Halle Süd ? Ost"), std::string::npos) << text;
  EXPECT_NE(text.find("Wärmepumpe [kWh]"), std::string::npos);
  EXPECT_NE(text.find("1234,625"), std::string::npos);
  EXPECT_NE(text.find("98765,25"), std::string::npos);
  EXPECT_NE(text.find("07.12.2026 15:00:00"), std::string::npos);
  EXPECT_NE(text.find("Europe/Berlin"), std::string::npos);
  EXPECT_NE(text.find("Seite 2 / 2"), std::string::npos);
  // The chart's time axis is labelled on round local times (the data runs 15:00 to 16:45).
  std::string chart = PdfText(path, "-f 1 -l 1");
  EXPECT_NE(chart.find("16:30:00"), std::string::npos) << chart;
  EXPECT_NE(chart.find("Wärmepumpe [kWh]"), std::string::npos);  // the legend
  EXPECT_NE(chart.find("Zeit (Europe/Berlin)"), std::string::npos);
}

TEST_F(ExportFileTest, PdfTableSpansPagesWithEveryRow) {
  if (!Have("pdftotext -v") || !Have("pdfinfo -v")) {
    GTEST_SKIP() << "pdftotext/pdfinfo are missing: install poppler-utils";
  }
  ExportRequest r;
  r.format = ExportFormat::kPdf;
  r.locale = "en";
  r.zone = "UTC";
  r.title = "Two thousand rows";
  ExportSeries s{"Energy", "kWh", {}};
  int64_t t0 = Utc(2026_y / 1 / 1, 0h);
  for (int i = 0; i < 2000; ++i) s.points.emplace_back(t0 + i * 60'000, i + 0.5);
  r.series = {s};
  std::string path = Write(Render(r));
  int pages = PdfPages(path);
  EXPECT_GT(pages, 2000 / 60);
  std::string text = PdfText(path);
  // Header on every table page, every row exactly once, page numbers up to the last.
  EXPECT_EQ(Count(text, "Time (UTC)"), static_cast<size_t>(pages - 1) + 1);  // + chart axis
  for (int i = 0; i < 2000; ++i) {
    std::string time = date::format(
        "%Y-%m-%d %H:%M:%S", date::sys_seconds(std::chrono::seconds((t0 + i * 60'000) / 1000)));
    // The first and the last time also make the time range under the title.
    ASSERT_EQ(Count(text, time), i == 0 || i == 1999 ? 2u : 1u) << time;
  }
  EXPECT_NE(text.find("1999.5"), std::string::npos);
  EXPECT_NE(text.find(fmt::format("Page {} / {}", pages, pages)), std::string::npos);
}

TEST_F(ExportFileTest, PdfSplitsManySeriesIntoColumnGroups) {
  if (!Have("pdftotext -v") || !Have("pdfinfo -v")) {
    GTEST_SKIP() << "pdftotext/pdfinfo are missing: install poppler-utils";
  }
  ExportRequest r;
  r.format = ExportFormat::kPdf;
  r.locale = "de";
  r.zone = "Europe/Berlin";
  r.title = "64 Zähler";
  for (int s = 0; s < 64; ++s) {
    ExportSeries series{"Z" + std::to_string(s), "kWh", {}};
    for (int i = 0; i < 10; ++i) {
      series.points.emplace_back(Utc(2026_y / 6 / 1, std::chrono::hours(i)), s * 1000 + i + 0.25);
    }
    r.series.push_back(series);
  }
  std::string path = Write(Render(r));
  std::string text = PdfText(path);
  EXPECT_GT(PdfPages(path), 2);
  for (int s = 0; s < 64; ++s) {
    EXPECT_NE(text.find(fmt::format("{},25", s * 1000 + 9)), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace wattline::server
