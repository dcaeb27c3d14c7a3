// The benchmark data set of issue 5 (../shared/bench/meterdata.py, "signal_id,ts_ms,value"
// lines), as the historian benchmarks load it: from a file made once (--csv), or for smoke runs
// generated small by running the script.
#pragma once

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace wattline::bench {

struct CsvSample {
  int64_t signal_id = 0;
  int64_t ts_ms = 0;
  double value = 0;
};

// Calls `each` for every line of `text` in order. kInvalidArgument naming the line and field.
inline Status ParseMeterdataCsv(std::string_view text,
                                const std::function<void(const CsvSample&)>& each) {
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.empty()) continue;
    CsvSample s;
    const char* end = line.data() + line.size();
    auto r1 = std::from_chars(line.data(), end, s.signal_id);
    if (r1.ec != std::errc() || r1.ptr == end || *r1.ptr != ',') {
      return InvalidArgument(fmt::format("line {}: bad signal id", line_no));
    }
    auto r2 = std::from_chars(r1.ptr + 1, end, s.ts_ms);
    if (r2.ec != std::errc() || r2.ptr == end || *r2.ptr != ',') {
      return InvalidArgument(fmt::format("line {}: bad timestamp", line_no));
    }
    auto r3 = std::from_chars(r2.ptr + 1, end, s.value);
    if (r3.ec != std::errc() || r3.ptr != end) {
      return InvalidArgument(fmt::format("line {}: bad value", line_no));
    }
    each(s);
  }
  return Status::Ok();
}

// The whole output of `command` (popen), or the whole file at `path` (command empty).
inline Result<std::string> ReadAllFrom(const std::string& path, const std::string& command = "") {
  FILE* f = command.empty() ? fopen(path.c_str(), "rb") : popen(command.c_str(), "r");
  if (!f)
    return Fail(command.empty() ? NotFound("cannot open " + path)
                                : Unavailable("cannot run " + command));
  std::string text;
  char buf[1 << 16];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  const bool failed = ferror(f) != 0;
  if (command.empty()) {
    fclose(f);
    if (failed) return Fail(Unavailable("cannot read " + path));
  } else if (pclose(f) != 0 || failed) {
    return Fail(Unavailable("failed: " + command));
  }
  return text;
}

// The data text and where it came from: the file `csv`, or with `quick` the output of
// `python3 SCRIPT csv QUICK_ARGS` ("2 600 1": 2 meters x 600 s at 1 s).
inline Result<std::pair<std::string, std::string>> LoadMeterdata(const std::string& csv, bool quick,
                                                                 const std::string& script,
                                                                 const std::string& quick_args) {
  if (!csv.empty()) {
    auto text = ReadAllFrom(csv);
    if (!text) return Fail(text.error());
    return std::make_pair(csv, std::move(*text));
  }
  if (!quick) return Fail(InvalidArgument("need --csv FILE or --quick"));
  const std::string command = "python3 '" + script + "' csv " + quick_args;
  auto text = ReadAllFrom("", command);
  if (!text) return Fail(text.error());
  return std::make_pair("meterdata.py csv " + quick_args, std::move(*text));
}

}  // namespace wattline::bench
