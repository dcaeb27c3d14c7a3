#include "edge/edge_app.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <iostream>

#include "core/env.h"
#include "core/flags.h"
#include "core/program.h"
#include "core/run_until_signal.h"
#include "discovery/discover_cli.h"
#include "http/tls.h"
#include "profiles/profile_registry.h"
#include "wire/reading_codec.h"

namespace wattline::edge {
namespace asio = boost::asio;
namespace fs = std::filesystem;

struct EdgeApp::Impl {
  asio::io_context& io;
  profiles::ProfileRegistry registry;
  std::unique_ptr<DurableQueue> queue;
  std::unique_ptr<Poller> poller;
  std::unique_ptr<Uplink> uplink;
  asio::steady_timer sync_timer;
  std::chrono::milliseconds sync_interval{200};
  bool stopped = false;
  bool queue_failed = false;
  uint64_t readings = 0;

  explicit Impl(asio::io_context& io) : io(io), sync_timer(io) {}

  void Store(wire::MeterReading reading) {
    if (queue_failed) return;
    auto seq = queue->Append(wire::EncodeReading(reading));
    if (!seq) {
      // The queue refuses further writes after a storage failure; say so once, loudly.
      spdlog::critical("queue: cannot store readings any more: {} (data is being lost)",
                       seq.error().ToString());
      queue_failed = true;
      return;
    }
    ++readings;
  }

  asio::awaitable<void> SyncLoop() {
    while (!stopped) {
      sync_timer.expires_after(sync_interval);
      boost::system::error_code ec;
      co_await sync_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (queue->last_seq() != queue->durable_seq()) {
        if (Status s = queue->Sync(); !s.ok() && !queue_failed) {
          spdlog::critical("queue: sync failed: {} (data is being lost)", s.ToString());
          queue_failed = true;
        }
      }
    }
  }
};

EdgeApp::EdgeApp(asio::io_context& io) : impl_(std::make_unique<Impl>(io)) {}
EdgeApp::~EdgeApp() { Stop(); }

Status EdgeApp::Start(const EdgeConfig& config) {
  Impl& d = *impl_;
  if (Status s = d.registry.LoadDirectory(config.profiles_dir); !s.ok()) return s;
  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  if (ec)
    return FailedPrecondition("cannot create data folder " + config.data_dir + ": " + ec.message());
  QueueOptions qopts;
  qopts.dir = (fs::path(config.data_dir) / "queue").string();
  qopts.segment_bytes = config.queue_segment_bytes;
  qopts.max_bytes = config.queue_max_bytes;
  auto queue = DurableQueue::Open(PosixEnv(), qopts);
  if (!queue) return queue.error();
  d.queue = std::move(*queue);
  spdlog::info("queue: {} records waiting for the server (acked up to {})",
               d.queue->last_seq() - d.queue->acked_seq(), d.queue->acked_seq());

  auto hp = ParseHttpsUrl(config.server_url);
  if (!hp) return hp.error();
  if (config.server_cert.empty()) {
    return FailedPrecondition(
        "uplink.server_cert is not set: the connector pins the server's certificate");
  }
  auto tls = http::MakePinnedClientContext(config.server_cert);
  if (!tls) return tls.error();
  if (config.token.empty()) return FailedPrecondition("uplink.token is not set");

  d.poller = std::make_unique<Poller>(d.io, d.registry, config.meters,
                                      [&d](wire::MeterReading r) { d.Store(std::move(r)); });
  if (Status s = d.poller->Start(); !s.ok()) return s;
  d.sync_interval = config.sync_interval;
  asio::co_spawn(d.io, d.SyncLoop(), asio::detached);

  UplinkConfig up;
  up.connector_id = config.name;
  up.host = hp->first;
  up.port = hp->second;
  up.token = config.token;
  d.uplink = std::make_unique<Uplink>(d.io, *d.queue, up, *tls);
  d.uplink->Start();
  spdlog::info("connector '{}': polling {} meters, sending to {}", config.name,
               config.meters.size(), config.server_url);
  return Status::Ok();
}

void EdgeApp::Stop() {
  Impl& d = *impl_;
  if (d.stopped) return;
  d.stopped = true;
  if (d.poller) d.poller->Stop();
  d.sync_timer.cancel();
  if (d.uplink) d.uplink->Stop();
  if (d.queue && !d.queue_failed) {
    if (Status s = d.queue->Sync(); !s.ok()) {
      spdlog::error("queue: final sync failed: {}", s.ToString());
    } else {
      spdlog::info("queue flushed: {} records stored, {} not yet acknowledged by the server",
                   d.queue->last_seq(), d.queue->last_seq() - d.queue->acked_seq());
    }
  }
}

std::vector<MeterStatus> EdgeApp::meter_statuses() const {
  return impl_->poller ? impl_->poller->Statuses() : std::vector<MeterStatus>{};
}

UplinkStatus EdgeApp::uplink_status() const {
  return impl_->uplink ? impl_->uplink->status() : UplinkStatus{};
}

int RunEdgeMain(int argc, char** argv) {
  // `wattline-edge discover [options]` has options of its own (discovery/discover_cli.h).
  if (argc >= 2 && std::string_view(argv[1]) == "discover") {
    return discovery::RunDiscoverCommand(argc - 1, argv + 1);
  }
  Options options("wattline-edge",
                  "The Wattline connector: polls Modbus meters, stores every reading durably and "
                  "sends it to the server over HTTPS.\nMeters are [[meter]] tables in the config "
                  "file or in --meters_file (key, host, port, unit_id, profile, cycle_ms).");
  options.Add("name", "edge-1", "this connector's id on the server");
  options.Add("data_dir", "edge-data", "folder for the store-and-forward queue");
  options.Add("profiles_dir", "profiles", "folder of driver profiles (*.xml)");
  options.Add("sync_interval_ms", "200", "group commit: fsync the queue at most this often");
  options.Add("queue_max_bytes", "1073741824",
              "disk budget of the queue; when full the oldest records are deleted (logged as data "
              "loss); 0 = no limit; at least 2 * queue_segment_bytes");
  options.Add("queue_segment_bytes", "4194304", "size of one queue segment file");
  options.Add("meters_file", "", "TOML file with [[meter]] tables (as written by wattline-sim)");
  options.Add("uplink.url", "https://127.0.0.1:8443", "the server's base URL (https only)");
  options.Add("uplink.server_cert", "", "the server's TLS certificate (PEM), pinned");
  options.Add("uplink.token", "", "this connector's credential on the server");
  std::vector<std::string> positional;
  if (auto exit_code = StartProgram(options, argc, argv, "edge", &positional)) return *exit_code;
  if (!positional.empty()) {
    // `wattline-edge profile check FILE...`: validate driver files, print every error.
    if (positional.size() < 3 || positional[0] != "profile" || positional[1] != "check") {
      std::cerr << "usage: wattline-edge [options] | wattline-edge profile check FILE... | "
                   "wattline-edge discover [options]\n";
      return 2;
    }
    bool all_valid = true;
    for (size_t i = 2; i < positional.size(); ++i) {
      auto errors = profiles::ValidateProfileFile(positional[i]);
      if (errors.empty()) std::cout << positional[i] << ": ok\n";
      for (const auto& e : errors) std::cout << e << "\n";
      all_valid = all_valid && errors.empty();
    }
    return all_valid ? 0 : 1;
  }
  EdgeConfig config;
  config.name = options.Get("name");
  config.data_dir = options.Get("data_dir");
  config.profiles_dir = options.Get("profiles_dir");
  auto sync = options.GetInt("sync_interval_ms");
  if (!sync || *sync < 1 || *sync > 60000) {
    spdlog::critical("sync_interval_ms must be between 1 and 60000");
    return 2;
  }
  config.sync_interval = std::chrono::milliseconds(*sync);
  auto max_bytes = options.GetInt("queue_max_bytes");
  auto segment_bytes = options.GetInt("queue_segment_bytes");
  if (!max_bytes || *max_bytes < 0 || !segment_bytes || *segment_bytes < 1024) {
    spdlog::critical("queue_max_bytes must be >= 0 and queue_segment_bytes >= 1024");
    return 2;
  }
  config.queue_max_bytes = static_cast<uint64_t>(*max_bytes);
  config.queue_segment_bytes = static_cast<uint64_t>(*segment_bytes);
  config.server_url = options.Get("uplink.url");
  config.server_cert = options.Get("uplink.server_cert");
  config.token = options.Get("uplink.token");
  auto meters = MeterConfigsFromToml(options.toml());
  if (!meters) {
    spdlog::critical("config: {}", meters.error().message());
    return 2;
  }
  config.meters = *meters;
  if (!options.Get("meters_file").empty()) {
    toml::table extra;
    try {
      extra = toml::parse_file(options.Get("meters_file"));
    } catch (const toml::parse_error& e) {
      spdlog::critical("meters file {} line {}: {}", options.Get("meters_file"),
                       e.source().begin.line, e.description());
      return 2;
    }
    auto more = MeterConfigsFromToml(extra);
    if (!more) {
      spdlog::critical("meters file {}: {}", options.Get("meters_file"), more.error().message());
      return 2;
    }
    config.meters.insert(config.meters.end(), more->begin(), more->end());
  }

  asio::io_context io(1);
  EdgeApp app(io);
  if (Status s = app.Start(config); !s.ok()) {
    spdlog::critical("cannot start: {}", s.ToString());
    return 1;
  }
  RunUntilSignal(io, [&] { app.Stop(); });
  return 0;
}

}  // namespace wattline::edge
