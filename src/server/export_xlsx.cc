// The XLSX renderer of the exporter (export_table.h), on libxlsxwriter (Debian libxlsxwriter-dev).
// libxlsxwriter 1.1.4 (Debian 12) writes only to a file, so the workbook goes to a private
// temporary directory that is removed, with everything libxlsxwriter put there, on every path.
#include <fmt/format.h>
#include <stdlib.h>
#include <xlsxwriter.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "server/export_table.h"

namespace wattline::server::export_internal {
namespace {

// Removes the directory tree when it goes out of scope.
class TempDir {
 public:
  static Result<TempDir> Create() {
    std::error_code ec;
    std::filesystem::path base = std::filesystem::temp_directory_path(ec);
    if (ec) base = "/tmp";
    std::string pattern = (base / "wattline-export-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return Fail(
          Unavailable(fmt::format("cannot create a temporary directory for the XLSX "
                                  "file in {}: {}",
                                  base.string(), std::strerror(errno))));
    }
    return TempDir(pattern);
  }
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

Status XlsxError(std::string_view what, lxw_error err) {
  return Internal(fmt::format("libxlsxwriter: {}: {}", what, lxw_strerror(err)));
}

// Column width in characters for a header (UTF-8 continuation bytes do not count).
double WidthFor(std::string_view text, double min, double max) {
  double chars = static_cast<double>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
  return std::clamp(chars + 2, min, max);
}

}  // namespace

Result<std::string> RenderXlsx(const ExportTable& table, const LocaleFormat& format) {
  constexpr lxw_row_t kFirstDataRow = 2;
  if (table.times.size() + kFirstDataRow > LXW_ROW_MAX) {
    return Fail(InvalidArgument(fmt::format("{} rows do not fit on an XLSX sheet (at most {})",
                                            table.times.size(), LXW_ROW_MAX - kFirstDataRow)));
  }
  auto dir = TempDir::Create();
  if (!dir) return Fail(dir.error());
  std::string path = dir->path() + "/export.xlsx";

  // constant_memory: rows go to the temporary directory as they are written (they are written
  // in order), so a million values do not sit in libxlsxwriter's in-memory cell tree.
  lxw_workbook_options options{};
  options.constant_memory = LXW_TRUE;
  options.tmpdir = const_cast<char*>(dir->path().c_str());
  options.use_zip64 = LXW_TRUE;
  lxw_workbook* wb = workbook_new_opt(path.c_str(), &options);
  if (wb == nullptr) return Fail(Internal("libxlsxwriter: cannot create the workbook"));

  const bool de = format.locale() == Locale::kDe;
  lxw_worksheet* ws = workbook_add_worksheet(wb, de ? "Daten" : "Data");
  lxw_format* title_format = workbook_add_format(wb);
  format_set_bold(title_format);
  format_set_font_size(title_format, 14);
  lxw_format* header_format = workbook_add_format(wb);
  format_set_bold(header_format);
  format_set_bottom(header_format, LXW_BORDER_THIN);
  lxw_format* date_format = workbook_add_format(wb);
  std::string date_code(format.ExcelDateFormat());
  format_set_num_format(date_format, date_code.c_str());
  // Numbers keep Excel's "General" display: the reader's Excel shows its own decimal separator,
  // which a number format code cannot choose.

  Status status;
  auto check = [&](std::string_view what, lxw_error err) {
    if (err != LXW_NO_ERROR && status.ok()) status = XlsxError(what, err);
  };
  if (ws == nullptr) status = Internal("libxlsxwriter: cannot add the worksheet");
  if (status.ok()) {
    check("column width",
          worksheet_set_column(ws, 0, 0, WidthFor(table.time_header, 21, 40), nullptr));
    for (size_t c = 0; c < table.headers.size(); ++c) {
      lxw_col_t col = static_cast<lxw_col_t>(c + 1);
      check("column width",
            worksheet_set_column(ws, col, col, WidthFor(table.headers[c], 12, 40), nullptr));
    }
    worksheet_freeze_panes(ws, kFirstDataRow, 1);
    check("title", worksheet_write_string(ws, 0, 0, table.title.c_str(), title_format));
    check("header", worksheet_write_string(ws, 1, 0, table.time_header.c_str(), header_format));
    for (size_t c = 0; c < table.headers.size(); ++c) {
      check("header", worksheet_write_string(ws, 1, static_cast<lxw_col_t>(c + 1),
                                             table.headers[c].c_str(), header_format));
    }
    RowCursor rows(table);
    while (status.ok() && rows.Next()) {
      lxw_row_t row = static_cast<lxw_row_t>(rows.row() + kFirstDataRow);
      check("date cell",
            worksheet_write_number(ws, row, 0, format.ExcelSerial(rows.time()), date_format));
      const auto& values = rows.values();
      for (size_t c = 0; c < values.size(); ++c) {
        if (std::isfinite(values[c])) {
          check("number cell",
                worksheet_write_number(ws, row, static_cast<lxw_col_t>(c + 1), values[c], nullptr));
        }
      }
    }
  }
  // workbook_close writes the file and frees the workbook, also after an error above.
  lxw_error closed = workbook_close(wb);
  if (!status.ok()) return Fail(status);
  if (closed != LXW_NO_ERROR) return Fail(XlsxError("writing the workbook", closed));

  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return Fail(Unavailable(fmt::format("cannot read back the XLSX file {}", path)));
  }
  if (bytes.empty()) return Fail(Internal("libxlsxwriter wrote an empty XLSX file"));
  return bytes;
}

}  // namespace wattline::server::export_internal
