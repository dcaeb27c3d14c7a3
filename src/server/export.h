// The exporter behind POST /api/v1/export (docs/api.md, "Exports"): the trend's series as a CSV,
// XLSX or PDF file for people. One row per distinct timestamp (ascending, the union over all
// series), one column per series headed "name [unit]"; a series without a value at a row's time,
// or with a NaN/null value there, leaves its cell empty. Dates and numbers follow the request's
// locale and time zone (locale_format.h).
//  - CSV: UTF-8 with byte order mark (so that Excel detects the encoding), CRLF line ends,
//    RFC 4180 quoting; separator ',' for "en", ';' for "de".
//  - XLSX (libxlsxwriter): title row, header row, real date and number cells (the locale changes
//    only their display format), frozen header, column widths.
//  - PDF (libharu): A4 landscape; first page title, time range and zone, a line chart with axes
//    and legend; then the table on as many pages as needed, header repeated on each.
// Pure functions: no shared state, safe to call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace wattline::server {

enum class ExportFormat : uint8_t { kCsv, kXlsx, kPdf };

inline constexpr size_t kMaxExportSeries = 64;
inline constexpr size_t kMaxExportValues = 1'000'000;

struct ExportSeries {
  std::string name;
  std::string unit;
  // (Unix ms, value) in any order; NaN is "no value". A timestamp repeated within one series
  // keeps its last value.
  std::vector<std::pair<int64_t, double>> points;
};

struct ExportRequest {
  ExportFormat format = ExportFormat::kCsv;
  std::string locale = "en";  // "en" or "de"
  std::string zone;           // IANA zone for the time column, e.g. "Europe/Berlin"
  std::string title;
  std::vector<ExportSeries> series;
};

// Parses the JSON body of POST /api/v1/export:
//   {"format": "csv"|"xlsx"|"pdf", "locale": "en"|"de" (default "en"), "zone": IANA zone
//    (default `default_zone`), "title": string (default "Export"),
//    "series": [{"name": string, "unit": string (default ""), "points": [[ts_ms,
//    value|null],...]}]}
// Timestamps are integral Unix milliseconds in the years 1800..2999; values are numbers or null.
// kInvalidArgument with a message naming the problem (and the series index) for malformed JSON,
// wrong types, an unknown format, locale or zone, no series, more than kMaxExportSeries series or
// more than kMaxExportValues values in all, or a timestamp that is not a finite integer in range;
// kFailedPrecondition when the OS time zone database cannot be read.
Result<ExportRequest> ParseExportRequest(std::string_view json_body,
                                         const std::string& default_zone);

struct ExportFile {
  std::string content_type;  // e.g. "text/csv; charset=utf-8"
  std::string filename;      // the title reduced to [A-Za-z0-9._-] plus ".csv"/".xlsx"/".pdf"
  std::string bytes;
};

// Renders the file. kInvalidArgument for a request that ParseExportRequest would refuse (unknown
// locale or zone, too many series or values); kInternal when libxlsxwriter or libharu fail (the
// message names the library's error); kUnavailable when no temporary file can be written for
// the XLSX file.
Result<ExportFile> RenderExport(const ExportRequest& r);

// The title reduced to a file name: every run of characters outside [A-Za-z0-9._-] becomes one
// '_', leading dots and underscores are dropped, at most 100 characters; "export" when nothing
// is left. `extension` is appended as given (".csv").
std::string ExportFilename(std::string_view title, std::string_view extension);

}  // namespace wattline::server
