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
// (timestamp + value) per second of the thread's CPU time, over all blocks of the main size.
//
// Run the Release build for figures (see docs/benchmarks.md); the table warns otherwise.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
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

// Issue 5's reference figures for this data, measured by the author (not by us).
constexpr double kPrometheusBytesPerSample = 2.71;
constexpr double kTargetRatio = 0.7;
constexpr double kDeltaEntropyBytes = 1.66;

struct Series {
  std::vector<int64_t> ts_ms;
  std::vector<double> values;
};

// CPU time of the calling thread: speeds are per core, and the other processes on a shared
// machine do not count against them (they still share its caches).
double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// meterdata.py's signals, in the order of its signal ids (id % 22), and the groups the per-kind
// table reports.
constexpr int kSignalsPerMeter = 22;
constexpr const char* kGroupNames[] = {"u_l1..3",
                                       "u_l12, u_l23, u_l31",
                                       "i_l1..3",
                                       "p_l1..3",
                                       "p_sum, q_sum, s_sum",
                                       "cos_l1..3",
                                       "freq",
                                       "e_imp",
                                       "e_exp",
                                       "e_sum"};
constexpr int kGroups = 10;
constexpr int kGroupOfSignal[kSignalsPerMeter] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3,
                                                  3, 4, 4, 4, 5, 5, 5, 6, 7, 8, 9};
int GroupOf(int64_t signal_id) {
  return kGroupOfSignal[static_cast<size_t>(signal_id % kSignalsPerMeter)];
}

struct Figures {
  uint64_t samples = 0;
  uint64_t bytes = 0;
  uint64_t ts_bytes = 0;
  uint64_t value_bytes = 0;
  double encode_s = 0;
  double decode_s = 0;
  std::map<codec::ValueCodec, uint64_t> chosen;  // blocks per codec
  std::array<uint64_t, kGroups> group_samples{};
  std::array<uint64_t, kGroups> group_bytes{};
  std::array<std::map<codec::ValueCodec, uint64_t>, kGroups> group_chosen;
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
      const double t0 = ThreadCpuSeconds();
      auto bytes = codec::EncodeBlock(ts, values, codec::ValueKind::kFloat32, which, &stats);
      const double t1 = ThreadCpuSeconds();
      if (!bytes) return Fail(bytes.error());
      auto decoded = codec::DecodeBlock(*bytes);
      const double t2 = ThreadCpuSeconds();
      if (!decoded) return Fail(decoded.error());
      if (decoded->ts_ms != std::vector<int64_t>(ts.begin(), ts.end()) ||
          !SameBits(decoded->values, values)) {
        return Fail(Internal(fmt::format("signal {}: block at {} does not round-trip", id, start)));
      }
      f.samples += m;
      f.bytes += bytes->size();
      f.ts_bytes += stats.ts_bytes;
      f.value_bytes += stats.value_bytes;
      f.encode_s += t1 - t0;
      f.decode_s += t2 - t1;
      ++f.chosen[stats.codec];
      const int g = GroupOf(id);
      f.group_samples[g] += m;
      f.group_bytes[g] += bytes->size();
      ++f.group_chosen[g][stats.codec];
    }
  }
  return f;
}

double PerSample(uint64_t bytes, uint64_t samples) {
  return samples == 0 ? 0 : static_cast<double>(bytes) / static_cast<double>(samples);
}

// The float32 patterns as integers in value order (as the ordered-int codec maps them).
std::vector<int64_t> OrderedInts(std::span<const double> values) {
  std::vector<int64_t> u(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const uint32_t w = std::bit_cast<uint32_t>(static_cast<float>(values[i]));
    u[i] = (w & 0x80000000u) ? -static_cast<int64_t>(w & 0x7FFFFFFFu) : static_cast<int64_t>(w);
  }
  return u;
}

// Plug-in (histogram) entropy in bits of the exact integers `r`.
double PlugInEntropy(const std::vector<int64_t>& r) {
  if (r.empty()) return 0;
  std::unordered_map<int64_t, uint32_t> counts;
  for (int64_t v : r) ++counts[v];
  double h = 0;
  const double n = static_cast<double>(r.size());
  for (const auto& [v, c] : counts) h -= c / n * std::log2(c / n);
  return h;
}

// Entropy in bits per residual of a smooth residual density: a histogram with bins of 2^j
// float32 steps, about sigma / 16 wide, plus j bits for the position within the bin. Unlike the
// plug-in entropy of exact values it does not saturate at log2(count) for wide noise.
double BinnedEntropy(const std::vector<int64_t>& r) {
  if (r.empty()) return 0;
  double mean = 0;
  for (int64_t v : r) mean += static_cast<double>(v);
  mean /= static_cast<double>(r.size());
  double var = 0;
  for (int64_t v : r) var += (static_cast<double>(v) - mean) * (static_cast<double>(v) - mean);
  const double sd = std::sqrt(var / static_cast<double>(r.size()));
  const int j = sd < 32 ? 0 : static_cast<int>(std::floor(std::log2(sd))) - 4;
  std::vector<int64_t> bins(r.size());
  for (size_t i = 0; i < r.size(); ++i) bins[i] = r[i] >> j;
  return PlugInEntropy(bins) + j;
}

// Residual entropy of a block: the smaller of the per-frame-mean residuals (frames of 256) and
// the deltas, bits per sample, header costs not counted.
double BestResidualBits(std::span<const double> values) {
  const std::vector<int64_t> u = OrderedInts(values);
  std::vector<int64_t> mean_res;
  std::vector<int64_t> delta_res;
  for (size_t start = 0; start < u.size(); start += 256) {
    const size_t m = std::min<size_t>(256, u.size() - start);
    double sum = 0;
    for (size_t i = 0; i < m; ++i) sum += static_cast<double>(u[start + i] - u[start]);
    const int64_t base = u[start] + std::llround(sum / static_cast<double>(m));
    for (size_t i = 0; i < m; ++i) mean_res.push_back(u[start + i] - base);
  }
  for (size_t i = 1; i < u.size(); ++i) delta_res.push_back(u[i] - u[i - 1]);
  return std::min(BinnedEntropy(mean_res), BinnedEntropy(delta_res));
}

struct GroupEntropy {
  std::array<double, kGroups> residual_bits{};  // summed over blocks, weighted by samples
  std::array<double, kGroups> delta_plugin_bits{};
  std::array<uint64_t, kGroups> samples{};
  std::array<uint64_t, kGroups> signals{};
};

GroupEntropy MeasureEntropy(const std::map<int64_t, Series>& data, size_t block) {
  GroupEntropy e;
  for (const auto& [id, s] : data) {
    const int g = GroupOf(id);
    for (size_t start = 0; start < s.values.size(); start += block) {
      const size_t m = std::min(block, s.values.size() - start);
      e.residual_bits[g] +=
          BestResidualBits(std::span<const double>(s.values.data() + start, m)) * m;
    }
    const std::vector<int64_t> u = OrderedInts(s.values);
    std::vector<int64_t> deltas;
    for (size_t i = 1; i < u.size(); ++i) deltas.push_back(u[i] - u[i - 1]);
    e.delta_plugin_bits[g] += PlugInEntropy(deltas) * s.values.size();
    e.samples[g] += s.values.size();
    ++e.signals[g];
  }
  return e;
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
  std::vector<std::pair<std::string, Figures>> per_codec;
  for (const auto& which : rows) {
    auto main = Measure(data, block, which);
    if (!main) {
      spdlog::error("{}", main.error().ToString());
      return 1;
    }
    per_codec.emplace_back(which ? std::string(codec::ValueCodecName(*which)) : "automatic", *main);
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
  fmt::print("Codecs chosen (blocks): {}\n\n", chosen);

  // Per signal group: bits per sample (whole blocks) of each codec, the automatic choice's
  // winners, and two entropy estimates.
  const GroupEntropy entropy = MeasureEntropy(data, block);
  std::string gheader = fmt::format("| Signals ({}-sample blocks), bits/sample", block);
  std::string grule = "|---";
  for (const auto& [name, f] : per_codec) {
    gheader += " | " + name;
    grule += "|---";
  }
  gheader += " | Best residual entropy | Plug-in delta entropy, whole signal | Chosen (blocks) |";
  grule += "|---|---|---|";
  fmt::print("{}\n{}\n", gheader, grule);
  double residual_total = 0;
  double plugin_total = 0;
  for (int g = 0; g < kGroups; ++g) {
    if (automatic.group_samples[g] == 0) continue;
    std::string row = fmt::format("| {}", kGroupNames[g]);
    for (const auto& [name, f] : per_codec) {
      row += fmt::format(" | {:.2f}", 8 * PerSample(f.group_bytes[g], f.group_samples[g]));
    }
    const auto n = static_cast<double>(entropy.samples[g]);
    residual_total += entropy.residual_bits[g];
    plugin_total += entropy.delta_plugin_bits[g];
    std::string won;
    for (const auto& [c, blocks] : automatic.group_chosen[g]) {
      won += fmt::format("{}{} {}", won.empty() ? "" : ", ", codec::ValueCodecName(c), blocks);
    }
    row += fmt::format(" | {:.2f} | {:.2f} | {} |", entropy.residual_bits[g] / n,
                       entropy.delta_plugin_bits[g] / n, won);
    fmt::print("{}\n", row);
  }
  const auto all = static_cast<double>(total);
  fmt::print(
      "\nAll signals: best residual entropy {:.3f} bytes/sample (header costs not counted), "
      "plug-in delta entropy over each whole signal {:.3f} bytes/sample\n",
      residual_total / all / 8, plugin_total / all / 8);
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
