// wattline-queue-bench: how fast the connector's store-and-forward path stores and drains.
//
// Prints one markdown table with three experiments (the second has two drains). A record is one
// encoded wire::MeterReading of 40 signals from sim::MeterPhysics (float32-rounded, as read from
// registers); samples = records x 40.
//
// 1. Appends with group commit. One thread appends pre-encoded readings to an edge::DurableQueue
//    in `--dir` for `--append_seconds`; a second thread calls Sync() every 200 ms, as the
//    connector's sync loop does (Sync holds the queue's lock during the fdatasync, so its stalls
//    are in the figure).
//
// 2. Drains of a backlog. `--meters` meters x N seconds of readings at 1 s are appended and
//    synced, then the real edge::Uplink sends them over HTTPS on loopback until everything is
//    acknowledged. Uplink and receiver each run on their own io_context thread; their CPU time
//    (getrusage(RUSAGE_THREAD)) says where the time goes. Progress is logged every 10 s.
//    a. The connector's drain of `--sink_backlog_s` (default 86400: the full 24 h of 100
//       meters, 345.6 M samples, ~11 GB of queue) into the server's ingest without storage: an
//       HTTPS server with the real server::Ingest over a real Catalog (SQLite in `--dir`) and
//       LiveHub, but a SampleStore local to this file that only counts samples and checks that
//       each signal's timestamps rise. The run fails unless it counted exactly what was queued.
//    b. `--backlog_s` (default a 30-minute prefix) into the real server::ServerApp, whose
//       current storage is one SQLite row per sample (in `--dir`).
//    Free disk space in `--dir` is checked first, from the measured record size.
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

#include <algorithm>
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
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
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
#include "historian/sample_store.h"
#include "http/router.h"
#include "http/server.h"
#include "http/tls.h"
#include "server/catalog.h"
#include "server/ingest.h"
#include "server/live_hub.h"
#include "server/password.h"
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
// 2. Drains of a backlog through the real uplink over HTTPS: into the real server (SQLite row
//    store), and into the server's real ingest with a counting store.

struct DrainFigures {
  uint64_t records = 0;
  uint64_t samples = 0;
  uint64_t queue_bytes = 0;
  double fill_seconds = 0;
  double seconds = 0;
  double uplink_cpu = 0;    // seconds of the uplink thread
  double receiver_cpu = 0;  // seconds of the server's (or the sink's) thread
  uint64_t batches = 0;
  // The counting sink only.
  uint64_t counted_samples = 0;
  uint64_t out_of_order = 0;
  uint64_t signals = 0;
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

// The most bytes of files seen under a folder, sampled by Sample().
class DiskPeak {
 public:
  explicit DiskPeak(std::string dir) : dir_(std::move(dir)) {}
  void Sample() {
    uint64_t total = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code size_ec;
      if (it->is_regular_file(size_ec)) {
        const uintmax_t size = it->file_size(size_ec);
        if (!size_ec) total += size;
      }
    }
    std::lock_guard lock(mu_);
    peak_ = std::max(peak_, total);
  }
  uint64_t peak() const {
    std::lock_guard lock(mu_);
    return peak_;
  }

 private:
  std::string dir_;
  mutable std::mutex mu_;
  uint64_t peak_ = 0;
};

constexpr auto kProgressEvery = std::chrono::seconds(10);

Result<std::unique_ptr<edge::DurableQueue>> FillBacklog(const std::string& dir, int meters,
                                                        int64_t backlog_s, DrainFigures* f,
                                                        DiskPeak* disk = nullptr) {
  edge::QueueOptions opts;
  opts.dir = dir;
  auto q = edge::DurableQueue::Open(PosixEnv(), opts);
  if (!q) return Fail(q.error());
  auto start = Clock::now();
  auto next_progress = start + kProgressEvery;
  ReadingSource source(meters, backlog_s);
  for (int64_t s = 0; s < backlog_s; ++s) {
    for (auto& r : source.Next()) {
      auto seq = (*q)->Append(wire::EncodeReading(r));
      if (!seq) return Fail(seq.error());
    }
    if (s % 10 == 9) {
      if (Status st = (*q)->Sync(); !st.ok()) return Fail(st);
    }
    if ((s & 63) == 0 && Clock::now() >= next_progress) {
      next_progress += kProgressEvery;
      const double elapsed = Seconds(Clock::now() - start);
      const double done = static_cast<double>(s + 1) / static_cast<double>(backlog_s);
      spdlog::info("fill: {} of {} s of backlog ({:.1f} GB of queue), ETA {:.0f} s", s + 1,
                   backlog_s, static_cast<double>((*q)->stats().disk_bytes) / 1e9,
                   elapsed / done - elapsed);
      if (disk) disk->Sample();
    }
  }
  if (Status st = (*q)->Sync(); !st.ok()) return Fail(st);
  f->fill_seconds = Seconds(Clock::now() - start);
  f->records = (*q)->last_seq();
  f->samples = f->records * kSignals;
  f->queue_bytes = (*q)->stats().disk_bytes;
  if (disk) disk->Sample();
  return std::move(*q);
}

// The measurement both drains share: the real edge::Uplink on its own thread sends `queue` to
// https://127.0.0.1:`port` (certificate pinned to `cert_path`) until the queue's ack reaches
// f->records. Fills f->seconds, f->batches and the CPU time of the uplink thread and of
// `receiver` (the thread that serves the requests). Logs progress every 10 s.
Status RunUplinkDrain(const char* label, edge::DurableQueue& queue, IoThread& receiver,
                      uint16_t port, const std::string& cert_path, DrainFigures* f,
                      DiskPeak* disk) {
  auto tls = http::MakePinnedClientContext(cert_path);
  if (!tls) return tls.error();
  IoThread uplink_thread("bench-uplink");
  edge::UplinkConfig up;
  up.connector_id = "bench";
  up.host = "127.0.0.1";
  up.port = port;
  up.token = kToken;
  edge::Uplink uplink(uplink_thread.io(), queue, up, *tls);

  spdlog::info("{}: sending {} records ({:.1f} M samples) to port {}", label, f->records,
               static_cast<double>(f->samples) / 1e6, port);
  const double receiver_cpu0 = receiver.Call([] { return ThreadCpuSeconds(); });
  const double uplink_cpu0 = uplink_thread.Call([] { return ThreadCpuSeconds(); });
  const auto start = Clock::now();
  auto next_progress = start + kProgressEvery;
  uplink_thread.Call([&] {
    uplink.Start();
    return 0;
  });
  Status error;
  while (queue.acked_seq() < f->records) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto st = uplink_thread.Call([&] { return uplink.status(); });
    if (!st.last_error.empty() && st.failures > 5) {
      error = Unavailable(std::string(label) + ": uplink keeps failing: " + st.last_error);
      break;
    }
    if (Clock::now() >= next_progress) {
      next_progress += kProgressEvery;
      const uint64_t acked = queue.acked_seq();
      const double elapsed = Seconds(Clock::now() - start);
      const double rate = static_cast<double>(acked) / elapsed;  // records/s
      spdlog::info(
          "{}: {} of {} records acknowledged, {:.0f} samples/s ({:.1f}x live), ETA {:.0f} s", label,
          acked, f->records, rate * kSignals, rate * kSignals / kLiveSamplesPerSecond,
          rate > 0 ? static_cast<double>(f->records - acked) / rate : 0.0);
      if (disk) disk->Sample();
    }
  }
  f->seconds = Seconds(Clock::now() - start);
  f->receiver_cpu = receiver.Call([] { return ThreadCpuSeconds(); }) - receiver_cpu0;
  f->uplink_cpu = uplink_thread.Call([] { return ThreadCpuSeconds(); }) - uplink_cpu0;
  f->batches = uplink_thread.Call([&] {
    uplink.Stop();
    return uplink.status().batches_sent;
  });
  uplink_thread.Join();
  return error;
}

void RemoveDir(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) spdlog::warn("cannot remove {}: {}", dir, ec.message());
}

// 2a. Into a real server::ServerApp in this process: the server's current SQLite row store.
Result<DrainFigures> MeasureRowStoreDrain(const std::string& dir, int meters, int64_t backlog_s,
                                          DiskPeak* disk) {
  DrainFigures f;
  spdlog::info("row-store drain: filling a backlog of {} meters x {} s", meters, backlog_s);
  auto queue = FillBacklog(dir + "/drain-queue", meters, backlog_s, &f, disk);
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

  Status drained = RunUplinkDrain("row-store drain", **queue, server_thread, port,
                                  server.tls_cert_path(), &f, disk);
  if (disk) disk->Sample();
  server_thread.Call([&] {
    server.Stop();
    return 0;
  });
  server_thread.Join();
  if (!drained.ok()) return Fail(drained);
  return f;
}

// A historian::SampleStore that keeps nothing: it counts the samples and checks that each
// signal's timestamps rise (a lost, duplicated or reordered sample shows).
class CountingStore final : public historian::SampleStore {
 public:
  Status Append(std::span<const historian::StoredSample> samples) override {
    std::lock_guard lock(mu_);
    for (const historian::StoredSample& s : samples) {
      auto [it, inserted] = last_ts_.try_emplace(s.signal_id, s.ts_ms);
      if (!inserted) {
        if (s.ts_ms <= it->second) ++out_of_order_;
        it->second = s.ts_ms;
      }
    }
    count_ += samples.size();
    return Status::Ok();
  }
  Result<std::vector<historian::StoredSample>> Latest(std::span<const int64_t>) override {
    return Fail(Unsupported());
  }
  Result<std::vector<historian::StoredSample>> Range(int64_t, int64_t, int64_t, size_t) override {
    return Fail(Unsupported());
  }
  Result<int64_t> Count(int64_t, int64_t, int64_t) override { return Fail(Unsupported()); }

  uint64_t count() const {
    std::lock_guard lock(mu_);
    return count_;
  }
  uint64_t out_of_order() const {
    std::lock_guard lock(mu_);
    return out_of_order_;
  }
  uint64_t signals() const {
    std::lock_guard lock(mu_);
    return last_ts_.size();
  }

 private:
  static Status Unsupported() {
    return FailedPrecondition("the queue bench's counting store keeps no samples");
  }

  mutable std::mutex mu_;
  std::unordered_map<int64_t, int64_t> last_ts_;  // signal id -> newest ts_ms
  uint64_t count_ = 0;
  uint64_t out_of_order_ = 0;
};

// The server's ingest without storage: an HTTPS server whose only route is POST
// /api/v1/ingest, wired as server::ServerApp wires it (real Catalog in SQLite, LiveHub, Ingest),
// over a CountingStore. Start and Stop on the I/O thread.
class IngestSink {
 public:
  Status Start(asio::io_context& io, const std::string& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return FailedPrecondition("cannot create " + dir + ": " + ec.message());
    auto catalog = server::Catalog::Open((fs::path(dir) / "config.db").string());
    if (!catalog) return catalog.error();
    catalog_ = std::move(*catalog);
    auto tenant = catalog_->EnsureTenant("default");
    if (!tenant) return tenant.error();
    auto site = catalog_->EnsureSite(*tenant, "Bench site");
    if (!site) return site.error();
    if (Status s = catalog_->UpsertConnector(*tenant, *site, "bench", server::TokenHash(kToken));
        !s.ok())
      return s;

    cert_path_ = (fs::path(dir) / "server.crt").string();
    const std::string key = (fs::path(dir) / "server.key").string();
    const std::vector<std::string> hostnames = {"localhost", "127.0.0.1"};
    if (Status s = http::EnsureSelfSignedCertificate(cert_path_, key, hostnames); !s.ok()) return s;
    auto tls = http::MakeServerContext(cert_path_, key);
    if (!tls) return tls.error();

    ingest_ = std::make_unique<server::Ingest>(*catalog_, store_, hub_);
    router_.AddAsync(boost::beast::http::verb::post, "/api/v1/ingest",
                     [this](http::Request& r) { return ingest_->Handle(r); });
    server_ = std::make_unique<http::HttpsServer>(io, *tls, router_, http::ServerOptions{});
    auto port = server_->Listen("127.0.0.1", 0);
    if (!port) return port.error();
    port_ = *port;
    return Status::Ok();
  }
  void Stop() {
    if (server_) server_->Stop();
  }
  uint16_t port() const { return port_; }
  const std::string& cert_path() const { return cert_path_; }
  const CountingStore& store() const { return store_; }

 private:
  std::unique_ptr<server::Catalog> catalog_;
  CountingStore store_;
  server::LiveHub hub_;
  std::unique_ptr<server::Ingest> ingest_;
  http::Router router_;
  std::unique_ptr<http::HttpsServer> server_;
  uint16_t port_ = 0;
  std::string cert_path_;
};

// 2b. The connector's drain into the ingest sink. Fails unless the sink counted exactly the
// queued samples, in order per signal, for meters x 40 signals.
Result<DrainFigures> MeasureSinkDrain(const std::string& dir, int meters, int64_t backlog_s,
                                      DiskPeak* disk) {
  DrainFigures f;
  spdlog::info("connector drain: filling a backlog of {} meters x {} s", meters, backlog_s);
  auto queue = FillBacklog(dir + "/sink-queue", meters, backlog_s, &f, disk);
  if (!queue) return Fail(queue.error());

  IoThread sink_thread("bench-ingest");
  IngestSink sink;
  Status started = sink_thread.Call([&] { return sink.Start(sink_thread.io(), dir + "/sink"); });
  if (!started.ok()) return Fail(started);
  const uint16_t port = sink_thread.Call([&] { return sink.port(); });

  Status drained =
      RunUplinkDrain("connector drain", **queue, sink_thread, port, sink.cert_path(), &f, disk);
  sink_thread.Call([&] {
    sink.Stop();
    return 0;
  });
  sink_thread.Join();
  if (!drained.ok()) return Fail(drained);
  f.counted_samples = sink.store().count();
  f.out_of_order = sink.store().out_of_order();
  f.signals = sink.store().signals();
  const uint64_t want_signals = static_cast<uint64_t>(meters) * kSignals;
  if (f.counted_samples != f.samples || f.out_of_order != 0 || f.signals != want_signals) {
    return Fail(DataLoss(fmt::format(
        "the ingest sink counted {} samples of {} queued, {} out of order, {} signals of {}",
        f.counted_samples, f.samples, f.out_of_order, f.signals, want_signals)));
  }
  return f;
}

// Bytes of queue one second of `meters` readings takes, measured on one encoded second.
uint64_t QueueBytesPerSecond(int meters) {
  ReadingSource source(meters, 1);
  uint64_t bytes = 0;
  for (auto& r : source.Next())
    bytes += wire::EncodeReading(r).size() + edge::kQueueRecordHeaderBytes;
  return bytes;
}

// kResourceExhausted when `dir` has less than `need` bytes free.
Status CheckFreeSpace(const std::string& dir, uint64_t need, const std::string& what) {
  std::error_code ec;
  const fs::space_info space = fs::space(dir, ec);
  if (ec) return FailedPrecondition("cannot read the free space of " + dir + ": " + ec.message());
  if (space.available < need) {
    return ResourceExhausted(fmt::format(
        "{} has {:.1f} GB free, but {} needs about {:.1f} GB; choose another --dir or a shorter "
        "backlog",
        dir, static_cast<double>(space.available) / 1e9, what, static_cast<double>(need) / 1e9));
  }
  return Status::Ok();
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

// "the full 24 h backlog" for the 100 meters x 86400 s, else its size and share.
std::string BacklogName(int meters, int64_t backlog_s, const DrainFigures& d) {
  std::string share = meters == 100 && backlog_s == 86400
                          ? std::string("full 24 h backlog, ")
                          : fmt::format("{:.1f} % of the 24 h backlog, ",
                                        100.0 * static_cast<double>(d.samples) / 345.6e6);
  return fmt::format("{}{} meters x {} s, {:.1f} M samples, {:.0f} MB of queue", share, meters,
                     backlog_s, static_cast<double>(d.samples) / 1e6,
                     static_cast<double>(d.queue_bytes) / 1e6);
}

struct Report {
  AppendFigures appends;
  DrainFigures row_store;
  DrainFigures sink;
  CodecFigures codec;
  int meters = 0;
  int64_t backlog_s = 0;
  int64_t sink_backlog_s = 0;
  uint64_t peak_disk_bytes = 0;
  double load1 = -1;
  std::string dir;
};

void PrintTable(const Report& r) {
  const AppendFigures& a = r.appends;
  const DrainFigures& d = r.row_store;
  const DrainFigures& s = r.sink;
  const CodecFigures& c = r.codec;
  const double append_sps = static_cast<double>(a.records) * kSignals / a.seconds;
  const double row_sps = static_cast<double>(d.samples) / d.seconds;
  const double row_multiple = row_sps / kLiveSamplesPerSecond;
  const double sink_sps = static_cast<double>(s.samples) / s.seconds;
  const double sink_multiple = sink_sps / kLiveSamplesPerSecond;
  const double codec_samples = static_cast<double>(c.records) * kSignals;

  fmt::print("## Wattline queue benchmark\n\n");
  fmt::print(
      "Machine: {} CPUs (nproc), load average {:.2f}, build type {}, GCC {}.{}, queue in {}{}\n\n",
      sysconf(_SC_NPROCESSORS_ONLN), r.load1, WATTLINE_BUILD_TYPE, __GNUC__, __GNUC_MINOR__, r.dir,
      BuildNotes(r.load1));
  fmt::print("| Measure | Result | Target |\n|---|---|---|\n");
  fmt::print(
      "| Queue appends, group commit every 200 ms ({} records of {} signals in {:.1f} s, {} "
      "syncs, longest {:.1f} ms) | {:.0f} samples/s ({:.0f} records/s, {:.1f} MB/s) "
      "| >= 500,000 samples/s ({}) |\n",
      a.records, kSignals, a.seconds, a.syncs, a.max_sync_ms, append_sps,
      static_cast<double>(a.records) / a.seconds, static_cast<double>(a.bytes) / a.seconds / 1e6,
      Verdict(append_sps >= 500000));
  fmt::print(
      "| Connector drain, {}, through Uplink -> HTTPS -> server ingest without storage "
      "(counting store) | {:.0f} samples/s in {:.1f} s ({:.1f} min), {} batches | |\n",
      BacklogName(r.meters, r.sink_backlog_s, s), sink_sps, s.seconds, s.seconds / 60, s.batches);
  fmt::print(
      "| Live multiple (live rate 4,000 samples/s), connector drain into ingest without storage "
      "| {:.1f}x | >= 10x ({}) |\n",
      sink_multiple, Verdict(sink_multiple >= 10));
  fmt::print(
      "| Connector drain: samples counted by the sink / queued, out of order, signals | {} / {}, "
      "{}, {} | all, 0 |\n",
      s.counted_samples, s.samples, s.out_of_order, s.signals);
  fmt::print(
      "| Connector drain: ingest thread CPU / uplink thread CPU | {:.0f} % / {:.0f} % of the wall "
      "time | |\n",
      100 * s.receiver_cpu / s.seconds, 100 * s.uplink_cpu / s.seconds);
  fmt::print(
      "| Drain into the server's current SQLite row store, {}, through Uplink -> HTTPS -> "
      "server ingest -> SQLite | {:.0f} samples/s in {:.1f} s, {} batches | |\n",
      BacklogName(r.meters, r.backlog_s, d), row_sps, d.seconds, d.batches);
  fmt::print(
      "| Live multiple (live rate 4,000 samples/s), drain into the SQLite row store | {:.1f}x | "
      ">= 10x ({}) |\n",
      row_multiple, Verdict(row_multiple >= 10));
  fmt::print(
      "| Row store: whole 24 h backlog (345.6 M samples) at this rate | {:.0f} min "
      "(extrapolated) | |\n",
      345.6e6 / row_sps / 60);
  fmt::print(
      "| Row store: server thread CPU / uplink thread CPU | {:.0f} % / {:.0f} % of the wall time "
      "| |\n",
      100 * d.receiver_cpu / d.seconds, 100 * d.uplink_cpu / d.seconds);
  fmt::print(
      "| Batch codec per 1 M samples, one thread: queue read / EncodeBatch (zstd) / DecodeBatch + "
      "DecodeReading | {:.3f} / {:.3f} / {:.3f} s | |\n",
      c.read_s / codec_samples * 1e6, c.encode_s / codec_samples * 1e6,
      c.decode_s / codec_samples * 1e6);
  fmt::print("| Wire bytes per sample, backlog batches ({} batches, uplink limits) | {:.2f} | |\n",
             c.backlog_batches, static_cast<double>(c.backlog_wire_bytes) / codec_samples);
  fmt::print("| Wire bytes per sample, live batches (1 s of {} meters) | {:.2f} | |\n", r.meters,
             static_cast<double>(c.live_wire_bytes) / codec_samples);
  fmt::print("| Queue bytes per sample (uncompressed records) | {:.2f} | |\n",
             static_cast<double>(s.queue_bytes) / static_cast<double>(s.samples));
  fmt::print(
      "| Backlog fill (physics + EncodeReading + Append, not part of the drains): connector "
      "drain / row store | {:.1f} s / {:.1f} s | |\n",
      s.fill_seconds, d.fill_seconds);
  fmt::print("| Peak disk use of the benchmark's files in the queue folder | {:.2f} GB | |\n",
             static_cast<double>(r.peak_disk_bytes) / 1e9);
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
  options.Add("meters", "100", "meters in the backlogs (40 signals each, 1 s)");
  options.Add("backlog_s", "1800",
              "seconds of backlog drained into the server's SQLite row store (86400 = 24 h)");
  options.Add("sink_backlog_s", "86400",
              "seconds of backlog drained into the ingest without storage (86400 = the full 24 h: "
              "~11 GB of queue)");
  options.Add("codec_s", "600", "seconds of backlog for the batch-codec and wire-bytes figures");
  options.Add("quick", "false",
              "smoke run of a few seconds: 0.5 s of appends, 30 s of backlog for each drain "
              "(overrides those flags)");
  if (auto exit_code = StartProgram(options, argc, argv, "queue-bench")) return *exit_code;

  auto append_seconds = options.GetDouble("append_seconds");
  auto meters = options.GetInt("meters");
  auto backlog_s = options.GetInt("backlog_s");
  auto sink_backlog_s = options.GetInt("sink_backlog_s");
  auto codec_s = options.GetInt("codec_s");
  auto quick = options.GetBool("quick");
  if (!append_seconds || !meters || !backlog_s || !sink_backlog_s || !codec_s || !quick) {
    spdlog::error("bad option value");
    return 2;
  }
  if (*quick) {
    *append_seconds = 0.5;
    *backlog_s = 30;
    *sink_backlog_s = 30;
    *codec_s = 30;
  }
  if (*append_seconds <= 0 || *meters < 1 || *meters > 10000 || *backlog_s < 1 ||
      *sink_backlog_s < 1 || *codec_s < 1) {
    spdlog::error(
        "need --append_seconds > 0, --meters in 1..10000, --backlog_s, --sink_backlog_s and "
        "--codec_s >= 1");
    return 2;
  }
  std::string parent = options.Get("dir");
  if (parent.empty()) parent = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  const int n_meters = static_cast<int>(*meters);

  // The experiments run one after another and each removes its files, so the largest one has to
  // fit: appends (at most ~200 MB/s), the row-store drain (queue, and as much again of SQLite),
  // the connector drain (queue), plus a margin of 10 % and 1 GB.
  const double second_bytes = static_cast<double>(bench::QueueBytesPerSecond(n_meters));
  const double append_bytes = *append_seconds * 200e6;
  const double row_bytes = 2 * second_bytes * static_cast<double>(*backlog_s);
  const double sink_bytes = second_bytes * static_cast<double>(*sink_backlog_s);
  const double codec_bytes = second_bytes * static_cast<double>(*codec_s);
  const double need = std::max({append_bytes, row_bytes, sink_bytes, codec_bytes}) * 1.1 + 1e9;
  if (Status s = bench::CheckFreeSpace(
          parent, static_cast<uint64_t>(need),
          fmt::format("a backlog of {} meters x {} s ({:.0f} bytes of queue a second)", n_meters,
                      std::max(*backlog_s, *sink_backlog_s), second_bytes));
      !s.ok()) {
    spdlog::error("not enough disk space: {}", s.message());
    return 1;
  }

  bench::TempDir dir(parent);
  if (dir.path().empty()) {
    spdlog::error("cannot create a folder in {}", parent);
    return 1;
  }
  bench::DiskPeak disk(dir.path());
  bench::Report report;
  report.meters = n_meters;
  report.backlog_s = *backlog_s;
  report.sink_backlog_s = *sink_backlog_s;
  report.dir = parent;
  double load[1] = {-1};
  if (getloadavg(load, 1) != 1) load[0] = -1;
  report.load1 = load[0];

  spdlog::info("appends: {} s", *append_seconds);
  auto appends = bench::MeasureAppends(dir.path(), *append_seconds, n_meters);
  disk.Sample();
  bench::RemoveDir(dir.path() + "/append");
  if (!appends) {
    spdlog::error("append test failed: {}", appends.error().ToString());
    return 1;
  }
  report.appends = *appends;

  auto row_store = bench::MeasureRowStoreDrain(dir.path(), n_meters, *backlog_s, &disk);
  bench::RemoveDir(dir.path() + "/drain-queue");
  bench::RemoveDir(dir.path() + "/server");
  if (!row_store) {
    spdlog::error("drain into the server's row store failed: {}", row_store.error().ToString());
    return 1;
  }
  report.row_store = *row_store;

  auto sink = bench::MeasureSinkDrain(dir.path(), n_meters, *sink_backlog_s, &disk);
  bench::RemoveDir(dir.path() + "/sink-queue");
  bench::RemoveDir(dir.path() + "/sink");
  if (!sink) {
    spdlog::error("connector drain into the ingest sink failed: {}", sink.error().ToString());
    return 1;
  }
  report.sink = *sink;

  spdlog::info("codec: {} s of backlog", *codec_s);
  auto codec = bench::MeasureCodec(dir.path(), n_meters, *codec_s);
  disk.Sample();
  if (!codec) {
    spdlog::error("codec test failed: {}", codec.error().ToString());
    return 1;
  }
  report.codec = *codec;
  report.peak_disk_bytes = disk.peak();
  bench::PrintTable(report);
  return 0;
}
