// Internal to the exporter (export.h): the table every format writes, and the two renderers that
// need a library (export_xlsx.cc, export_pdf.cc). Not for use outside src/server/export*.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "server/export.h"
#include "server/locale_format.h"

namespace wattline::server::export_internal {

// The rows of an export without materialising rows x series cells (1,000,000 rows of one series
// next to 63 sparse ones would be 64 million mostly empty cells): each series keeps its own
// sorted points and a RowCursor merges them row by row.
struct ExportTable {
  std::string title;
  std::string time_header;           // "Time (Europe/Berlin)" / "Zeit (...)"
  std::vector<std::string> headers;  // "name [unit]" per series
  std::vector<std::string> units;    // per series
  std::vector<std::vector<std::pair<int64_t, double>>> series;  // sorted, one point per time
  std::vector<int64_t> times;  // the union of all timestamps, ascending
};

// Walks the rows in order; values() holds NaN where a series has no value at time().
class RowCursor {
 public:
  explicit RowCursor(const ExportTable& table)
      : table_(table), next_(table.series.size(), 0), values_(table.series.size()) {}
  // Advances to the next row; false after the last.
  bool Next();
  int64_t time() const { return table_.times[row_]; }
  size_t row() const { return row_; }
  const std::vector<double>& values() const { return values_; }

 private:
  const ExportTable& table_;
  size_t row_ = 0;
  bool started_ = false;
  std::vector<size_t> next_;
  std::vector<double> values_;
};

// The XLSX workbook bytes. kInternal naming libxlsxwriter's error; kUnavailable when the
// temporary directory cannot be used. Every temporary file is removed before returning.
Result<std::string> RenderXlsx(const ExportTable& table, const LocaleFormat& format);

// The PDF document bytes. kInternal naming libharu's error code.
Result<std::string> RenderPdf(const ExportTable& table, const LocaleFormat& format);

}  // namespace wattline::server::export_internal
