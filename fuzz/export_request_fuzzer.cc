// libFuzzer target for the JSON body of POST /api/v1/export (docs/api.md, "Exports"):
// ParseExportRequest must answer any bytes with a request or kInvalidArgument, never crash or
// hang; a request it accepts must stay inside the documented limits and render as CSV, and a
// small one also as PDF (libharu, CP1252 conversion of arbitrary names). XLSX is left out: it
// goes through temporary files and would make each run slow.
// Build and run: see fuzz/CMakeLists.txt. Seed corpus: testdata/export/.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/export.h"

using namespace wattline;
using namespace wattline::server;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = ParseExportRequest(in, "Europe/Berlin");
  if (!r) {
    if (r.error().code() != Code::kInvalidArgument || r.error().message().empty()) std::abort();
    return 0;
  }
  size_t values = 0;
  for (const auto& s : r->series) values += s.points.size();
  if (r->series.empty() || r->series.size() > kMaxExportSeries || values > kMaxExportValues) {
    std::abort();
  }
  ExportRequest csv = *r;
  csv.format = ExportFormat::kCsv;
  auto file = RenderExport(csv);
  if (!file || file.value().bytes.substr(0, 3) != "\xEF\xBB\xBF") std::abort();
  if (values <= 200 && r->series.size() <= 16) {
    ExportRequest pdf = *r;
    pdf.format = ExportFormat::kPdf;
    auto doc = RenderExport(pdf);
    if (!doc || doc.value().bytes.substr(0, 5) != "%PDF-") std::abort();
  }
  return 0;
}
