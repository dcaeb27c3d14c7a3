// The PDF renderer of the exporter (export_table.h), on libharu (Debian libhpdf-dev): A4
// landscape, a first page with title, time range, zone and a line chart, then the table.
// Text uses the built-in Helvetica with WinAnsiEncoding (Windows code page 1252), which covers
// German umlauts and ß without embedding a font; UTF-8 is converted with glibc's iconv and what
// CP1252 cannot show becomes '?'.
#include <errno.h>
#include <fmt/format.h>
#include <hpdf.h>
#include <iconv.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>

#include "server/export_table.h"

namespace wattline::server::export_internal {
namespace {

constexpr float kPageW = 841.89f;  // A4 landscape in points
constexpr float kPageH = 595.28f;
constexpr float kMargin = 36;
constexpr float kTableFontSize = 8;
constexpr float kRowH = 11;
constexpr float kMinColW = 62;
constexpr float kMaxColW = 130;
// Chart lines are thinned to the minimum and maximum of each slot this wide (points), in time
// order, so peaks survive and a million values stay a few thousand path segments.
constexpr float kSlotW = 0.5f;

struct Rgb {
  float r, g, b;
};
// Distinguishable on white and in greyscale print; series past the twelfth reuse them dashed.
constexpr Rgb kPalette[] = {{0.12f, 0.47f, 0.71f}, {0.89f, 0.10f, 0.11f}, {0.20f, 0.63f, 0.17f},
                            {1.00f, 0.50f, 0.00f}, {0.42f, 0.24f, 0.60f}, {0.65f, 0.34f, 0.16f},
                            {0.97f, 0.51f, 0.75f}, {0.40f, 0.40f, 0.40f}, {0.74f, 0.74f, 0.13f},
                            {0.09f, 0.75f, 0.81f}, {0.00f, 0.00f, 0.55f}, {0.55f, 0.00f, 0.00f}};
constexpr size_t kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

// libharu reports errors through a callback and then returns an error code; the default
// behaviour of its examples (longjmp out) would skip our destructors. The callback only records
// the first error; the renderer checks it at each step and turns it into a Status.
struct HaruError {
  HPDF_STATUS error = HPDF_OK;
  HPDF_STATUS detail = 0;
};
void OnHaruError(HPDF_STATUS error, HPDF_STATUS detail, void* user_data) {
  auto* e = static_cast<HaruError*>(user_data);
  if (e->error == HPDF_OK) {
    e->error = error;
    e->detail = detail;
  }
}

struct DocDeleter {
  void operator()(HPDF_Doc doc) const { HPDF_Free(doc); }
};
using DocPtr = std::unique_ptr<std::remove_pointer_t<HPDF_Doc>, DocDeleter>;

// UTF-8 to CP1252 through iconv. Control characters become spaces (a NUL would cut the string
// that libharu takes); characters CP1252 lacks and invalid bytes become '?'.
class Cp1252 {
 public:
  Cp1252() : cd_(iconv_open("CP1252", "UTF-8")) {}
  ~Cp1252() {
    if (cd_ != reinterpret_cast<iconv_t>(-1)) iconv_close(cd_);
  }
  Cp1252(const Cp1252&) = delete;
  Cp1252& operator=(const Cp1252&) = delete;
  bool ok() const { return cd_ != reinterpret_cast<iconv_t>(-1); }

  std::string operator()(std::string_view utf8) const {
    std::string out;
    out.reserve(utf8.size());
    iconv(cd_, nullptr, nullptr, nullptr, nullptr);
    char* in = const_cast<char*>(utf8.data());
    size_t in_left = utf8.size();
    char buf[256];
    while (in_left > 0) {
      char* o = buf;
      size_t o_left = sizeof(buf);
      size_t r = iconv(cd_, &in, &in_left, &o, &o_left);
      out.append(buf, static_cast<size_t>(o - buf));
      if (r != static_cast<size_t>(-1)) break;
      if (errno == E2BIG) continue;
      // EILSEQ (no CP1252 form, or invalid UTF-8) or EINVAL (truncated at the end): one '?' for
      // the whole sequence.
      out += '?';
      size_t skip = SequenceLength(static_cast<unsigned char>(*in));
      skip = std::min(skip, in_left);
      in += skip;
      in_left -= skip;
    }
    for (char& c : out) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
    }
    return out;
  }

 private:
  static size_t SequenceLength(unsigned char lead) {
    if (lead >= 0xF0 && lead <= 0xF7) return 4;
    if (lead >= 0xE0) return lead <= 0xEF ? 3 : 1;
    if (lead >= 0xC2) return 2;
    return 1;
  }
  iconv_t cd_;
};

int64_t CeilDiv(int64_t a, int64_t b) { return a / b + ((a % b != 0) && (a > 0)); }

// 1, 2 or 5 times a power of ten: the tick step for about `count` ticks over `range`.
double NiceStep(double range, int count) {
  double raw = range / count;
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  double f = raw / power;
  double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nice * power;
}

// How the table is cut into pages: column groups of at most `per_page` series (each group on
// its own run of pages, the time column repeated), rows_per_page rows below a header row.
struct TableLayout {
  float time_w = 0;
  size_t per_page = 1;
  size_t groups = 1;
  size_t rows_per_page = 1;
  size_t pages_per_group = 1;

  static TableLayout For(const ExportTable& table, const LocaleFormat& format, HPDF_Font font) {
    TableLayout l;
    // The widest time text: a date with milliseconds.
    std::string sample = format.Time(1'765'112'700'123);
    l.time_w = HPDF_Font_TextWidth(font, reinterpret_cast<const HPDF_BYTE*>(sample.data()),
                                   static_cast<HPDF_UINT>(sample.size()))
                       .width *
                   kTableFontSize / 1000.0f +
               12;
    const size_t n = table.headers.size();
    l.per_page =
        std::max<size_t>(1, static_cast<size_t>((kPageW - 2 * kMargin - l.time_w) / kMinColW));
    l.groups = n == 0 ? 1 : (n + l.per_page - 1) / l.per_page;
    const float top = kPageH - kMargin - 24;
    l.rows_per_page = static_cast<size_t>((top - kRowH - kMargin) / kRowH);
    l.pages_per_group =
        std::max<size_t>(1, (table.times.size() + l.rows_per_page - 1) / l.rows_per_page);
    return l;
  }
};

class PdfWriter {
 public:
  PdfWriter(const ExportTable& table, const LocaleFormat& format)
      : table_(table), format_(format), de_(format.locale() == Locale::kDe) {}

  Result<std::string> Render();

 private:
  Status Check(std::string_view what) const {
    if (error_.error == HPDF_OK) return Status::Ok();
    return Internal(fmt::format("libharu: {} failed with error 0x{:04X} (detail {})", what,
                                error_.error, error_.detail));
  }
  HPDF_Page NewPage();
  void Text(HPDF_Page page, float x, float y, const std::string& cp1252) {
    HPDF_Page_BeginText(page);
    HPDF_Page_TextOut(page, x, y, cp1252.c_str());
    HPDF_Page_EndText(page);
  }
  void TextRight(HPDF_Page page, float right, float y, const std::string& cp1252) {
    Text(page, right - HPDF_Page_TextWidth(page, cp1252.c_str()), y, cp1252);
  }
  // `cp1252` shortened with "…" (CP1252 0x85) to fit `width` in the page's current font.
  std::string Fit(HPDF_Page page, std::string cp1252, float width) const;
  void DrawFirstPage();
  void DrawChart(HPDF_Page page, float x0, float y0, float x1, float y1);
  // Instants in [t0, t1] for the time axis.
  std::vector<int64_t> TimeTicks(int64_t t0, int64_t t1) const;
  // Returns the height used; draws nothing when `page` is null.
  float DrawLegend(HPDF_Page page, float x0, float top, float width);
  void DrawTablePages();
  void SetSeriesStyle(HPDF_Page page, size_t s, float width);

  const ExportTable& table_;
  const LocaleFormat& format_;
  const bool de_;
  HaruError error_;
  DocPtr doc_;
  HPDF_Font font_ = nullptr;
  HPDF_Font bold_ = nullptr;
  Cp1252 cp1252_;
  TableLayout layout_;
  int page_count_ = 0;
  int total_pages_ = 0;
};

HPDF_Page PdfWriter::NewPage() {
  HPDF_Page page = HPDF_AddPage(doc_.get());
  if (page == nullptr) return nullptr;
  HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_LANDSCAPE);
  ++page_count_;
  HPDF_Page_SetFontAndSize(page, font_, 7);
  HPDF_Page_SetRGBFill(page, 0.4f, 0.4f, 0.4f);
  TextRight(page, kPageW - kMargin, kMargin / 2,
            fmt::format("{} {} / {}", de_ ? "Seite" : "Page", page_count_, total_pages_));
  HPDF_Page_SetRGBFill(page, 0, 0, 0);
  return page;
}

std::string PdfWriter::Fit(HPDF_Page page, std::string text, float width) const {
  if (HPDF_Page_TextWidth(page, text.c_str()) <= width) return text;
  while (!text.empty() && HPDF_Page_TextWidth(page, (text + "\x85").c_str()) > width) {
    text.pop_back();
  }
  return text + "\x85";
}

void PdfWriter::SetSeriesStyle(HPDF_Page page, size_t s, float width) {
  const Rgb& c = kPalette[s % kPaletteSize];
  HPDF_Page_SetRGBStroke(page, c.r, c.g, c.b);
  HPDF_Page_SetRGBFill(page, c.r, c.g, c.b);
  HPDF_Page_SetLineWidth(page, width);
  static const HPDF_UINT16 kDash[] = {4, 2};
  if (s / kPaletteSize % 2 == 1) {
    HPDF_Page_SetDash(page, kDash, 2, 0);
  } else {
    HPDF_Page_SetDash(page, nullptr, 0, 0);
  }
}

float PdfWriter::DrawLegend(HPDF_Page page, float x0, float top, float width) {
  constexpr float kLineH = 12, kSwatch = 18, kGap = 14, kMaxEntryW = 240;
  constexpr int kMaxLines = 8;
  if (page != nullptr) HPDF_Page_SetFontAndSize(page, font_, 8);
  // Measuring needs a font on some page; a null page measures through the font directly.
  auto width_of = [&](const std::string& t) {
    return HPDF_Font_TextWidth(font_, reinterpret_cast<const HPDF_BYTE*>(t.data()),
                               static_cast<HPDF_UINT>(t.size()))
               .width *
           8.0f / 1000.0f;
  };
  float x = x0, y = top - kLineH;
  int line = 1;
  for (size_t s = 0; s < table_.headers.size(); ++s) {
    std::string label = cp1252_(table_.headers[s]);
    while (label.size() > 1 && width_of(label) > kMaxEntryW) label.pop_back();
    float w = kSwatch + 4 + width_of(label) + kGap;
    if (x + w > x0 + width && x > x0) {
      x = x0;
      y -= kLineH;
      if (++line > kMaxLines) {
        if (page != nullptr) {
          HPDF_Page_SetRGBFill(page, 0, 0, 0);
          Text(page, x, y + 2,
               fmt::format("\x85 (+{} {})", table_.headers.size() - s, de_ ? "weitere" : "more"));
        }
        break;
      }
    }
    if (page != nullptr) {
      SetSeriesStyle(page, s, 2);
      HPDF_Page_MoveTo(page, x, y + 5);
      HPDF_Page_LineTo(page, x + kSwatch, y + 5);
      HPDF_Page_Stroke(page);
      HPDF_Page_SetDash(page, nullptr, 0, 0);
      HPDF_Page_SetRGBFill(page, 0, 0, 0);
      Text(page, x + kSwatch + 4, y + 2, label);
    }
    x += w;
  }
  return top - y + 4;
}

std::vector<int64_t> PdfWriter::TimeTicks(int64_t t0, int64_t t1) const {
  // Steps a reader counts in, from a second to four weeks; at most 7 ticks, on multiples of the
  // step on the local clock (midnight for days), so ticks read 00:00, 06:00, 12:00, ...
  constexpr int64_t kS = 1000, kMin = 60 * kS, kH = 60 * kMin, kD = 24 * kH;
  constexpr int64_t kSteps[] = {kS,     2 * kS,   5 * kS,   10 * kS,   15 * kS,   30 * kS,
                                kMin,   2 * kMin, 5 * kMin, 10 * kMin, 15 * kMin, 30 * kMin,
                                kH,     2 * kH,   3 * kH,   6 * kH,    12 * kH,   kD,
                                2 * kD, 7 * kD,   14 * kD,  28 * kD};
  std::vector<int64_t> ticks;
  for (int64_t step : kSteps) {
    if ((t1 - t0) / step > 6) continue;
    // Local wall-clock milliseconds; a tick at local L is at UTC L - offset (offset taken near L,
    // twice, so that a tick just after a DST change uses the new offset).
    int64_t local0 = format_.LocalMs(t0);
    // Weeks start on Monday: 1970-01-01 was a Thursday, so they are counted from 1970-01-05.
    int64_t origin = step >= 7 * kD ? 4 * kD : 0;
    int64_t first = CeilDiv(local0 - origin, step) * step + origin;
    for (int64_t local = first;; local += step) {
      int64_t t = local - (format_.LocalMs(local) - local);
      t = local - (format_.LocalMs(t) - t);
      if (t > t1) break;
      if (t >= t0 && (ticks.empty() || t > ticks.back())) ticks.push_back(t);
    }
    if (!ticks.empty()) return ticks;
  }
  // Longer than 6 x 4 weeks, or no multiple inside: evenly spaced.
  for (int i = 0; i <= 6; ++i) ticks.push_back(t0 + (t1 - t0) * i / 6);
  return ticks;
}

void PdfWriter::DrawChart(HPDF_Page page, float x0, float y0, float x1, float y1) {
  double vmin = std::numeric_limits<double>::infinity();
  double vmax = -vmin;
  for (const auto& s : table_.series) {
    for (const auto& p : s) {
      if (std::isfinite(p.second)) {
        vmin = std::min(vmin, p.second);
        vmax = std::max(vmax, p.second);
      }
    }
  }
  if (!std::isfinite(vmin)) vmin = 0, vmax = 1;
  if (vmax - vmin < 1e-9 * std::max(1.0, std::fabs(vmax))) {
    double pad = std::max(1.0, std::fabs(vmax) * 0.1);
    vmin -= pad;
    vmax += pad;
  }
  double step = NiceStep(vmax - vmin, 5);
  double lo = std::floor(vmin / step) * step;
  double hi = std::ceil(vmax / step) * step;
  int64_t t0 = table_.times.empty() ? 0 : table_.times.front();
  int64_t t1 = table_.times.empty() ? 1 : table_.times.back();
  if (t1 <= t0) t0 -= 30'000, t1 += 30'000;
  auto X = [&](int64_t t) {
    return x0 + static_cast<float>(static_cast<double>(t - t0) / static_cast<double>(t1 - t0) *
                                   (x1 - x0));
  };
  auto Y = [&](double v) { return y0 + static_cast<float>((v - lo) / (hi - lo) * (y1 - y0)); };

  // Grid and value labels.
  HPDF_Page_SetFontAndSize(page, font_, 7);
  HPDF_Page_SetLineWidth(page, 0.3f);
  HPDF_Page_SetRGBStroke(page, 0.82f, 0.82f, 0.82f);
  for (int i = 0; lo + i * step <= hi + step * 1e-6 && i <= 20; ++i) {
    double v = lo + i * step;
    float y = Y(v);
    HPDF_Page_MoveTo(page, x0, y);
    HPDF_Page_LineTo(page, x1, y);
    HPDF_Page_Stroke(page);
    // Round away the binary noise of lo + i * step before formatting.
    double shown = std::round(v / step) * step;
    TextRight(page, x0 - 4, y - 2.5f, format_.Number(std::fabs(shown) < step * 1e-9 ? 0 : shown));
  }
  for (int64_t t : TimeTicks(t0, t1)) {
    float x = X(t);
    HPDF_Page_MoveTo(page, x, y0);
    HPDF_Page_LineTo(page, x, y1);
    HPDF_Page_Stroke(page);
    std::string text = format_.Time(t);
    size_t space = text.find(' ');
    std::string date = text.substr(0, space), clock = text.substr(space + 1);
    float wd = HPDF_Page_TextWidth(page, date.c_str());
    float wc = HPDF_Page_TextWidth(page, clock.c_str());
    Text(page, x - wd / 2, y0 - 10, date);
    Text(page, x - wc / 2, y0 - 19, clock);
  }
  // Axes and their labels.
  HPDF_Page_SetRGBStroke(page, 0, 0, 0);
  HPDF_Page_SetLineWidth(page, 0.8f);
  HPDF_Page_MoveTo(page, x0, y1);
  HPDF_Page_LineTo(page, x0, y0);
  HPDF_Page_LineTo(page, x1, y0);
  HPDF_Page_Stroke(page);
  HPDF_Page_SetFontAndSize(page, font_, 8);
  std::string time_label = cp1252_(table_.time_header);
  Text(page, (x0 + x1) / 2 - HPDF_Page_TextWidth(page, time_label.c_str()) / 2, y0 - 31,
       time_label);
  bool one_unit = std::all_of(table_.units.begin(), table_.units.end(),
                              [&](const std::string& u) { return u == table_.units.front(); });
  if (one_unit && !table_.units.empty() && !table_.units.front().empty()) {
    Text(page, x0 - 4 - HPDF_Page_TextWidth(page, cp1252_(table_.units.front()).c_str()), y1 + 6,
         cp1252_(table_.units.front()));
  }

  // The lines, clipped to the plot area. A NaN value breaks a line; a lone point is a dot.
  HPDF_Page_GSave(page);
  HPDF_Page_Rectangle(page, x0, y0, x1 - x0, y1 - y0);
  HPDF_Page_Clip(page);
  HPDF_Page_EndPath(page);
  for (size_t s = 0; s < table_.series.size(); ++s) {
    SetSeriesStyle(page, s, 1.0f);
    std::vector<std::pair<float, float>> run;
    auto flush = [&] {
      if (run.size() == 1) {
        HPDF_Page_Circle(page, run[0].first, run[0].second, 1.2f);
        HPDF_Page_Fill(page);
      } else if (run.size() > 1) {
        HPDF_Page_MoveTo(page, run[0].first, run[0].second);
        for (size_t i = 1; i < run.size(); ++i) HPDF_Page_LineTo(page, run[i].first, run[i].second);
        HPDF_Page_Stroke(page);
      }
      run.clear();
    };
    const auto& points = table_.series[s];
    size_t i = 0;
    while (i < points.size()) {
      if (!std::isfinite(points[i].second)) {
        flush();
        ++i;
        continue;
      }
      // One slot: the finite points that fall into the same kSlotW-wide column.
      int64_t slot = static_cast<int64_t>(std::floor(X(points[i].first) / kSlotW));
      size_t first = i, min_i = i, max_i = i;
      for (; i < points.size() && std::isfinite(points[i].second) &&
             static_cast<int64_t>(std::floor(X(points[i].first) / kSlotW)) == slot;
           ++i) {
        if (points[i].second < points[min_i].second) min_i = i;
        if (points[i].second > points[max_i].second) max_i = i;
      }
      size_t last = i - 1;
      for (size_t k : {first, std::min(min_i, max_i), std::max(min_i, max_i), last}) {
        std::pair<float, float> xy{X(points[k].first), Y(points[k].second)};
        if (run.empty() || run.back() != xy) run.push_back(xy);
      }
    }
    flush();
  }
  HPDF_Page_GRestore(page);
  HPDF_Page_SetDash(page, nullptr, 0, 0);
  HPDF_Page_SetRGBFill(page, 0, 0, 0);
}

void PdfWriter::DrawFirstPage() {
  HPDF_Page page = NewPage();
  if (page == nullptr) return;
  float y = kPageH - kMargin - 18;
  HPDF_Page_SetFontAndSize(page, bold_, 18);
  Text(page, kMargin, y, Fit(page, cp1252_(table_.title), kPageW - 2 * kMargin));
  y -= 18;
  HPDF_Page_SetFontAndSize(page, font_, 10);
  std::string range = table_.times.empty()
                          ? (de_ ? "Keine Werte" : "No values")
                          : fmt::format("{} \x96 {}", format_.Time(table_.times.front()),
                                        format_.Time(table_.times.back()));
  Text(page, kMargin, y,
       fmt::format("{}: {}   {}: {}", de_ ? "Zeitraum" : "Time range", range,
                   de_ ? "Zeitzone" : "Time zone", cp1252_(format_.zone())));
  float legend_h = DrawLegend(nullptr, kMargin, 0, kPageW - 2 * kMargin);
  float chart_bottom = kMargin + legend_h + 40;
  DrawChart(page, kMargin + 54, chart_bottom, kPageW - kMargin - 10, y - 28);
  DrawLegend(page, kMargin, kMargin + legend_h, kPageW - 2 * kMargin);
}

void PdfWriter::DrawTablePages() {
  const size_t n_series = table_.headers.size();
  const float time_w = layout_.time_w;
  const float avail = kPageW - 2 * kMargin - time_w;
  const float top = kPageH - kMargin - 24;  // below the page heading
  std::string title = cp1252_(table_.title);
  std::string time_header = cp1252_(table_.time_header);

  const size_t groups = layout_.groups;
  for (size_t g = 0; g < groups && error_.error == HPDF_OK; ++g) {
    size_t c0 = g * layout_.per_page, c1 = std::min(n_series, c0 + layout_.per_page);
    float col_w = c1 > c0 ? std::min(kMaxColW, avail / static_cast<float>(c1 - c0)) : kMinColW;
    std::vector<std::string> headers;
    for (size_t c = c0; c < c1; ++c) headers.push_back(cp1252_(table_.headers[c]));
    RowCursor rows(table_);
    bool more = rows.Next();
    bool first_page = true;
    while ((more || first_page) && error_.error == HPDF_OK) {
      first_page = false;
      HPDF_Page page = NewPage();
      if (page == nullptr) return;
      HPDF_Page_SetFontAndSize(page, bold_, 10);
      std::string heading = groups > 1 ? fmt::format("{} ({} {}/{})", title,
                                                     de_ ? "Spalten" : "columns", g + 1, groups)
                                       : title;
      Text(page, kMargin, kPageH - kMargin - 10, Fit(page, heading, kPageW - 2 * kMargin));
      // Header row on a grey band, repeated on every page.
      float y = top;
      float table_w = time_w + col_w * static_cast<float>(c1 - c0);
      HPDF_Page_SetRGBFill(page, 0.9f, 0.9f, 0.9f);
      HPDF_Page_Rectangle(page, kMargin, y - 3, table_w, kRowH);
      HPDF_Page_Fill(page);
      HPDF_Page_SetRGBFill(page, 0, 0, 0);
      HPDF_Page_SetFontAndSize(page, bold_, kTableFontSize);
      Text(page, kMargin + 2, y, Fit(page, time_header, time_w - 6));
      for (size_t c = c0; c < c1; ++c) {
        float right = kMargin + time_w + col_w * static_cast<float>(c - c0 + 1) - 4;
        TextRight(page, right, y, Fit(page, headers[c - c0], col_w - 8));
      }
      HPDF_Page_SetFontAndSize(page, font_, kTableFontSize);
      for (size_t r = 0; r < layout_.rows_per_page && more; ++r) {
        y -= kRowH;
        Text(page, kMargin + 2, y, format_.Time(rows.time()));
        for (size_t c = c0; c < c1; ++c) {
          std::string v = format_.Number(rows.values()[c]);
          if (v.empty()) continue;
          float right = kMargin + time_w + col_w * static_cast<float>(c - c0 + 1) - 4;
          TextRight(page, right, y, Fit(page, v, col_w - 8));
        }
        more = rows.Next();
      }
      HPDF_Page_SetLineWidth(page, 0.5f);
      HPDF_Page_SetRGBStroke(page, 0.6f, 0.6f, 0.6f);
      HPDF_Page_MoveTo(page, kMargin, y - 4);
      HPDF_Page_LineTo(page, kMargin + table_w, y - 4);
      HPDF_Page_Stroke(page);
    }
  }
}

Result<std::string> PdfWriter::Render() {
  if (!cp1252_.ok()) return Fail(Internal("iconv cannot convert UTF-8 to CP1252"));
  doc_.reset(HPDF_New(&OnHaruError, &error_));
  if (!doc_) return Fail(Internal("libharu: cannot create a document"));
  HPDF_SetCompressionMode(doc_.get(), HPDF_COMP_ALL);
  font_ = HPDF_GetFont(doc_.get(), "Helvetica", "WinAnsiEncoding");
  bold_ = HPDF_GetFont(doc_.get(), "Helvetica-Bold", "WinAnsiEncoding");
  if (Status st = Check("loading Helvetica"); !st.ok()) return Fail(st);
  std::string title = cp1252_(table_.title);
  HPDF_SetInfoAttr(doc_.get(), HPDF_INFO_TITLE, title.c_str());
  HPDF_SetInfoAttr(doc_.get(), HPDF_INFO_CREATOR, "Wattline");

  layout_ = TableLayout::For(table_, format_, font_);
  total_pages_ = static_cast<int>(1 + layout_.groups * layout_.pages_per_group);

  DrawFirstPage();
  if (Status st = Check("drawing the chart"); !st.ok()) return Fail(st);
  DrawTablePages();
  if (Status st = Check("drawing the table"); !st.ok()) return Fail(st);

  HPDF_SaveToStream(doc_.get());
  if (Status st = Check("saving"); !st.ok()) return Fail(st);
  std::string bytes(HPDF_GetStreamSize(doc_.get()), '\0');
  HPDF_UINT32 size = static_cast<HPDF_UINT32>(bytes.size());
  HPDF_ReadFromStream(doc_.get(), reinterpret_cast<HPDF_BYTE*>(bytes.data()), &size);
  // Reading up to the end reports HPDF_STREAM_EOF through the handler: that is success.
  if (error_.error == HPDF_STREAM_EOF) error_ = HaruError{};
  if (Status st = Check("reading the document"); !st.ok()) return Fail(st);
  bytes.resize(size);
  return bytes;
}

}  // namespace

Result<std::string> RenderPdf(const ExportTable& table, const LocaleFormat& format) {
  PdfWriter writer(table, format);
  return writer.Render();
}

}  // namespace wattline::server::export_internal
