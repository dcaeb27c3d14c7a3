// wattline-codec-bench: bytes per sample and speed of the historian's sealed-block codecs
// (src/historian/codec) on the meter data.
//
// Input: the CSV of ../shared/bench/meterdata.py (signal_id,ts_ms,value; float32 values). Make it
// once (about 1 minute, 650 MB) and pass it with --csv:
//   python3 ../shared/bench/meterdata.py csv 10 86400 1 > /tmp/meterdata-10x86400.csv
// --quick runs meterdata.py itself for 2 meters x 600 s (a second) instead.
//
// Samples are grouped per signal, in file order, and cut into blocks of --block samples (and
// of each size in --more_blocks, for the size only). Every value codec is forced in turn, then
// the automatic choice; each block is encoded with EncodeBlock(kFloat32) and decoded with
// DecodeBlock, and every decoded block is compared bit for bit with its input. Bytes per sample
// count whole blocks: header, both columns and checksum. Speeds are single-threaded, samples
// (timestamp + value) per second, over all blocks of the main size.
//
// Run the Release build for figures (see docs/benchmarks.md); the table warns otherwise.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bit>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench_report.h"
#include "core/flags.h"
#include "core/program.h"
#include "core/status.h"
#include "historian/codec/block.h"
#include "meterdata.h"

namespace wattline::bench {
namespace {

namespace codec = historian::codec;
using Clock = std::chrono::steady_clock;

// Issue 5's reference figures for this data, measured by the author (not by us).
constexpr double kPrometheusBytesPerSample = 2.71;
constexpr double kTargetRatio = 0.7;
constexpr double kDeltaEntropyBytes = 1.66;

struct Series {
  std::vector<int64_t> ts_ms;
  std::vector<double> values;
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Figures {
  uint64_t samples = 0;
  uint64_t bytes = 0;
  uint64_t ts_bytes = 0;
  uint64_t value_bytes = 0;
  double encode_s = 0;
  double decode_s = 0;
  std::map<codec::ValueCodec, uint64_t> chosen;  // blocks per codec
};

bool SameBits(const std::vector<double>& a, std::span<const double> b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::bit_cast<uint64_t>(a[i]) != std::bit_cast<uint64_t>(b[i])) return false;
  }
  return true;
}

Result<Figures> Measure(const std::map<int64_t, Series>& data, size_t block,
                        std::optional<codec::ValueCodec> which) {
  Figures f;
  for (const auto& [id, s] : data) {
    for (size_t start = 0; start < s.ts_ms.size(); start += block) {
      const size_t m = std::min(block, s.ts_ms.size() - start);
      std::span<const int64_t> ts(s.ts_ms.data() + start, m);
      std::span<const double> values(s.values.data() + start, m);
      codec::BlockStats stats;
      auto t0 = Clock::now();
      auto bytes = codec::EncodeBlock(ts, values, codec::ValueKind::kFloat32, which, &stats);
      auto t1 = Clock::now();
      if (!bytes) return Fail(bytes.error());
      auto decoded = codec::DecodeBlock(*bytes);
      auto t2 = Clock::now();
      if (!decoded) return Fail(decoded.error());
      if (decoded->ts_ms != std::vector<int64_t>(ts.begin(), ts.end()) ||
          !SameBits(decoded->values, values)) {
        return Fail(Internal(fmt::format("signal {}: block at {} does not round-trip", id, start)));
      }
      f.samples += m;
      f.bytes += bytes->size();
      f.ts_bytes += stats.ts_bytes;
      f.value_bytes += stats.value_bytes;
      f.encode_s += Seconds(t1 - t0);
      f.decode_s += Seconds(t2 - t1);
      ++f.chosen[stats.codec];
    }
  }
  return f;
}

double PerSample(uint64_t bytes, uint64_t samples) {
  return samples == 0 ? 0 : static_cast<double>(bytes) / static_cast<double>(samples);
}

int Run(const std::map<int64_t, Series>& data, size_t block, const std::vector<size_t>& more,
        const std::string& source, double load1) {
  std::vector<std::optional<codec::ValueCodec>> rows;
  for (codec::ValueCodec c : codec::CandidateCodecs(codec::ValueKind::kFloat32)) rows.push_back(c);
  rows.push_back(std::nullopt);

  uint64_t total = 0;
  for (const auto& [id, s] : data) total += s.ts_ms.size();

  std::string header = fmt::format("| Value codec | Bytes/sample, {}-sample blocks", block);
  std::string rule = "|---|---";
  for (size_t b : more) {
    header += fmt::format(" | Bytes/sample, {}", b);
    rule += "|---";
  }
  header += " | Encode M samples/s | Decode M samples/s |";
  rule += "|---|---|";

  std::string table;
  Figures automatic;
  for (const auto& which : rows) {
    auto main = Measure(data, block, which);
    if (!main) {
      spdlog::error("{}", main.error().ToString());
      return 1;
    }
    std::string name = which ? std::string(codec::ValueCodecName(*which)) : "automatic choice";
    std::string row = fmt::format("| {} | {:.3f}", name, PerSample(main->bytes, main->samples));
    for (size_t b : more) {
      auto other = Measure(data, b, which);
      if (!other) {
        spdlog::error("{}", other.error().ToString());
        return 1;
      }
      row += fmt::format(" | {:.3f}", PerSample(other->bytes, other->samples));
    }
    row += fmt::format(" | {:.1f} | {:.1f} |\n",
                       static_cast<double>(main->samples) / main->encode_s / 1e6,
                       static_cast<double>(main->samples) / main->decode_s / 1e6);
    table += row;
    if (!which) automatic = *main;
  }

  const double auto_bps = PerSample(automatic.bytes, automatic.samples);
  const double ratio = auto_bps / kPrometheusBytesPerSample;
  std::string chosen;
  for (const auto& [c, blocks] : automatic.chosen) {
    chosen += fmt::format("{}{} {}", chosen.empty() ? "" : ", ", codec::ValueCodecName(c), blocks);
  }

  fmt::print("## wattline-codec-bench\n\n");
  fmt::print(
      "Data: {} ({} signals, {} samples, float32 values). Machine: {} CPUs, load average {:.2f}, "
      "build type {}, GCC {}.{}.{}{}\n\n",
      source, data.size(), total, sysconf(_SC_NPROCESSORS_ONLN), load1, WATTLINE_BUILD_TYPE,
      __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__, BuildNotes(load1));
  fmt::print("{}\n{}\n{}", header, rule, table);
  fmt::print("| Prometheus 2.42, as measured by the issue's author (not by us) | {:.2f}",
             kPrometheusBytesPerSample);
  for (size_t i = 0; i < more.size(); ++i) fmt::print(" | ");
  fmt::print(" | | |\n");
  fmt::print("| Target: {:.1f} x Prometheus | {:.2f}", kTargetRatio,
             kPrometheusBytesPerSample * kTargetRatio);
  for (size_t i = 0; i < more.size(); ++i) fmt::print(" | ");
  fmt::print(" | | |\n");
  fmt::print("| Delta entropy of the data, per the issue's author | {:.2f}", kDeltaEntropyBytes);
  for (size_t i = 0; i < more.size(); ++i) fmt::print(" | ");
  fmt::print(" | | |\n\n");
  fmt::print(
      "Automatic choice, {}-sample blocks: {:.3f} bytes/sample ({:.3f} timestamps, {:.3f} values, "
      "{:.3f} header and checksum) = {:.2f} x Prometheus: target <= {:.2f} x ({})\n",
      block, auto_bps, PerSample(automatic.ts_bytes, automatic.samples),
      PerSample(automatic.value_bytes, automatic.samples),
      PerSample(automatic.bytes - automatic.ts_bytes - automatic.value_bytes, automatic.samples),
      ratio, kTargetRatio, Verdict(ratio <= kTargetRatio));
  fmt::print("Codecs chosen (blocks): {}\n", chosen);
  return 0;
}

}  // namespace
}  // namespace wattline::bench

int main(int argc, char** argv) {
  using namespace wattline;
  Options options("wattline-codec-bench",
                  "Measures the historian's block codecs on meter data and prints a markdown "
                  "table (see docs/benchmarks.md).");
  options.Add("csv", "", "meterdata.py CSV to read (signal_id,ts_ms,value)");
  options.Add("block", "3600", "samples per block for the main figures (1..65536)");
  options.Add("more_blocks", "7200,65536",
              "more block sizes, comma-separated, for bytes/sample only (empty: none)");
  options.Add("meterdata", WATTLINE_METERDATA, "meterdata.py, run by --quick");
  options.Add("quick", "false",
              "smoke run of a few seconds: 2 meters x 600 s from meterdata.py, no --more_blocks");
  if (auto exit_code = StartProgram(options, argc, argv, "codec-bench")) return *exit_code;
  auto block = options.GetInt("block");
  auto quick = options.GetBool("quick");
  if (!block || !quick || *block < 1 ||
      *block > static_cast<int64_t>(historian::codec::kMaxBlockSamples)) {
    spdlog::error("need --block in 1..65536");
    return 2;
  }
  std::vector<size_t> more;
  if (!*quick) {
    std::string_view list = options.Get("more_blocks");
    while (!list.empty()) {
      const size_t comma = list.find(',');
      std::string_view item = list.substr(0, comma);
      list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
      size_t b = 0;
      auto r = std::from_chars(item.data(), item.data() + item.size(), b);
      if (r.ec != std::errc() || b < 1 || b > historian::codec::kMaxBlockSamples) {
        spdlog::error("bad --more_blocks entry '{}'", item);
        return 2;
      }
      more.push_back(b);
    }
  }
  auto loaded =
      bench::LoadMeterdata(options.Get("csv"), *quick, options.Get("meterdata"), "2 600 1");
  if (!loaded) {
    spdlog::error("{}", loaded.error().ToString());
    return 2;
  }
  auto& [source, text] = *loaded;
  double load[1] = {-1};
  if (getloadavg(load, 1) != 1) load[0] = -1;
  std::map<int64_t, bench::Series> data;
  Status parsed = bench::ParseMeterdataCsv(text, [&data](const bench::CsvSample& c) {
    bench::Series& series = data[c.signal_id];
    series.ts_ms.push_back(c.ts_ms);
    series.values.push_back(c.value);
  });
  if (Status s = parsed; !s.ok()) {
    spdlog::error("{}: {}", source, s.ToString());
    return 2;
  }
  text.clear();
  text.shrink_to_fit();
  return bench::Run(data, static_cast<size_t>(*block), more, source, load[0]);
}
