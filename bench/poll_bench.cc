// wattline-poll-bench: how fast and how punctually the connector polls Modbus TCP meters.
//
// Prints one markdown table with two experiments, each against the simulator on loopback:
//
// 1. Throughput over one TCP connection. One simulated meter (sim::Fleet) runs on its own
//    io_context thread. Our asynchronous modbus::TcpClient and a blocking libmodbus client take
//    turns sending `--requests` sequential FC03 reads of the UMG block (unit 1, registers
//    19000..19077) over one connection, after a warm-up; the best of `--runs` runs counts.
//
// 2. Many meters at a 1 s cycle. `--meters` simulated meters, each with its own port, run on
//    one thread; the connector's edge::Poller polls all of them with the bundled profile on a
//    second thread. Over `--seconds` poll cycles we measure the poller thread's CPU time
//    (getrusage(RUSAGE_THREAD)), how late each poll's first request reaches its meter relative to
//    the poll's slot (the poller staggers the meters over the second; recorded by the simulated
//    meters), the readings delivered and the poll errors.
//
// Run the Release build for figures (see docs/benchmarks.md); the table warns otherwise.
#include <fmt/format.h>
#include <modbus/modbus.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "bench_report.h"
#include "core/flags.h"
#include "core/program.h"
#include "core/status.h"
#include "core/time.h"
#include "edge/poller.h"
#include "modbus/tcp_client.h"
#include "modbus/tcp_server.h"
#include "profiles/profile_registry.h"
#include "sim/fleet.h"
#include "sim/meter_physics.h"
#include "sim/umg_register_map.h"

namespace wattline::bench {
namespace {

namespace asio = boost::asio;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using std::chrono::system_clock;

// The read both clients repeat: the UMG float block as the bundled profile plans it.
constexpr uint8_t kUnit = 1;
constexpr uint8_t kReadHolding = 0x03;
constexpr uint16_t kBlockAddress = 19000;
constexpr uint16_t kBlockCount = 78;
constexpr char kProfileId[] = "janitza-umg96rm-e";

// CPU time (user + system) consumed so far by the calling thread.
microseconds ThreadCpuTime() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return std::chrono::seconds(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         microseconds(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

int64_t UnixMicros(system_clock::time_point t) {
  return duration_cast<microseconds>(t.time_since_epoch()).count();
}

// A thread running its own io_context until Join(). Objects that live on the io_context are
// created before Start() (allowed by their contracts: "or before it runs") and touched
// afterwards only through Call().
class IoThread {
 public:
  IoThread() : work_(asio::make_work_guard(io_)) {}
  ~IoThread() { Join(); }
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  asio::io_context& io() { return io_; }

  void Start() {
    thread_ = std::thread([this, done = std::move(done_)]() mutable {
      io_.run();
      done.set_value();
    });
  }

  // Runs `fn` on the thread and returns its result. REQUIRES: Start() was called.
  template <class F>
  std::invoke_result_t<F> Call(F fn) {
    std::packaged_task<std::invoke_result_t<F>()> task(std::move(fn));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }

  // Lets the io_context run out of work (so that stopped coroutines finish cleanly) and joins.
  // A context still busy after 5 s is stopped: its remaining handlers are destroyed with it.
  void Join() {
    if (!thread_.joinable()) return;
    work_.reset();
    if (finished_.wait_for(std::chrono::seconds(5)) != std::future_status::ready) io_.stop();
    thread_.join();
  }

 private:
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::promise<void> done_;
  std::future<void> finished_ = done_.get_future();
  std::thread thread_;
};

// Nearest-rank percentile of `sorted` (ascending), p in [0, 100].
template <class T>
T Percentile(const std::vector<T>& sorted, double p) {
  if (sorted.empty()) return T{};
  size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// Raises the soft open-files limit to the hard limit: 1,000 meters need ~3,000 descriptors
// (listener, accepted socket and client socket per meter).
void RaiseFileLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == lim.rlim_max) return;
  lim.rlim_cur = lim.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0) spdlog::warn("cannot raise RLIMIT_NOFILE");
}

rlim_t FileLimit() {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  return lim.rlim_cur;
}

// ---------------------------------------------------------------------------------------------
// Experiment 1: requests per second over one loopback connection.

struct Throughput {
  double ours_rps = 0;
  double libmodbus_rps = 0;
};

// Requests/s of `count` sequential reads with our client on `port`, after `warmup` reads on the
// same connection.
Result<double> MeasureOurClient(uint16_t port, int warmup, int count) {
  asio::io_context io(1);
  modbus::TcpClient client(io.get_executor(), "127.0.0.1", port);
  Result<double> rps = 0.0;
  auto reads = [&](int n) -> asio::awaitable<Status> {
    for (int i = 0; i < n; ++i) {
      auto regs = co_await client.ReadRegisters(kUnit, kReadHolding, kBlockAddress, kBlockCount);
      if (!regs) co_return regs.error();
    }
    co_return Status::Ok();
  };
  auto bench = [&]() -> asio::awaitable<void> {
    if (Status s = co_await reads(warmup); !s.ok()) {
      rps = Fail(s);
      co_return;
    }
    auto start = steady_clock::now();
    if (Status s = co_await reads(count); !s.ok()) {
      rps = Fail(s);
      co_return;
    }
    std::chrono::duration<double> took = steady_clock::now() - start;
    rps = count / took.count();
  };
  asio::co_spawn(io, bench(), [&](std::exception_ptr e) {
    if (e) rps = Fail(Internal("our client's benchmark coroutine threw"));
  });
  io.run();
  client.Close();
  return rps;
}

// The same with libmodbus: blocking calls on this thread, one connection.
Result<double> MeasureLibmodbus(uint16_t port, int warmup, int count) {
  std::unique_ptr<modbus_t, void (*)(modbus_t*)> ctx(modbus_new_tcp("127.0.0.1", port),
                                                     [](modbus_t* c) {
                                                       modbus_close(c);
                                                       modbus_free(c);
                                                     });
  if (!ctx) return Fail(Internal("modbus_new_tcp failed"));
  if (modbus_set_slave(ctx.get(), kUnit) != 0 || modbus_connect(ctx.get()) != 0) {
    return Fail(Unavailable(fmt::format("libmodbus: {}", modbus_strerror(errno))));
  }
  modbus_set_response_timeout(ctx.get(), 1, 0);  // 1 s, like our client's default
  std::vector<uint16_t> regs(kBlockCount);
  auto reads = [&](int n) -> Status {
    for (int i = 0; i < n; ++i) {
      if (modbus_read_registers(ctx.get(), kBlockAddress, kBlockCount, regs.data()) !=
          kBlockCount) {
        return Unavailable(fmt::format("libmodbus read: {}", modbus_strerror(errno)));
      }
    }
    return Status::Ok();
  };
  if (Status s = reads(warmup); !s.ok()) return Fail(s);
  auto start = steady_clock::now();
  if (Status s = reads(count); !s.ok()) return Fail(s);
  std::chrono::duration<double> took = steady_clock::now() - start;
  return count / took.count();
}

// Best of `runs` for each client. The clients take turns (ours, libmodbus, ours, ...) so that a
// change in background load affects both alike.
Result<Throughput> MeasureThroughput(int warmup, int count, int runs) {
  IoThread sim_thread;
  sim::FleetOptions fleet_options;
  fleet_options.meters = 1;
  fleet_options.host = "127.0.0.1";
  fleet_options.base_port = 0;
  sim::Fleet fleet(sim_thread.io(), fleet_options);
  if (Status s = fleet.Start(); !s.ok()) return Fail(s);
  sim_thread.Start();
  const uint16_t port = fleet.endpoints().front().port;

  Result<Throughput> best = Throughput{};
  for (int run = 0; run < runs; ++run) {
    auto ours = MeasureOurClient(port, warmup, count);
    if (!ours) {
      best = Fail(ours.error());
      break;
    }
    auto theirs = MeasureLibmodbus(port, warmup, count);
    if (!theirs) {
      best = Fail(theirs.error());
      break;
    }
    best->ours_rps = std::max(best->ours_rps, *ours);
    best->libmodbus_rps = std::max(best->libmodbus_rps, *theirs);
  }
  sim_thread.Call([&] { fleet.Stop(); });
  sim_thread.Join();
  return best;
}

// ---------------------------------------------------------------------------------------------
// Experiment 2: many meters at a 1 s cycle.

// Simulated UMG meters built from the same parts as sim::Fleet (MeterPhysics, the UMG register
// map, modbus::TcpServer), one listener each, whose request handler also notes when each
// request arrived. sim::Fleet has no such hook; the per-request work here is the same.
// Thread-safety: like sim::Fleet; arrivals() only after the io_context has stopped.
class TimedFleet {
 public:
  struct Arrival {
    uint32_t meter;
    int64_t unix_us;  // wall-clock time the handler saw the complete request
  };

  TimedFleet(asio::io_context& io, int count) : io_(io), count_(count) {}

  // Binds every listener on 127.0.0.1 with an ephemeral port.
  Status Start() {
    for (int i = 0; i < count_; ++i) {
      auto meter = std::make_unique<Meter>(static_cast<uint64_t>(i + 1));
      Meter* m = meter.get();
      const auto index = static_cast<uint32_t>(i);
      meter->server =
          std::make_unique<modbus::TcpServer>(io_, [this, m, index](uint8_t, std::string_view pdu) {
            arrivals_.push_back({index, UnixMicros(system_clock::now())});
            return sim::AnswerUmgRequest(sim::UmgRegisterImage(m->physics.Advance()), pdu);
          });
      if (Status s = meter->server->Listen("127.0.0.1", 0); !s.ok()) return s;
      meters_.push_back(std::move(meter));
    }
    arrivals_.reserve(static_cast<size_t>(count_) * 64);
    return Status::Ok();
  }

  void Stop() {
    for (auto& m : meters_) m->server->Stop();
  }

  // One [[meter]] entry per simulated meter, polled every second with the bundled profile.
  std::vector<edge::MeterConfig> MeterConfigs() const {
    std::vector<edge::MeterConfig> out;
    for (size_t i = 0; i < meters_.size(); ++i) {
      edge::MeterConfig m;
      m.key = fmt::format("meter-{:04}", i + 1);
      m.host = "127.0.0.1";
      m.port = meters_[i]->server->port();
      m.unit_id = kUnit;
      m.profile = kProfileId;
      m.cycle = milliseconds(1000);
      out.push_back(std::move(m));
    }
    return out;
  }

  const std::vector<Arrival>& arrivals() const { return arrivals_; }

 private:
  struct Meter {
    explicit Meter(uint64_t seed) : physics(seed, RealTime()) {}
    sim::MeterPhysics physics;
    std::unique_ptr<modbus::TcpServer> server;
  };

  asio::io_context& io_;
  int count_;
  std::vector<std::unique_ptr<Meter>> meters_;
  std::vector<Arrival> arrivals_;
};

struct FleetFigures {
  int meters = 0;
  int cycles = 0;
  double poller_cpu_percent = 0;
  double sim_cpu_percent = 0;
  // How late the first request of each poll reached its meter after the poll's slot (the
  // poller staggers the meters: meter i is due at every full second + its slot offset).
  std::vector<double> start_late_ms;  // sorted
  // How late each reading reached the sink after its slot (poll completion).
  std::vector<double> done_late_ms;  // sorted
  double slot_spacing_ms = 0;        // between neighbouring meters' slots
  uint64_t readings = 0;
  uint64_t errors = 0;
};

uint64_t ErrorCount(const edge::Poller& poller) {
  uint64_t n = 0;
  for (const auto& s : poller.Statuses()) n += s.error_count;
  return n;
}

// Polls `meters` simulated meters every second. The measured window spans `cycles` whole
// seconds from W0, `warmup_cycles` seconds after the first slot (connections are opened in the
// warm-up); the readings counted are those of the slots in the window.
Result<FleetFigures> MeasureFleet(const std::filesystem::path& profiles_dir, int meters, int cycles,
                                  int warmup_cycles) {
  profiles::ProfileRegistry registry;
  if (Status s = registry.LoadDirectory(profiles_dir); !s.ok()) return Fail(s);
  if (!registry.Find(kProfileId)) {
    return Fail(FailedPrecondition(
        fmt::format("{} has no {}.xml (see --profiles_dir)", profiles_dir.string(), kProfileId)));
  }

  IoThread sim_thread;
  TimedFleet fleet(sim_thread.io(), meters);
  if (Status s = fleet.Start(); !s.ok()) return Fail(s);

  // The sink runs on the poller thread and only counts: it records when each reading arrived.
  IoThread poll_thread;
  std::vector<std::pair<int64_t, int64_t>> deliveries;  // (scheduled ms, delivered us)
  deliveries.reserve(static_cast<size_t>(meters) * (cycles + warmup_cycles + 4));
  edge::Poller poller(poll_thread.io(), registry, fleet.MeterConfigs(),
                      [&deliveries](wire::MeterReading r) {
                        deliveries.emplace_back(r.ts_ms, UnixMicros(system_clock::now()));
                      });
  if (Status s = poller.Start(); !s.ok()) return Fail(s);

  const int64_t first_slot_s = UnixMicros(system_clock::now()) / 1'000'000 + 1;
  sim_thread.Start();
  poll_thread.Start();

  // The polls are spread over each second (staggered slots), so the window is whole seconds.
  const int64_t w0_s = first_slot_s + warmup_cycles;
  const auto window_start = system_clock::time_point(std::chrono::seconds(w0_s));
  const auto window_end = window_start + std::chrono::seconds(cycles);

  std::this_thread::sleep_until(window_start);
  const auto wall0 = steady_clock::now();
  const microseconds poll_cpu0 = poll_thread.Call(ThreadCpuTime);
  const microseconds sim_cpu0 = sim_thread.Call(ThreadCpuTime);
  const uint64_t errors0 = ErrorCount(poller);

  std::this_thread::sleep_until(window_end);
  const microseconds poll_cpu1 = poll_thread.Call(ThreadCpuTime);
  const microseconds sim_cpu1 = sim_thread.Call(ThreadCpuTime);
  const std::chrono::duration<double> wall = steady_clock::now() - wall0;
  const uint64_t errors1 = ErrorCount(poller);
  // Let the last second's polls finish before stopping (their readings are counted).
  std::this_thread::sleep_until(window_end + milliseconds(500));

  const std::vector<edge::MeterStatus> statuses = poller.Statuses();
  poll_thread.Call([&] { poller.Stop(); });
  poll_thread.Join();
  sim_thread.Call([&] { fleet.Stop(); });
  sim_thread.Join();

  FleetFigures f;
  f.meters = meters;
  f.cycles = cycles;
  auto percent = [&](microseconds cpu) {
    return 100.0 * std::chrono::duration<double>(cpu).count() / wall.count();
  };
  f.poller_cpu_percent = percent(poll_cpu1 - poll_cpu0);
  f.sim_cpu_percent = percent(sim_cpu1 - sim_cpu0);
  f.errors = errors1 - errors0;

  // A poll may take several requests (one per block of the read plan): only the first request a
  // meter receives for a slot is that poll's start. Arrivals are in time order; the slot of an
  // arrival is the latest one at or before it (a poll starts after its slot, never before).
  const int64_t w_end_s = w0_s + cycles;
  std::vector<int64_t> offset_us;  // Statuses() are in configuration order, like the meters
  for (const auto& s : statuses) offset_us.push_back(s.slot_offset_ms * 1000);
  if (meters > 1) f.slot_spacing_ms = static_cast<double>(offset_us[1] - offset_us[0]) / 1000.0;
  std::vector<int64_t> last_slot(static_cast<size_t>(meters), -1);
  for (const auto& a : fleet.arrivals()) {
    const int64_t since_offset = a.unix_us - offset_us[a.meter];
    const int64_t slot_s = since_offset / 1'000'000;
    if (slot_s == last_slot[a.meter]) continue;
    last_slot[a.meter] = slot_s;
    if (slot_s < w0_s || slot_s >= w_end_s) continue;
    f.start_late_ms.push_back(static_cast<double>(since_offset - slot_s * 1'000'000) / 1000.0);
  }
  for (const auto& [scheduled_ms, delivered_us] : deliveries) {
    if (scheduled_ms < w0_s * 1000 || scheduled_ms >= w_end_s * 1000) continue;
    ++f.readings;
    f.done_late_ms.push_back(static_cast<double>(delivered_us - scheduled_ms * 1000) / 1000.0);
  }
  std::sort(f.start_late_ms.begin(), f.start_late_ms.end());
  std::sort(f.done_late_ms.begin(), f.done_late_ms.end());
  return f;
}

// ---------------------------------------------------------------------------------------------
// Report.

void PrintTable(const Throughput& t, int requests, int runs, const FleetFigures& f, double load1) {
  const double ratio = t.ours_rps / t.libmodbus_rps;
  const double p50 = Percentile(f.start_late_ms, 50);
  const double p99 = Percentile(f.start_late_ms, 99);
  const double max = f.start_late_ms.empty() ? 0 : f.start_late_ms.back();
  const uint64_t expected = static_cast<uint64_t>(f.meters) * static_cast<uint64_t>(f.cycles);

  fmt::print("## Wattline poll benchmark\n\n");
  fmt::print(
      "Machine: {} CPUs (nproc), load average {:.2f}, build type {}, GCC {}.{}, "
      "libmodbus {}.{}\n\n",
      sysconf(_SC_NPROCESSORS_ONLN), load1, WATTLINE_BUILD_TYPE, __GNUC__, __GNUC_MINOR__,
      LIBMODBUS_VERSION_STRING, BuildNotes(load1));
  fmt::print("| Measure | Result | Target |\n|---|---|---|\n");
  fmt::print(
      "| Requests/s, one loopback connection, Wattline TcpClient (FC03 x {}, best of {} x "
      "{}) | {:.0f} | |\n",
      kBlockCount, runs, requests, t.ours_rps);
  fmt::print("| Requests/s, same reads, blocking libmodbus client | {:.0f} | |\n", t.libmodbus_rps);
  fmt::print("| Ratio Wattline / libmodbus | {:.2f}x | >= 1.0x ({}) |\n", ratio,
             Verdict(ratio >= 1.0));
  fmt::print(
      "| {} meters at 1 s for {} s: connector CPU (poller thread) | {:.1f} % of one core "
      "| < 25 % ({}) |\n",
      f.meters, f.cycles, f.poller_cpu_percent, Verdict(f.poller_cpu_percent < 25));
  fmt::print(
      "| Poll start lateness at the meter, p50 / p99 / max | {:.2f} / {:.2f} / {:.2f} ms "
      "| p99 < 5 ms ({}) |\n",
      p50, p99, max, Verdict(p99 < 5));
  fmt::print("| Spacing of the meters' slots within the second (staggered) | {:.2f} ms | |\n",
             f.slot_spacing_ms);
  fmt::print(
      "| Reading delivered after its slot, p50 / p99 / max | {:.2f} / {:.2f} / {:.2f} ms "
      "| |\n",
      Percentile(f.done_late_ms, 50), Percentile(f.done_late_ms, 99),
      f.done_late_ms.empty() ? 0 : f.done_late_ms.back());
  fmt::print("| Readings delivered | {:.1f}/s ({} of {}) | {}/s |\n",
             static_cast<double>(f.readings) / f.cycles, f.readings, expected, f.meters);
  fmt::print("| Poll errors | {} | 0 |\n", f.errors);
  fmt::print("| Simulator CPU (its one thread, for context) | {:.1f} % of one core | |\n",
             f.sim_cpu_percent);
}

}  // namespace
}  // namespace wattline::bench

int main(int argc, char** argv) {
  using namespace wattline;
  Options options("wattline-poll-bench",
                  "Benchmarks Modbus TCP polling against the simulator and prints a markdown "
                  "table (see docs/benchmarks.md).");
  options.Add("requests", "20000", "reads per run in the one-connection throughput test");
  options.Add("runs", "3", "runs per client in the throughput test (the best counts)");
  options.Add("meters", "1000", "simulated meters polled every second (1..1000)");
  options.Add("seconds", "30", "poll cycles measured with the meters");
  options.Add("warmup_cycles", "3", "poll cycles before measuring (connections open here)");
  options.Add("profiles_dir", WATTLINE_PROFILES_DIR, "directory of driver profiles");
  options.Add("quick", "false",
              "smoke run of a few seconds: 1,000 requests, 1 run, 50 meters, 2 s, 1 warm-up "
              "cycle (overrides those flags)");
  if (auto exit_code = StartProgram(options, argc, argv, "poll-bench")) {
    return *exit_code;
  }

  auto requests = options.GetInt("requests");
  auto runs = options.GetInt("runs");
  auto meters = options.GetInt("meters");
  auto seconds = options.GetInt("seconds");
  auto warmup = options.GetInt("warmup_cycles");
  auto quick = options.GetBool("quick");
  for (const auto* r : {&requests, &runs, &meters, &seconds, &warmup}) {
    if (!r->has_value()) {
      spdlog::error("{}", r->error().ToString());
      return 2;
    }
  }
  if (!quick) {
    spdlog::error("{}", quick.error().ToString());
    return 2;
  }
  if (*quick) {
    *requests = 1000;
    *runs = 1;
    *meters = std::min<int64_t>(*meters, 50);
    *seconds = 2;
    *warmup = 1;
  }
  if (*requests < 1 || *runs < 1 || *meters < 1 || *meters > 1000 || *seconds < 1 || *warmup < 1) {
    spdlog::error(
        "need --requests, --runs, --seconds, --warmup_cycles >= 1 and --meters in 1..1000");
    return 2;
  }

  double load[1] = {-1};
  if (getloadavg(load, 1) != 1) load[0] = -1;

  bench::RaiseFileLimit();
  if (bench::FileLimit() < static_cast<rlim_t>(*meters) * 3 + 64) {
    spdlog::error("open-files limit {} is too low for {} meters (needs ~{})", bench::FileLimit(),
                  *meters, *meters * 3 + 64);
    return 1;
  }

  spdlog::info("throughput: {} runs of {} reads per client", *runs, *requests);
  auto throughput = bench::MeasureThroughput(static_cast<int>(std::min<int64_t>(*requests, 1000)),
                                             static_cast<int>(*requests), static_cast<int>(*runs));
  if (!throughput) {
    spdlog::error("throughput test failed: {}", throughput.error().ToString());
    return 1;
  }
  spdlog::info("fleet: {} meters, {} warm-up + {} measured cycles", *meters, *warmup, *seconds);
  auto fleet = bench::MeasureFleet(options.Get("profiles_dir"), static_cast<int>(*meters),
                                   static_cast<int>(*seconds), static_cast<int>(*warmup));
  if (!fleet) {
    spdlog::error("fleet test failed: {}", fleet.error().ToString());
    return 1;
  }
  bench::PrintTable(*throughput, static_cast<int>(*requests), static_cast<int>(*runs), *fleet,
                    load[0]);
  return 0;
}
