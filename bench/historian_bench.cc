// wattline-historian-bench: the historian engine (src/historian/engine.h) on the meter
// data: durable ingest, bytes per sample on disk, a chart query and 15-minute aggregates.
// bench/historian_bench.sh runs it next to PostgreSQL and Prometheus on the same data and prints
// the ratios of issue 5; see docs/benchmarks.md.
//
// Input: the CSV of ../shared/bench/meterdata.py (signal_id,ts_ms,value; float32 values):
//   python3 ../shared/bench/meterdata.py csv 10 86400 1 > /tmp/meterdata-10x86400.csv
// --quick runs meterdata.py itself for 2 meters x 300 s instead.
//
// The whole file is parsed into memory first (not timed). Then, each in a fresh engine folder
// under --dir with the server's default EngineOptions:
//  1. Durable ingest, one thread: the samples in file order (all signals second by second, as
//     the connectors deliver them) in Append calls of --batch samples. Every Append writes one
//     WAL record and fsyncs it before returning, as in the server; sealing of finished hour
//     windows and the WAL-size checkpoints happen inside Append and are included. Then one
//     Checkpoint (timed separately) seals the open windows.
//  2. Bytes per sample: every file in the engine folder (historian.db, its -wal and -shm files,
//     the WAL segments) / samples, after that checkpoint with the engine open, and again after
//     the engine is closed (SQLite folds its -wal file into historian.db on close).
//  3. Chart query: one signal over the whole time range to --chart_points points
//     (--chart_points/2 buckets, min and max of each), median of 5: the raw path (Range, then
//     DownsampleMinMax) and Engine::Chart (which takes buckets of at least two minor intervals
//     from the stored rollups, narrower ones from the raw samples).
//  4. 15-minute min/max/avg of the first --agg_signals signals over the whole range, median of
//     3: the raw path (Range, then arithmetic mean per bucket, like PostgreSQL's avg) and
//     Engine::Aggregates of the minor interval (stored rollups; its mean is time-weighted).
//  5. Durable ingest, --threads threads (4): signals split into as many contiguous ranges of ids
//     (a meter's signals stay together, as its connector uploads them), each
//     thread appending its own batches of --batch samples, as connectors uploading at once. The
//     engine serializes the appends but not their fsyncs (group commit).
//  6. With --year_seconds N: one signal at 1 s for N seconds (a year is 31,536,000), made by
//     repeating the chart signal's values from the file, ingested like 1. into a fresh engine;
//     then the chart query over all of it, median of 3.
//  7. With --month_days N: the first --agg_signals signals' data repeated for N days (each day
//     shifted by the data's length), ingested into a fresh engine by --threads threads; then
//     Aggregates of the minor interval (15 min), the day and the month over all N days for each
//     signal, median of 3 each.
// Every measurement is checked (all samples stored, query results complete); the table is
// printed only when all of them passed.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench_report.h"
#include "core/env.h"
#include "core/flags.h"
#include "core/program.h"
#include "core/status.h"
#include "historian/engine.h"
#include "historian/sample_store.h"
#include "meterdata.h"

namespace wattline::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using historian::StoredSample;

constexpr int64_t kBucketMs = 15 * 60 * 1000;
constexpr int kChartRuns = 5;
constexpr int kAggregateRuns = 3;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct DiskUse {
  uint64_t db = 0;      // historian.db
  uint64_t db_wal = 0;  // historian.db-wal and -shm
  uint64_t wal = 0;     // the engine's WAL segments (wal/)
  uint64_t other = 0;
  uint64_t total() const { return db + db_wal + wal + other; }
};

DiskUse MeasureDir(const std::string& dir) {
  DiskUse use;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const uint64_t size = it->file_size(ec);
    if (ec) continue;
    const std::string name = it->path().filename().string();
    const std::string parent = it->path().parent_path().filename().string();
    if (name == "historian.db") {
      use.db += size;
    } else if (name == "historian.db-wal" || name == "historian.db-shm") {
      use.db_wal += size;
    } else if (parent == "wal") {
      use.wal += size;
    } else {
      use.other += size;
    }
  }
  return use;
}

Result<std::unique_ptr<historian::Engine>> FreshEngine(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return Fail(Unavailable("cannot remove " + dir + ": " + ec.message()));
  historian::EngineOptions options;  // the server's defaults
  options.dir = dir;
  return historian::Engine::Open(PosixEnv(), options);
}

// Appends each part on its own thread in batches of `batch`; returns the wall time.
Result<double> Ingest(historian::Engine* engine,
                      const std::vector<std::vector<StoredSample>>& parts, size_t batch) {
  std::vector<Status> results(parts.size(), Status::Ok());
  std::vector<std::thread> threads;
  const auto t0 = Clock::now();
  for (size_t p = 0; p < parts.size(); ++p) {
    threads.emplace_back([&, p] {
      const std::vector<StoredSample>& part = parts[p];
      for (size_t from = 0; from < part.size(); from += batch) {
        const size_t n = std::min(batch, part.size() - from);
        Status s = engine->Append(std::span<const StoredSample>(part.data() + from, n));
        if (!s.ok()) {
          results[p] = s;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = Seconds(Clock::now() - t0);
  for (const Status& s : results) {
    if (!s.ok()) return Fail(s);
  }
  return elapsed;
}

// Checks that the engine holds exactly the `expected` samples, all in blocks.
Status CheckStored(historian::Engine* engine, uint64_t expected) {
  const historian::EngineStats st = engine->stats();
  if (st.block_samples != expected || st.head_samples != 0) {
    return Internal(fmt::format("engine holds {} samples in blocks and {} in heads, expected {}",
                                st.block_samples, st.head_samples, expected));
  }
  return Status::Ok();
}

// Checks that every sample of `data` reads back with the same time, value bits and quality
// (blocks predicted from other signals included), signal by signal through Range.
Status CheckValues(historian::Engine* engine, const std::vector<StoredSample>& data) {
  std::map<int64_t, std::vector<const StoredSample*>> by_signal;
  for (const StoredSample& s : data) by_signal[s.signal_id].push_back(&s);
  for (auto& [id, want] : by_signal) {
    std::stable_sort(want.begin(), want.end(), [](const StoredSample* a, const StoredSample* b) {
      return a->ts_ms < b->ts_ms;
    });
    auto got =
        engine->Range(id, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                      std::numeric_limits<size_t>::max());
    if (!got) return got.error();
    if (got->size() != want.size()) {
      return Internal(
          fmt::format("signal {}: {} samples read, {} written", id, got->size(), want.size()));
    }
    for (size_t i = 0; i < want.size(); ++i) {
      const StoredSample& g = (*got)[i];
      if (g.ts_ms != want[i]->ts_ms || g.quality != want[i]->quality ||
          std::bit_cast<uint64_t>(g.value) != std::bit_cast<uint64_t>(want[i]->value)) {
        return Internal(
            fmt::format("signal {}: sample {} at {} ms reads back as {} at {} ms, "
                        "written {}",
                        id, i, want[i]->ts_ms, g.value, g.ts_ms, want[i]->value));
      }
    }
  }
  return Status::Ok();
}

// Which of `parts` contiguous ranges of signal ids [0, max_id] `id` falls in.
size_t PartOf(int64_t id, int64_t max_id, size_t parts) {
  return static_cast<size_t>(id * static_cast<int64_t>(parts) / (max_id + 1));
}

int64_t MaxSignal(const std::vector<StoredSample>& data) {
  int64_t m = 0;
  for (const StoredSample& s : data) m = std::max(m, s.signal_id);
  return m;
}

struct AggregateResult {
  uint64_t buckets = 0;
  uint64_t samples = 0;
};

// 15-minute min/max/avg per signal from raw Range; buckets aligned to the epoch like
// PostgreSQL's date_bin('15 minutes', ts, '2025-01-01').
Result<AggregateResult> Aggregate(historian::Engine* engine, const std::vector<int64_t>& signals,
                                  int64_t from_ms, int64_t to_ms) {
  struct Bucket {
    double min = std::numeric_limits<double>::infinity();
    double max = -std::numeric_limits<double>::infinity();
    double sum = 0;
    uint64_t count = 0;
  };
  AggregateResult r;
  double sink = 0;  // keeps the arithmetic from being optimized away
  for (int64_t id : signals) {
    auto points = engine->Range(id, from_ms, to_ms, std::numeric_limits<size_t>::max());
    if (!points) return Fail(points.error());
    std::map<int64_t, Bucket> buckets;
    auto it = buckets.end();
    for (const StoredSample& s : *points) {
      const int64_t b = s.ts_ms - ((s.ts_ms % kBucketMs) + kBucketMs) % kBucketMs;
      if (it == buckets.end() || it->first != b) it = buckets.try_emplace(b).first;
      Bucket& k = it->second;
      k.min = std::min(k.min, s.value);
      k.max = std::max(k.max, s.value);
      k.sum += s.value;
      ++k.count;
    }
    for (const auto& [start, k] : buckets) {
      sink += k.min + k.max + k.sum / static_cast<double>(k.count);
    }
    r.buckets += buckets.size();
    r.samples += points->size();
  }
  if (sink == 0.5) spdlog::debug("aggregate checksum {}", sink);
  return r;
}

struct Figures {
  uint64_t samples = 0;
  size_t signals = 0;
  int64_t from_ms = 0;
  int64_t to_ms = 0;  // exclusive
  size_t batch = 0;
  size_t threads = 4;  // of the multi-threaded ingest
  double ingest1_s = 0;
  uint64_t appends1 = 0;
  double checkpoint_s = 0;
  DiskUse open_use;
  DiskUse closed_use;
  uint64_t block_bytes = 0;
  uint64_t blocks = 0;
  uint64_t referenced_blocks = 0;
  uint64_t checkpoints = 0;
  int64_t chart_signal = 0;
  uint64_t chart_samples = 0;
  size_t chart_points = 0;
  size_t chart_result = 0;
  double chart_s = 0;
  size_t agg_signals = 0;
  uint64_t agg_buckets = 0;
  uint64_t agg_samples = 0;
  double agg_s = 0;
  double ingest2_s = 0;
  int64_t year_seconds = 0;
  double year_ingest_s = 0;
  uint64_t year_bytes = 0;
  size_t year_result = 0;
  double year_chart_s = 0;
  double year_engine_chart_s = 0;
  int64_t month_days = 0;
  uint64_t month_samples = 0;
  double month_ingest_s = 0;
  uint64_t month_bytes = 0;
  // Per interval (minor, day, month): median query time and aggregates returned.
  double month_agg_s[3] = {};
  uint64_t month_agg_rows[3] = {};
  double chart_engine_s = 0;
  size_t chart_engine_result = 0;
  double agg_rollup_s = 0;
};

double PerSample(uint64_t bytes, uint64_t samples) {
  return samples == 0 ? 0 : static_cast<double>(bytes) / static_cast<double>(samples);
}

Status Measure(const std::vector<StoredSample>& data, const std::string& dir, size_t batch,
               size_t chart_points, size_t agg_signals, Figures* f) {
  f->samples = data.size();
  f->batch = batch;
  std::map<int64_t, uint64_t> per_signal;
  f->from_ms = std::numeric_limits<int64_t>::max();
  int64_t last = std::numeric_limits<int64_t>::min();
  for (const StoredSample& s : data) {
    ++per_signal[s.signal_id];
    f->from_ms = std::min(f->from_ms, s.ts_ms);
    last = std::max(last, s.ts_ms);
  }
  if (data.empty()) return InvalidArgument("no samples");
  f->to_ms = last + 1;
  f->signals = per_signal.size();

  // 1. Durable ingest, one thread.
  const std::string dir1 = (fs::path(dir) / "engine-1-thread").string();
  auto engine = FreshEngine(dir1);
  if (!engine) return engine.error();
  std::vector<std::vector<StoredSample>> one = {data};
  auto t1 = Ingest(engine->get(), one, batch);
  if (!t1) return t1.error();
  f->ingest1_s = *t1;
  f->appends1 = (data.size() + batch - 1) / batch;
  const auto c0 = Clock::now();
  if (Status s = (*engine)->Checkpoint(); !s.ok()) return s;
  f->checkpoint_s = Seconds(Clock::now() - c0);
  one.clear();
  one.shrink_to_fit();
  if (Status s = CheckStored(engine->get(), data.size()); !s.ok()) return s;
  if (Status s = CheckValues(engine->get(), data); !s.ok()) return s;

  // 2. Bytes on disk with the engine open.
  f->open_use = MeasureDir(dir1);
  const historian::EngineStats st = (*engine)->stats();
  f->block_bytes = st.block_bytes;
  f->blocks = st.blocks;
  f->referenced_blocks = st.referenced_blocks;
  f->checkpoints = st.checkpoints;

  // 3. Chart query on the first signal.
  f->chart_signal = per_signal.begin()->first;
  f->chart_points = chart_points;
  std::vector<double> times;
  for (int run = 0; run < kChartRuns; ++run) {
    const auto q0 = Clock::now();
    auto points =
        (*engine)->Range(f->chart_signal, f->from_ms, f->to_ms, std::numeric_limits<size_t>::max());
    if (!points) return points.error();
    auto chart = historian::DownsampleMinMax(*points, f->from_ms, f->to_ms, chart_points);
    times.push_back(Seconds(Clock::now() - q0));
    if (points->size() != per_signal.begin()->second || chart.empty() ||
        (points->size() > chart_points && chart.size() > chart_points)) {
      return Internal(fmt::format("chart query: {} samples (expected {}), {} points",
                                  points->size(), per_signal.begin()->second, chart.size()));
    }
    f->chart_samples = points->size();
    f->chart_result = chart.size();
  }
  f->chart_s = Median(times);
  times.clear();
  for (int run = 0; run < kChartRuns; ++run) {
    const auto q0 = Clock::now();
    auto chart = (*engine)->Chart(f->chart_signal, f->from_ms, f->to_ms, chart_points);
    times.push_back(Seconds(Clock::now() - q0));
    if (!chart) return chart.error();
    if (chart->empty() || (f->chart_samples > chart_points && chart->size() > chart_points)) {
      return Internal(fmt::format("Engine::Chart: {} points", chart->size()));
    }
    f->chart_engine_result = chart->size();
  }
  f->chart_engine_s = Median(times);

  // 4. 15-minute aggregates of the first agg_signals signals.
  std::vector<int64_t> agg_ids;
  uint64_t agg_expected = 0;
  for (const auto& [id, n] : per_signal) {
    if (agg_ids.size() == agg_signals) break;
    agg_ids.push_back(id);
    agg_expected += n;
  }
  f->agg_signals = agg_ids.size();
  times.clear();
  for (int run = 0; run < kAggregateRuns; ++run) {
    const auto q0 = Clock::now();
    auto r = Aggregate(engine->get(), agg_ids, f->from_ms, f->to_ms);
    times.push_back(Seconds(Clock::now() - q0));
    if (!r) return r.error();
    if (r->samples != agg_expected) {
      return Internal(
          fmt::format("aggregate: {} samples read, expected {}", r->samples, agg_expected));
    }
    f->agg_buckets = r->buckets;
    f->agg_samples = r->samples;
  }
  f->agg_s = Median(times);
  times.clear();
  for (int run = 0; run < kAggregateRuns; ++run) {
    uint64_t buckets = 0;
    uint64_t counted = 0;
    double sink = 0;
    const auto q0 = Clock::now();
    for (int64_t id : agg_ids) {
      auto a = (*engine)->Aggregates(id, historian::Interval::kMinor, f->from_ms, f->to_ms);
      if (!a) return a.error();
      for (const historian::Aggregate& x : *a) {
        counted += static_cast<uint64_t>(x.count);
        sink += x.min + x.max + x.mean;
      }
      buckets += a->size();
    }
    times.push_back(Seconds(Clock::now() - q0));
    if (counted != agg_expected || buckets != f->agg_buckets) {
      return Internal(fmt::format(
          "Engine::Aggregates: {} buckets of {} samples, the raw path found {} of {} (sum {})",
          buckets, counted, f->agg_buckets, agg_expected, sink));
    }
  }
  f->agg_rollup_s = Median(times);

  engine->reset();
  f->closed_use = MeasureDir(dir1);

  // 5. Durable ingest, several threads on disjoint signals.
  const std::string dir2 = (fs::path(dir) / "engine-threads").string();
  auto engine2 = FreshEngine(dir2);
  if (!engine2) return engine2.error();
  std::vector<std::vector<StoredSample>> two(f->threads);
  const int64_t max_id = MaxSignal(data);
  for (const StoredSample& s : data) two[PartOf(s.signal_id, max_id, f->threads)].push_back(s);
  auto t2 = Ingest(engine2->get(), two, batch);
  if (!t2) return t2.error();
  f->ingest2_s = *t2;
  two.clear();
  two.shrink_to_fit();
  if (Status s = (*engine2)->Checkpoint(); !s.ok()) return s;
  if (Status s = CheckStored(engine2->get(), data.size()); !s.ok()) return s;
  engine2->reset();
  return Status::Ok();
}

// 6. The chart query over a long range of one signal (f->chart_signal's values repeated).
Status MeasureLongChart(const std::vector<StoredSample>& data, const std::string& dir, size_t batch,
                        int64_t seconds, Figures* f) {
  std::vector<double> pattern;
  for (const StoredSample& s : data) {
    if (s.signal_id == f->chart_signal) pattern.push_back(s.value);
  }
  const std::string dir3 = (fs::path(dir) / "engine-long-chart").string();
  auto engine = FreshEngine(dir3);
  if (!engine) return engine.error();
  const uint64_t n = static_cast<uint64_t>(seconds);
  std::vector<StoredSample> chunk;
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < n;) {
    chunk.clear();
    for (; i < n && chunk.size() < batch; ++i) {
      chunk.push_back({f->chart_signal, f->from_ms + static_cast<int64_t>(i) * 1000,
                       pattern[i % pattern.size()], Quality::kGood});
    }
    if (Status s = (*engine)->Append(chunk); !s.ok()) return s;
  }
  if (Status s = (*engine)->Checkpoint(); !s.ok()) return s;
  f->year_ingest_s = Seconds(Clock::now() - t0);
  if (Status s = CheckStored(engine->get(), n); !s.ok()) return s;
  f->year_seconds = seconds;
  f->year_bytes = MeasureDir(dir3).total();
  const int64_t to_ms = f->from_ms + seconds * 1000;
  std::vector<double> times;
  for (int run = 0; run < 3; ++run) {
    const auto q0 = Clock::now();
    auto points =
        (*engine)->Range(f->chart_signal, f->from_ms, to_ms, std::numeric_limits<size_t>::max());
    if (!points) return points.error();
    auto chart = historian::DownsampleMinMax(*points, f->from_ms, to_ms, f->chart_points);
    times.push_back(Seconds(Clock::now() - q0));
    if (points->size() != n || chart.empty() ||
        (n > f->chart_points && chart.size() > f->chart_points)) {
      return Internal(fmt::format("long chart query: {} samples (expected {}), {} points",
                                  points->size(), n, chart.size()));
    }
    f->year_result = chart.size();
  }
  f->year_chart_s = Median(times);
  times.clear();
  for (int run = 0; run < 3; ++run) {
    const auto q0 = Clock::now();
    auto chart = (*engine)->Chart(f->chart_signal, f->from_ms, to_ms, f->chart_points);
    times.push_back(Seconds(Clock::now() - q0));
    if (!chart) return chart.error();
    if (chart->empty() || (n > f->chart_points && chart->size() > f->chart_points)) {
      return Internal(fmt::format("long Engine::Chart: {} points", chart->size()));
    }
  }
  f->year_engine_chart_s = Median(times);
  engine->reset();
  return Status::Ok();
}

// 7. Aggregates of agg_signals signals over many days (the file's data repeated).
Status MeasureMonth(const std::vector<StoredSample>& data, const std::string& dir, size_t batch,
                    int64_t days, Figures* f) {
  std::vector<StoredSample> day;
  int64_t last = f->from_ms;
  std::set<int64_t> ids;
  for (const StoredSample& s : data) {
    if (static_cast<size_t>(s.signal_id) >= f->agg_signals) continue;
    day.push_back(s);
    ids.insert(s.signal_id);
    last = std::max(last, s.ts_ms);
  }
  // The data's length, rounded up to whole seconds: meterdata.py samples at 1 s.
  const int64_t span = (last - f->from_ms) / 1000 * 1000 + 1000;
  const std::string dir4 = (fs::path(dir) / "engine-month").string();
  auto engine = FreshEngine(dir4);
  if (!engine) return engine.error();
  double ingest = 0;
  std::vector<std::vector<StoredSample>> parts(f->threads);
  const int64_t max_id = MaxSignal(day);
  for (int64_t d = 0; d < days; ++d) {
    for (auto& p : parts) p.clear();
    for (const StoredSample& s : day) {
      StoredSample shifted = s;
      shifted.ts_ms += d * span;
      parts[PartOf(s.signal_id, max_id, parts.size())].push_back(shifted);
    }
    auto t = Ingest(engine->get(), parts, batch);
    if (!t) return t.error();
    ingest += *t;
  }
  const auto c0 = Clock::now();
  if (Status s = (*engine)->Checkpoint(); !s.ok()) return s;
  ingest += Seconds(Clock::now() - c0);
  f->month_days = days;
  f->month_samples = day.size() * static_cast<uint64_t>(days);
  f->month_ingest_s = ingest;
  if (Status s = CheckStored(engine->get(), f->month_samples); !s.ok()) return s;
  f->month_bytes = MeasureDir(dir4).total();
  const int64_t to_ms = f->from_ms + days * span;
  const historian::Interval intervals[3] = {historian::Interval::kMinor, historian::Interval::kDay,
                                            historian::Interval::kMonth};
  for (int k = 0; k < 3; ++k) {
    std::vector<double> times;
    for (int run = 0; run < 3; ++run) {
      uint64_t rows = 0, counted = 0;
      const auto q0 = Clock::now();
      for (int64_t id : ids) {
        auto aggs = (*engine)->Aggregates(id, intervals[k], f->from_ms, to_ms);
        if (!aggs) return aggs.error();
        rows += aggs->size();
        for (const auto& a : *aggs) counted += static_cast<uint64_t>(a.count);
      }
      times.push_back(Seconds(Clock::now() - q0));
      if (counted != f->month_samples) {
        return Internal(fmt::format("{}-day aggregates ({}): counted {} samples of {}", days,
                                    historian::IntervalName(intervals[k]), counted,
                                    f->month_samples));
      }
      f->month_agg_rows[k] = rows;
    }
    f->month_agg_s[k] = Median(times);
  }
  engine->reset();
  return Status::Ok();
}

// Writes "name value" lines for historian_bench.sh.
Status WriteFigures(const std::string& path, const Figures& f) {
  FILE* out = fopen(path.c_str(), "w");
  if (!out) return Unavailable("cannot write " + path);
  fmt::print(out, "samples {}\n", f.samples);
  fmt::print(out, "batch {}\n", f.batch);
  fmt::print(out, "ingest1_sps {:.0f}\n", static_cast<double>(f.samples) / f.ingest1_s);
  fmt::print(out, "ingest1_s {:.3f}\n", f.ingest1_s);
  fmt::print(out, "ingest2_sps {:.0f}\n", static_cast<double>(f.samples) / f.ingest2_s);
  fmt::print(out, "ingest2_s {:.3f}\n", f.ingest2_s);
  fmt::print(out, "ingest_threads {}\n", f.threads);
  fmt::print(out, "checkpoint_s {:.3f}\n", f.checkpoint_s);
  fmt::print(out, "bytes_open {}\n", f.open_use.total());
  fmt::print(out, "bytes_closed {}\n", f.closed_use.total());
  fmt::print(out, "bps_open {:.3f}\n", PerSample(f.open_use.total(), f.samples));
  fmt::print(out, "bps_closed {:.3f}\n", PerSample(f.closed_use.total(), f.samples));
  fmt::print(out, "bps_blocks {:.3f}\n", PerSample(f.block_bytes, f.samples));
  fmt::print(out, "chart_ms {:.3f}\n", f.chart_s * 1e3);
  fmt::print(out, "chart_samples {}\n", f.chart_samples);
  fmt::print(out, "chart_signal {}\n", f.chart_signal);
  fmt::print(out, "agg_ms {:.3f}\n", f.agg_s * 1e3);
  fmt::print(out, "agg_rollup_ms {:.3f}\n", f.agg_rollup_s * 1e3);
  fmt::print(out, "chart_engine_ms {:.3f}\n", f.chart_engine_s * 1e3);
  fmt::print(out, "agg_buckets {}\n", f.agg_buckets);
  fmt::print(out, "agg_signals {}\n", f.agg_signals);
  if (f.month_days > 0) {
    fmt::print(out, "month_days {}\n", f.month_days);
    fmt::print(out, "month_samples {}\n", f.month_samples);
    fmt::print(out, "month_ingest_sps {:.0f}\n",
               static_cast<double>(f.month_samples) / f.month_ingest_s);
    fmt::print(out, "month_bps {:.3f}\n", PerSample(f.month_bytes, f.month_samples));
    const char* names[3] = {"minor", "day", "month"};
    for (int k = 0; k < 3; ++k) {
      fmt::print(out, "month_{}_ms {:.3f}\n", names[k], f.month_agg_s[k] * 1e3);
      fmt::print(out, "month_{}_rows {}\n", names[k], f.month_agg_rows[k]);
    }
  }
  if (f.year_seconds > 0) {
    fmt::print(out, "year_seconds {}\n", f.year_seconds);
    fmt::print(out, "year_ingest_sps {:.0f}\n",
               static_cast<double>(f.year_seconds) / f.year_ingest_s);
    fmt::print(out, "year_bps {:.3f}\n",
               PerSample(f.year_bytes, static_cast<uint64_t>(f.year_seconds)));
    fmt::print(out, "year_chart_ms {:.3f}\n", f.year_chart_s * 1e3);
    fmt::print(out, "year_engine_chart_ms {:.3f}\n", f.year_engine_chart_s * 1e3);
  }
  const bool failed = fclose(out) != 0;
  return failed ? Unavailable("cannot write " + path) : Status::Ok();
}

void PrintTable(const Figures& f, const std::string& source, double load1) {
  const double mb = 1e6;
  fmt::print("## wattline-historian-bench\n\n");
  fmt::print(
      "Data: {} ({} signals, {} samples). Machine: {} CPUs, load average {:.2f}, build type {}, "
      "GCC {}.{}.{}{}\n\n",
      source, f.signals, f.samples, sysconf(_SC_NPROCESSORS_ONLN), load1, WATTLINE_BUILD_TYPE,
      __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__, BuildNotes(load1));
  fmt::print("| Measure | Result |\n|---|---|\n");
  fmt::print(
      "| Durable ingest, 1 thread: Append of {} samples (about one connector batch), each an "
      "fsynced WAL record | {:.0f} samples/s ({:.2f} s, {} appends) |\n",
      f.batch, static_cast<double>(f.samples) / f.ingest1_s, f.ingest1_s, f.appends1);
  fmt::print(
      "| Durable ingest, {} threads on disjoint signals (appends take turns, their fsyncs are "
      "shared: group commit) | {:.0f} samples/s ({:.2f} s) |\n",
      f.threads, static_cast<double>(f.samples) / f.ingest2_s, f.ingest2_s);
  fmt::print("| Checkpoint after the ingest (seals the open windows) | {:.2f} s |\n",
             f.checkpoint_s);
  fmt::print(
      "| Bytes/sample on disk, everything, after checkpoint, engine open | {:.3f} ({:.1f} MB: "
      "historian.db {:.1f}, its -wal/-shm {:.1f}, WAL segments {:.1f}) |\n",
      PerSample(f.open_use.total(), f.samples), f.open_use.total() / mb, f.open_use.db / mb,
      f.open_use.db_wal / mb, f.open_use.wal / mb);
  fmt::print(
      "| Bytes/sample on disk, everything, engine closed | {:.3f} ({:.1f} MB: historian.db "
      "{:.1f}, -wal/-shm {:.1f}, WAL segments {:.1f}) |\n",
      PerSample(f.closed_use.total(), f.samples), f.closed_use.total() / mb, f.closed_use.db / mb,
      f.closed_use.db_wal / mb, f.closed_use.wal / mb);
  fmt::print(
      "| Bytes/sample in the blocks alone ({} blocks, {} of them predicted from other "
      "signals; data column) | {:.3f} |\n",
      f.blocks, f.referenced_blocks, PerSample(f.block_bytes, f.samples));
  fmt::print(
      "| Chart query: signal {}, whole range ({} samples), Range + DownsampleMinMax to {} "
      "points, median of {} | {:.2f} ms |\n",
      f.chart_signal, f.chart_samples, f.chart_points, kChartRuns, f.chart_s * 1e3);
  fmt::print("| Chart query, same, Engine::Chart ({} points), median of {} | {:.2f} ms |\n",
             f.chart_engine_result, kChartRuns, f.chart_engine_s * 1e3);
  fmt::print(
      "| 15-minute min/max/avg of {} signals over the range, raw path: Range + arithmetic mean "
      "({} buckets, {} samples), median of {} | {:.1f} ms |\n",
      f.agg_signals, f.agg_buckets, f.agg_samples, kAggregateRuns, f.agg_s * 1e3);
  fmt::print(
      "| 15-minute min/max/mean, same, Engine::Aggregates from the stored rollups (time-weighted "
      "mean), median of {} | {:.1f} ms |\n",
      kAggregateRuns, f.agg_rollup_s * 1e3);
  if (f.month_days > 0) {
    fmt::print(
        "| {} days of {} signals ({} samples, the data repeated): ingest with {} threads, "
        "bytes/sample | {:.0f} samples/s, {:.3f} bytes/sample |\n",
        f.month_days, f.agg_signals, f.month_samples, f.threads,
        static_cast<double>(f.month_samples) / f.month_ingest_s,
        PerSample(f.month_bytes, f.month_samples));
    const char* names[3] = {"15-minute", "Daily", "Monthly"};
    for (int k = 0; k < 3; ++k) {
      fmt::print(
          "| {} aggregates of {} signals over {} days, Engine::Aggregates ({} rows), median of 3 "
          "| {:.1f} ms |\n",
          names[k], f.agg_signals, f.month_days, f.month_agg_rows[k], f.month_agg_s[k] * 1e3);
    }
  }
  if (f.year_seconds > 0) {
    const auto n = static_cast<uint64_t>(f.year_seconds);
    fmt::print(
        "| Long chart: signal {} at 1 s for {} s ({} samples, the file's values repeated): durable "
        "ingest incl. checkpoint; bytes/sample on disk | {:.0f} samples/s; {:.3f} |\n",
        f.chart_signal, f.year_seconds, n, static_cast<double>(n) / f.year_ingest_s,
        PerSample(f.year_bytes, n));
    fmt::print(
        "| Long chart query: Range + DownsampleMinMax to {} points over all {} samples, median "
        "of 3 | {:.1f} ms |\n",
        f.chart_points, n, f.year_chart_s * 1e3);
    fmt::print("| Long chart query, same, Engine::Chart, median of 3 | {:.1f} ms |\n",
               f.year_engine_chart_s * 1e3);
  }
}

}  // namespace
}  // namespace wattline::bench

int main(int argc, char** argv) {
  using namespace wattline;
  Options options("wattline-historian-bench",
                  "Measures the historian engine on meter data (ingest, bytes per sample, chart "
                  "query, 15-minute aggregates) and prints a markdown table (docs/benchmarks.md).");
  options.Add("csv", "", "meterdata.py CSV to read (signal_id,ts_ms,value)");
  const char* tmp = getenv("TMPDIR");
  options.Add("dir", tmp && *tmp ? tmp : "/tmp",
              "where the engine folders go (in wattline-historian-bench.tmp/, removed at the end)");
  options.Add("batch", "10000", "samples per Append (1..1000000)");
  options.Add("threads", "4", "appending threads of the multi-threaded ingest (1..64)");
  options.Add("chart_points", "2000", "points of the chart query (2..1000000)");
  options.Add("agg_signals", "100", "signals in the 15-minute aggregate (1..100000)");
  options.Add("month_days", "0",
              "also aggregates of --agg_signals signals over this many days (the data repeated; "
              "0: skip)");
  options.Add("year_seconds", "0",
              "also the chart query over one signal of this many seconds at 1 s (a year: "
              "31536000; 0: skip)");
  options.Add("figures", "", "also write the figures as 'name value' lines to this file");
  options.Add("keep", "false", "keep the engine folders");
  options.Add("meterdata", WATTLINE_METERDATA, "meterdata.py, run by --quick");
  options.Add("quick", "false", "smoke run of a few seconds on 2 meters x 300 s from meterdata.py");
  if (auto exit_code = StartProgram(options, argc, argv, "historian-bench")) return *exit_code;
  auto batch = options.GetInt("batch");
  auto threads = options.GetInt("threads");
  if (!threads || *threads < 1 || *threads > 64) {
    spdlog::error("need --threads 1..64");
    return 2;
  }
  auto chart_points = options.GetInt("chart_points");
  auto agg_signals = options.GetInt("agg_signals");
  auto quick = options.GetBool("quick");
  auto keep = options.GetBool("keep");
  auto year_seconds = options.GetInt("year_seconds");
  auto month_days = options.GetInt("month_days");
  if (!month_days || *month_days < 0 || *month_days > 3660) {
    spdlog::error("need --month_days 0..3660");
    return 2;
  }
  if (!year_seconds || *year_seconds < 0 || *year_seconds > 10LL * 366 * 86400) {
    spdlog::error("need --year_seconds 0..316224000");
    return 2;
  }
  if (!batch || !chart_points || !agg_signals || !quick || !keep || *batch < 1 ||
      *batch > 1'000'000 || *chart_points < 2 || *chart_points > 1'000'000 || *agg_signals < 1 ||
      *agg_signals > 100'000) {
    spdlog::error("need --batch 1..1000000, --chart_points 2..1000000, --agg_signals 1..100000");
    return 2;
  }
  auto loaded =
      bench::LoadMeterdata(options.Get("csv"), *quick, options.Get("meterdata"), "2 300 1");
  if (!loaded) {
    spdlog::error("{}", loaded.error().ToString());
    return 2;
  }
  auto& [source, text] = *loaded;
  double load[1] = {-1};
  if (getloadavg(load, 1) != 1) load[0] = -1;
  std::vector<historian::StoredSample> data;
  Status parsed = bench::ParseMeterdataCsv(text, [&data](const bench::CsvSample& c) {
    data.push_back({c.signal_id, c.ts_ms, c.value, Quality::kGood});
  });
  if (Status s = parsed; !s.ok()) {
    spdlog::error("{}: {}", source, s.ToString());
    return 2;
  }
  text.clear();
  text.shrink_to_fit();
  // A folder of our own inside --dir, so that the removal at the end cannot hit anything else.
  const std::string dir =
      (std::filesystem::path(options.Get("dir")) / "wattline-historian-bench.tmp").string();
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec)) {
    spdlog::error("{} exists and is not a folder: pass another --dir", dir);
    return 2;
  }
  bench::Figures figures;
  figures.threads = static_cast<size_t>(*threads);
  Status s =
      bench::Measure(data, dir, static_cast<size_t>(*batch), static_cast<size_t>(*chart_points),
                     static_cast<size_t>(*agg_signals), &figures);
  if (s.ok() && *month_days > 0) {
    s = bench::MeasureMonth(data, dir, static_cast<size_t>(*batch), *month_days, &figures);
  }
  if (s.ok() && *year_seconds > 0) {
    s = bench::MeasureLongChart(data, dir, static_cast<size_t>(*batch), *year_seconds, &figures);
  }
  if (!*keep) {
    std::filesystem::remove_all(dir, ec);
  }
  if (!s.ok()) {
    spdlog::error("{}", s.ToString());
    return 1;
  }
  if (!options.Get("figures").empty()) {
    if (Status w = bench::WriteFigures(options.Get("figures"), figures); !w.ok()) {
      spdlog::error("{}", w.ToString());
      return 1;
    }
  }
  bench::PrintTable(figures, source, load[0]);
  return 0;
}
