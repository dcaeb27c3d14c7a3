// wattline-queue-bench: how fast the connector's store-and-forward path stores and drains.
//
// Prints one markdown table with three experiments. A record is one encoded wire::MeterReading
// of 40 signals from sim::MeterPhysics (float32-rounded, as read from registers); samples =
// records x 40.
//
// 1. Appends with group commit. One thread appends pre-encoded readings to an edge::DurableQueue
//    in `--dir` for `--append_seconds`; a second thread calls Sync() every 200 ms, as the
//    connector's sync loop does (Sync holds the queue's lock during the fdatasync, so its stalls
//    are in the figure).
//
// 2. Drain of a backlog. `--meters` meters x `--backlog_s` seconds of readings at 1 s (the issue's
//    24 hours of 100 meters is --backlog_s 86400: 8.64 M records, ~11 GB of queue; the default is
//    a prefix) are appended and synced, then the real edge::Uplink sends them over HTTPS on
//    loopback to a real server (server::ServerApp in this process, SQLite storage in `--dir`)
//    until everything is acknowledged. Uplink and server each run on their own io_context
//    thread; their CPU time (getrusage(RUSAGE_THREAD)) says where the time goes.
//
// 3. The batch codec on the same backlog, single-threaded, without network or storage: batches
//    read with the uplink's limits, EncodeBatch (zstd), DecodeBatch and DecodeReading: the
//    codec's share of the drain's CPU, and wire bytes per sample for backlog batches and for
//    live batches (one second of all meters).
//
// Run the Release build for figures (see docs/benchmarks.md); the table warns otherwise.
#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_report.h"
#include "core/env.h"
#include "core/flags.h"
#include "core/program.h"
#include "core/status.h"
#include "core/time.h"
#include "edge/durable_queue.h"
#include "edge/queue_format.h"
#include "edge/uplink.h"
#include "http/tls.h"
#include "server/server_app.h"
#include "sim/fake_time.h"
#include "sim/meter_physics.h"
#include "wire/batch.h"
#include "wire/reading.h"
#include "wire/reading_codec.h"

namespace wattline::bench {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kSignals = 40;
constexpr double kLiveSamplesPerSecond = 4000;  // 100 meters x 40 signals at 1 s
constexpr char kToken[] = "queue-bench-token-0123456789abcdef";

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double ThreadCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// ---------------------------------------------------------------------------------------------
// Readings: 40 signals of a three-phase meter, values from the simulator's physics.

struct SignalDef {
  const char* name;
  const char* unit;
  SignalKind kind;
};

constexpr SignalDef kDefs[kSignals] = {
    {"voltage_l1_n", "V", SignalKind::kInstant},
    {"voltage_l2_n", "V", SignalKind::kInstant},
    {"voltage_l3_n", "V", SignalKind::kInstant},
    {"voltage_l1_l2", "V", SignalKind::kInstant},
    {"voltage_l2_l3", "V", SignalKind::kInstant},
    {"voltage_l3_l1", "V", SignalKind::kInstant},
    {"current_l1", "A", SignalKind::kInstant},
    {"current_l2", "A", SignalKind::kInstant},
    {"current_l3", "A", SignalKind::kInstant},
    {"current_sum", "A", SignalKind::kInstant},
    {"active_power_l1", "W", SignalKind::kInstant},
    {"active_power_l2", "W", SignalKind::kInstant},
    {"active_power_l3", "W", SignalKind::kInstant},
    {"active_power_total", "W", SignalKind::kInstant},
    {"apparent_power_l1", "VA", SignalKind::kInstant},
    {"apparent_power_l2", "VA", SignalKind::kInstant},
    {"apparent_power_l3", "VA", SignalKind::kInstant},
    {"apparent_power_total", "VA", SignalKind::kInstant},
    {"reactive_power_l1", "var", SignalKind::kInstant},
    {"reactive_power_l2", "var", SignalKind::kInstant},
    {"reactive_power_l3", "var", SignalKind::kInstant},
    {"reactive_power_total", "var", SignalKind::kInstant},
    {"cos_phi_l1", "", SignalKind::kInstant},
    {"cos_phi_l2", "", SignalKind::kInstant},
    {"cos_phi_l3", "", SignalKind::kInstant},
    {"frequency", "Hz", SignalKind::kInstant},
    {"active_energy_import", "Wh", SignalKind::kCounter},
    {"active_energy_export", "Wh", SignalKind::kCounter},
    {"active_energy_total", "Wh", SignalKind::kCounter},
    {"active_energy_import_l1", "Wh", SignalKind::kCounter},
    {"active_energy_import_l2", "Wh", SignalKind::kCounter},
    {"active_energy_import_l3", "Wh", SignalKind::kCounter},
    {"active_energy_export_l1", "Wh", SignalKind::kCounter},
    {"active_energy_export_l2", "Wh", SignalKind::kCounter},
    {"active_energy_export_l3", "Wh", SignalKind::kCounter},
    {"apparent_energy_total", "VAh", SignalKind::kCounter},
    {"reactive_energy_total", "varh", SignalKind::kCounter},
    {"thd_voltage_l1", "%", SignalKind::kInstant},
    {"thd_voltage_l2", "%", SignalKind::kInstant},
    {"thd_voltage_l3", "%", SignalKind::kInstant},
};

// `meters` simulated meters on one fake clock that starts `backlog_s` seconds ago; Next() returns
// the readings of the next second, one per meter.
class ReadingSource {
 public:
  ReadingSource(int meters, int64_t backlog_s)
      : time_(std::chrono::time_point_cast<SystemTime::duration>(
            RealTime().SystemNow() - std::chrono::seconds(backlog_s + 1))) {
    // Whole seconds, as the poller schedules them.
    int64_t ms = ToUnixMs(time_.SystemNow());
    time_.Advance(std::chrono::milliseconds(1000 - ms % 1000));
    for (int i = 0; i < meters; ++i) {
      physics_.push_back(std::make_unique<sim::MeterPhysics>(static_cast<uint64_t>(i + 1), time_));
    }
  }

  std::vector<wire::MeterReading> Next() {
    time_.Advance(std::chrono::seconds(1));
    const int64_t ts_ms = ToUnixMs(time_.SystemNow());
    std::vector<wire::MeterReading> out;
    out.reserve(physics_.size());
    for (size_t i = 0; i < physics_.size(); ++i) {
      const sim::MeterState& s = physics_[i]->Advance();
      wire::MeterReading r;
      r.device = fmt::format("meter-{:03d}", i + 1);
      r.model = "Janitza UMG 96RM-E";
      r.ts_ms = ts_ms;
      const double imp = s.energy_import_wh, exp = s.energy_export_wh;
      const double values[kSignals] = {
          s.voltage[0], s.voltage[1], s.voltage[2], s.voltage_ll[0], s.voltage_ll[1],
          s.voltage_ll[2], s.current[0], s.current[1], s.current[2], s.current_sum(),
          s.active_power[0], s.active_power[1], s.active_power[2], s.active_power_total(),
          s.apparent_power[0], s.apparent_power[1], s.apparent_power[2], s.apparent_power_total(),
          s.reactive_power[0], s.reactive_power[1], s.reactive_power[2], s.reactive_power_total(),
          s.cos_phi[0], s.cos_phi[1], s.cos_phi[2], s.frequency, imp, exp, imp - exp, imp * 0.31,
          imp * 0.36, imp * 0.33, exp * 0.33, exp * 0.34, exp * 0.33, imp * 1.08, imp * 0.21,
          // THD: a few percent, varying with the load.
          1.5 + s.current[0] * 0.01, 1.6 + s.current[1] * 0.01, 1.4 + s.current[2] * 0.01};
      r.values.reserve(kSignals);
      for (int k = 0; k < kSignals; ++k) {
        wire::SignalValue v;
        v.signal = kDefs[k].name;
        v.unit = kDefs[k].unit;
        v.kind = kDefs[k].kind;
        // Meters deliver float32 registers.
        v.value = static_cast<double>(static_cast<float>(values[k]));
        r.values.push_back(std::move(v));
      }
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  sim::FakeTime time_;
  std::vector<std::unique_ptr<sim::MeterPhysics>> physics_;
};

// A temporary directory under `parent`, removed with the object.
class TempDir {
 public:
  explicit TempDir(const std::string& parent) {
    std::string tmpl = (fs::path(parent) / "wattline-queue-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------------------------
// 1. Appends with group commit.

struct AppendFigures {
  uint64_t records = 0;
  double seconds = 0;
  uint64_t syncs = 0;
  double max_sync_ms = 0;
  uint64_t bytes = 0;
};

Result<AppendFigures> MeasureAppends(const std::string& dir, double seconds, int meters) {
  // A pool of distinct readings (one minute of `meters`), cycled.
  ReadingSource source(meters, 60);
  std::vector<std::string> pool;
  for (int s = 0; s < 60; ++s) {
    for (auto& r : source.Next()) pool.push_back(wire::EncodeReading(r));
  }
  edge::QueueOptions opts;
  opts.dir = dir + "/append";
  auto q = edge::DurableQueue::Open(PosixEnv(), opts);
  if (!q) return Fail(q.error());
  edge::DurableQueue& queue = **q;

  AppendFigures f;
  std::atomic<bool> done{false};
  Status sync_error;
  std::thread syncer([&] {
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (queue.last_seq() == queue.durable_seq()) continue;
      auto t0 = Clock::now();
      if (Status s = queue.Sync(); !s.ok()) {
        sync_error = s;
        return;
      }
      f.max_sync_ms = std::max(f.max_sync_ms, Seconds(Clock::now() - t0) * 1000);
      ++f.syncs;
    }
  });
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  Status append_error;
  size_t i = 0;
  while (true) {
    // Check the clock every 256 appends only.
    if ((i & 255) == 0 && Clock::now() >= end) break;
    const std::string& payload = pool[i % pool.size()];
    if (auto seq = queue.Append(payload); !seq) {
      append_error = seq.error();
      break;
    }
    f.bytes += payload.size() + edge::kQueueRecordHeaderBytes;
    ++i;
  }
  f.seconds = Seconds(Clock::now() - start);
  f.records = i;
  done = true;
  syncer.join();
  if (!append_error.ok()) return Fail(append_error);
  if (!sync_error.ok()) return Fail(sync_error);
  if (Status s = queue.Sync(); !s.ok()) return Fail(s);
  return f;
}

// ---------------------------------------------------------------------------------------------
// 2. Drain through the real uplink and server.

struct DrainFigures {
  uint64_t records = 0;
  uint64_t samples = 0;
  uint64_t queue_bytes = 0;
  double fill_seconds = 0;
  double seconds = 0;
  double uplink_cpu = 0;  // seconds of the uplink thread
  double server_cpu = 0;  // seconds of the server thread
  uint64_t batches = 0;
};

// An io_context on its own thread; Call() runs a function there and waits for it.
class IoThread {
 public:
  // `name` shows in top and perf (at most 15 characters).
  explicit IoThread(const char* name)
      : work_(asio::make_work_guard(io_)), thread_([this, name] {
          pthread_setname_np(pthread_self(), name);
          io_.run();
        }) {}
  ~IoThread() { Join(); }
  asio::io_context& io() { return io_; }
  template <typename F>
  auto Call(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto fut = task.get_future();
    asio::post(io_, [&task] { task(); });
    return fut.get();
  }
  void Join() {
    if (!thread_.joinable()) return;
    work_.reset();
    io_.stop();
    thread_.join();
  }

 private:
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

Result<std::unique_ptr<edge::DurableQueue>> FillBacklog(const std::string& dir, int meters,
                                                        int64_t backlog_s, DrainFigures* f) {
  edge::QueueOptions opts;
  opts.dir = dir;
  auto q = edge::DurableQueue::Open(PosixEnv(), opts);
  if (!q) return Fail(q.error());
  auto start = Clock::now();
  ReadingSource source(meters, backlog_s);
  for (int64_t s = 0; s < backlog_s; ++s) {
    for (auto& r : source.Next()) {
      auto seq = (*q)->Append(wire::EncodeReading(r));
      if (!seq) return Fail(seq.error());
    }
    if (s % 10 == 9) {
      if (Status st = (*q)->Sync(); !st.ok()) return Fail(st);
    }
  }
  if (Status st = (*q)->Sync(); !st.ok()) return Fail(st);
  f->fill_seconds = Seconds(Clock::now() - start);
  f->records = (*q)->last_seq();
  f->samples = f->records * kSignals;
  f->queue_bytes = (*q)->stats().disk_bytes;
  return std::move(*q);
}

Result<DrainFigures> MeasureDrain(const std::string& dir, int meters, int64_t backlog_s) {
  DrainFigures f;
  spdlog::info("drain: filling a backlog of {} meters x {} s", meters, backlog_s);
  auto queue = FillBacklog(dir + "/drain-queue", meters, backlog_s, &f);
  if (!queue) return Fail(queue.error());

  IoThread server_thread("bench-server");
  server::ServerApp server(server_thread.io());
  server::ServerConfig config;
  config.listen_address = "127.0.0.1";
  config.listen_port = 0;
  config.data_dir = dir + "/server";
  config.admin_password = "queue-bench-admin-password";
  config.connectors.push_back({"bench", kToken, "default", "Bench site"});
  Status started = server_thread.Call([&] { return server.Start(config); });
  if (!started.ok()) return Fail(started);
  const uint16_t port = server_thread.Call([&] { return server.port(); });
  auto tls = http::MakePinnedClientContext(server.tls_cert_path());
  if (!tls) return Fail(tls.error());

  IoThread uplink_thread("bench-uplink");
  edge::UplinkConfig up;
  up.connector_id = "bench";
  up.host = "127.0.0.1";
  up.port = port;
  up.token = kToken;
  edge::Uplink uplink(uplink_thread.io(), **queue, up, *tls);

  spdlog::info("drain: sending {} records to the server on port {}", f.records, port);
  const double server_cpu0 = server_thread.Call([] { return ThreadCpuSeconds(); });
  const double uplink_cpu0 = uplink_thread.Call([] { return ThreadCpuSeconds(); });
  const auto start = Clock::now();
  uplink_thread.Call([&] {
    uplink.Start();
    return 0;
  });
  Status error;
  while ((*queue)->acked_seq() < f.records) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto st = uplink_thread.Call([&] { return uplink.status(); });
    if (!st.last_error.empty() && st.failures > 5) {
      error = Unavailable("uplink keeps failing: " + st.last_error);
      break;
    }
  }
  f.seconds = Seconds(Clock::now() - start);
  f.server_cpu = server_thread.Call([] { return ThreadCpuSeconds(); }) - server_cpu0;
  f.uplink_cpu = uplink_thread.Call([] { return ThreadCpuSeconds(); }) - uplink_cpu0;
  f.batches = uplink_thread.Call([&] {
    uplink.Stop();
    return uplink.status().batches_sent;
  });
  server_thread.Call([&] {
    server.Stop();
    return 0;
  });
  uplink_thread.Join();
  server_thread.Join();
  if (!error.ok()) return Fail(error);
  return f;
}

// ---------------------------------------------------------------------------------------------
// 3. Batch codec and wire bytes, on a queue filled like the drain's.

struct CodecFigures {
  uint64_t records = 0;
  uint64_t backlog_batches = 0;
  uint64_t backlog_wire_bytes = 0;
  uint64_t live_batches = 0;
  uint64_t live_wire_bytes = 0;
  double read_s = 0;    // ReadDurable
  double encode_s = 0;  // EncodeBatch
  double decode_s = 0;  // DecodeBatch + DecodeReading of every record
};

Result<CodecFigures> MeasureCodec(const std::string& dir, int meters, int64_t seconds) {
  DrainFigures fill;
  auto q = FillBacklog(dir + "/codec-queue", meters, seconds, &fill);
  if (!q) return Fail(q.error());
  CodecFigures f;
  f.records = fill.records;
  const edge::UplinkConfig limits;
  // Backlog batches, with the uplink's limits; live batches hold one second of all meters.
  for (bool live : {false, true}) {
    uint64_t after = 0;
    while (after < fill.records) {
      auto t0 = Clock::now();
      auto records = (*q)->ReadDurable(
          after, live ? static_cast<size_t>(meters) : limits.max_records, limits.max_bytes);
      if (!records) return Fail(records.error());
      auto t1 = Clock::now();
      wire::Batch batch;
      batch.connector_id = "bench";
      for (auto& r : *records) batch.records.push_back({r.seq, std::move(r.payload)});
      after = batch.records.back().seq;
      std::string bytes = wire::EncodeBatch(batch);
      auto t2 = Clock::now();
      if (live) {
        ++f.live_batches;
        f.live_wire_bytes += bytes.size();
        continue;
      }
      ++f.backlog_batches;
      f.backlog_wire_bytes += bytes.size();
      auto decoded = wire::DecodeBatch(bytes);
      if (!decoded) return Fail(decoded.error());
      for (const auto& rec : decoded->records) {
        auto reading = wire::DecodeReading(rec.reading);
        if (!reading) return Fail(reading.error());
      }
      auto t3 = Clock::now();
      f.read_s += Seconds(t1 - t0);
      f.encode_s += Seconds(t2 - t1);
      f.decode_s += Seconds(t3 - t2);
    }
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// Report.

void PrintTable(const AppendFigures& a, const DrainFigures& d, const CodecFigures& c, int meters,
                int64_t backlog_s, double load1, const std::string& dir) {
  const double append_sps = static_cast<double>(a.records) * kSignals / a.seconds;
  const double drain_sps = static_cast<double>(d.samples) / d.seconds;
  const double live_multiple = drain_sps / kLiveSamplesPerSecond;
  const double codec_samples = static_cast<double>(c.records) * kSignals;

  fmt::print("## Wattline queue benchmark\n\n");
  fmt::print(
      "Machine: {} CPUs (nproc), load average {:.2f}, build type {}, GCC {}.{}, queue in {}{}\n\n",
      sysconf(_SC_NPROCESSORS_ONLN), load1, WATTLINE_BUILD_TYPE, __GNUC__, __GNUC_MINOR__, dir,
      BuildNotes(load1));
  fmt::print("| Measure | Result | Target |\n|---|---|---|\n");
  fmt::print(
      "| Queue appends, group commit every 200 ms ({} records of {} signals in {:.1f} s, {} "
      "syncs, longest {:.1f} ms) | {:.0f} samples/s ({:.0f} records/s, {:.1f} MB/s) "
      "| >= 500,000 samples/s ({}) |\n",
      a.records, kSignals, a.seconds, a.syncs, a.max_sync_ms, append_sps,
      static_cast<double>(a.records) / a.seconds, static_cast<double>(a.bytes) / a.seconds / 1e6,
      Verdict(append_sps >= 500000));
  fmt::print(
      "| Drain of a backlog of {} meters x {} s ({:.1f} M samples, {:.0f} MB of queue; "
      "{:.1f} % of the 24 h backlog) through Uplink -> HTTPS -> server ingest -> SQLite | "
      "{:.0f} samples/s in {:.1f} s, {} batches | |\n",
      meters, backlog_s, static_cast<double>(d.samples) / 1e6,
      static_cast<double>(d.queue_bytes) / 1e6, 100.0 * static_cast<double>(d.samples) / 345.6e6,
      drain_sps, d.seconds, d.batches);
  fmt::print(
      "| Drain rate as a multiple of the live rate (4,000 samples/s) | {:.1f}x | >= 10x ({}) |\n",
      live_multiple, Verdict(live_multiple >= 10));
  fmt::print("| Time for the whole 24 h backlog (345.6 M samples) at this rate | {:.0f} min | |\n",
             345.6e6 / drain_sps / 60);
  fmt::print(
      "| Where the drain's time goes: server thread CPU / uplink thread CPU | {:.0f} % / {:.0f} % "
      "of the wall time | |\n",
      100 * d.server_cpu / d.seconds, 100 * d.uplink_cpu / d.seconds);
  fmt::print(
      "| Batch codec per 1 M samples, one thread: queue read / EncodeBatch (zstd) / DecodeBatch + "
      "DecodeReading | {:.3f} / {:.3f} / {:.3f} s | |\n",
      c.read_s / codec_samples * 1e6, c.encode_s / codec_samples * 1e6,
      c.decode_s / codec_samples * 1e6);
  fmt::print("| Wire bytes per sample, backlog batches ({} batches, uplink limits) | {:.2f} | |\n",
             c.backlog_batches, static_cast<double>(c.backlog_wire_bytes) / codec_samples);
  fmt::print("| Wire bytes per sample, live batches (1 s of {} meters) | {:.2f} | |\n", meters,
             static_cast<double>(c.live_wire_bytes) / codec_samples);
  fmt::print("| Queue bytes per sample (uncompressed records) | {:.2f} | |\n",
             static_cast<double>(d.queue_bytes) / static_cast<double>(d.samples));
  fmt::print(
      "| Backlog fill (physics + EncodeReading + Append, not part of the drain) | {:.1f} s | |\n",
      d.fill_seconds);
}

}  // namespace
}  // namespace wattline::bench

int main(int argc, char** argv) {
  using namespace wattline;
  Options options("wattline-queue-bench",
                  "Benchmarks the connector's durable queue and the drain of a backlog through "
                  "the uplink to a server, and prints a markdown table (see docs/benchmarks.md).");
  options.Add("dir", "", "folder for the queue and the server's data (default: $TMPDIR or /tmp)");
  options.Add("append_seconds", "5", "length of the append measurement");
  options.Add("meters", "100", "meters in the backlog (40 signals each, 1 s)");
  options.Add("backlog_s", "1800",
              "seconds of backlog to drain (86400 = the full 24 h: ~11 GB of queue)");
  options.Add("codec_s", "600", "seconds of backlog for the batch-codec and wire-bytes figures");
  options.Add("quick", "false",
              "smoke run of a few seconds: 0.5 s of appends, 30 s of backlog (overrides those "
              "flags)");
  if (auto exit_code = StartProgram(options, argc, argv, "queue-bench")) return *exit_code;

  auto append_seconds = options.GetDouble("append_seconds");
  auto meters = options.GetInt("meters");
  auto backlog_s = options.GetInt("backlog_s");
  auto codec_s = options.GetInt("codec_s");
  auto quick = options.GetBool("quick");
  if (!append_seconds || !meters || !backlog_s || !codec_s || !quick) {
    spdlog::error("bad option value");
    return 2;
  }
  if (*quick) {
    *append_seconds = 0.5;
    *backlog_s = 30;
    *codec_s = 30;
  }
  if (*append_seconds <= 0 || *meters < 1 || *meters > 10000 || *backlog_s < 1 || *codec_s < 1) {
    spdlog::error(
        "need --append_seconds > 0, --meters in 1..10000, --backlog_s and --codec_s >= 1");
    return 2;
  }
  std::string parent = options.Get("dir");
  if (parent.empty()) parent = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  bench::TempDir dir(parent);
  if (dir.path().empty()) {
    spdlog::error("cannot create a folder in {}", parent);
    return 1;
  }
  double load[1] = {-1};
  if (getloadavg(load, 1) != 1) load[0] = -1;

  spdlog::info("appends: {} s", *append_seconds);
  auto appends = bench::MeasureAppends(dir.path(), *append_seconds, static_cast<int>(*meters));
  if (!appends) {
    spdlog::error("append test failed: {}", appends.error().ToString());
    return 1;
  }
  auto drain = bench::MeasureDrain(dir.path(), static_cast<int>(*meters), *backlog_s);
  if (!drain) {
    spdlog::error("drain test failed: {}", drain.error().ToString());
    return 1;
  }
  spdlog::info("codec: {} s of backlog", *codec_s);
  auto codec = bench::MeasureCodec(dir.path(), static_cast<int>(*meters), *codec_s);
  if (!codec) {
    spdlog::error("codec test failed: {}", codec.error().ToString());
    return 1;
  }
  bench::PrintTable(*appends, *drain, *codec, static_cast<int>(*meters), *backlog_s, load[0],
                    parent);
  return 0;
}
