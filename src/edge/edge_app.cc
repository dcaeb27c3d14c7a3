#include "edge/edge_app.h"

#include <spdlog/spdlog.h>

#include <algorithm>
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
#include "edge/web/web_api.h"
#include "http/tls.h"
#include "profiles/profile_registry.h"
#include "wire/reading_codec.h"

namespace wattline::edge {
namespace asio = boost::asio;
namespace fs = std::filesystem;

struct EdgeApp::Impl {
  asio::io_context& io;
  // Replaced when drivers are uploaded or deleted in the web UI; the old ones are kept because
  // a stopped poller's coroutines may still point into them until they finish.
  std::unique_ptr<profiles::ProfileRegistry> registry;
  std::vector<std::unique_ptr<profiles::ProfileRegistry>> retired_registries;
  std::unique_ptr<DurableQueue> queue;
  std::unique_ptr<Poller> poller;
  std::unique_ptr<Recorder> recorder;  // between the poller and the queue
  std::vector<MeterConfig> meters;     // what the poller polls
  std::unique_ptr<web::ConnectorWeb> web;
  std::unique_ptr<Uplink> uplink;
  std::unique_ptr<Claimer> claimer;  // only while no token is configured
  std::string name, server_url;
  std::optional<std::chrono::seconds> clock_sync = std::chrono::minutes(5);
  asio::steady_timer sync_timer;
  std::chrono::milliseconds sync_interval{200};
  bool stopped = false;
  bool queue_failed = false;
  uint64_t readings = 0;

  explicit Impl(asio::io_context& io) : io(io), sync_timer(io) {}

  // Polls `next` from now on: a stopped poller is replaced by a new one (its counters restart).
  Status RestartPoller(std::vector<MeterConfig> next) {
    if (poller) poller->Stop();
    // Meters no longer polled store their open cycles now; the others go on where they were.
    for (const auto& m : meters) {
      if (std::none_of(next.begin(), next.end(),
                       [&](const MeterConfig& n) { return n.key == m.key; })) {
        recorder->FlushMeter(m.key);
      }
    }
    PollerOptions options;
    options.clock_sync_time = clock_sync;
    poller = std::make_unique<Poller>(
        io, *registry, next, [this](wire::MeterReading r) { recorder->Add(std::move(r)); },
        options);
    meters = std::move(next);
    return poller->Start();
  }

  Status ReloadDrivers(const std::string& profiles_dir, const std::string& data_dir) {
    auto next = web::LoadDrivers(profiles_dir, fs::path(data_dir) / "drivers");
    if (!next) return next.error();
    // The running poller points into the old registry until the web UI restarts it.
    retired_registries.push_back(std::move(registry));
    registry = std::move(*next);
    return Status::Ok();
  }

  web::UplinkInfo UplinkInfo() const {
    web::UplinkInfo info;
    info.server_url = server_url;
    if (uplink) {
      UplinkStatus u = uplink->status();
      info.last_error = u.last_error;
      info.last_success_ms = u.last_success_ms;
      info.batches_sent = u.batches_sent;
      info.failures = u.failures;
    }
    if (queue) {
      DurableQueue::Stats st = queue->stats();
      info.queue_pending = st.pending_records;
      info.queue_disk_bytes = st.disk_bytes;
      info.queue_evicted = st.evicted_records;
      // The oldest unsent reading's time.
      if (auto oldest = queue->PeekDurable(queue->acked_seq()); oldest && *oldest) {
        if (auto r = wire::DecodeReading((*oldest)->payload)) info.oldest_unsent_ms = r->ts_ms;
      }
    }
    return info;
  }

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
  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  if (ec)
    return FailedPrecondition("cannot create data folder " + config.data_dir + ": " + ec.message());
  // Bundled drivers and the ones uploaded in the web UI (<data_dir>/drivers).
  auto registry = web::LoadDrivers(config.profiles_dir, fs::path(config.data_dir) / "drivers");
  if (!registry) return registry.error();
  d.registry = std::move(*registry);
  QueueOptions qopts;
  qopts.dir = (fs::path(config.data_dir) / "queue").string();
  qopts.segment_bytes = config.queue_segment_bytes;
  qopts.max_bytes = config.queue_max_bytes;
  auto queue = DurableQueue::Open(PosixEnv(), qopts);
  if (!queue) return queue.error();
  d.queue = std::move(*queue);
  spdlog::info("queue: {} records waiting for the server (acked up to {})",
               d.queue->last_seq() - d.queue->acked_seq(), d.queue->acked_seq());
  auto recorder =
      Recorder::Create(config.recording, [&d](wire::MeterReading r) { d.Store(std::move(r)); });
  if (!recorder) return recorder.error();
  d.recorder = std::move(*recorder);
  if (!config.recording.empty()) {
    spdlog::info("recording: {} rules (docs/modbus.md, \"Recording per signal\")",
                 config.recording.size());
  }

  // Without a token the connector claims itself (edge/claiming.h); without a URL it only
  // polls and queues until one is configured.
  const bool claiming = config.token.empty() && !config.server_url.empty();
  d.name = config.name;
  d.server_url = config.server_url;
  Result<std::pair<std::string, uint16_t>> hp = std::make_pair(std::string(), uint16_t{0});
  std::shared_ptr<asio::ssl::context> tls;
  if (!config.server_url.empty()) {
    hp = ParseHttpsUrl(config.server_url);
    if (!hp) return hp.error();
  }
  if (!config.token.empty()) {
    if (config.server_cert.empty()) {
      return FailedPrecondition(
          "uplink.server_cert is not set: the connector pins the server's certificate");
    }
    auto pinned = http::MakePinnedClientContext(config.server_cert);
    if (!pinned) return pinned.error();
    tls = *pinned;
  }

  if (config.web_listen.empty()) {
    if (Status s = d.RestartPoller(config.meters); !s.ok()) return s;
  } else {
    // The web UI adds its own meters (<data_dir>/meters.toml) and starts the poller.
    web::WebApiConfig wc;
    wc.data_dir = config.data_dir;
    wc.profiles_dir = config.profiles_dir;
    wc.connector_id = config.name;
    wc.version = WATTLINE_VERSION;
    wc.config_meters = config.meters;
    wc.scan = config.scan;
    web::ConnectorHooks hooks;
    hooks.registry = [&d]() -> const profiles::ProfileRegistry& { return *d.registry; };
    hooks.reload_drivers = [&d, config] {
      return d.ReloadDrivers(config.profiles_dir, config.data_dir);
    };
    hooks.apply_meters = [&d](const std::vector<MeterConfig>& m) { return d.RestartPoller(m); };
    hooks.meter_statuses = [&d] {
      return d.poller ? d.poller->Statuses() : std::vector<MeterStatus>{};
    };
    hooks.uplink = [&d] { return d.UplinkInfo(); };
    hooks.set_clock_sync = [&d](std::optional<std::chrono::seconds> at) { d.clock_sync = at; };
    hooks.claim = [this] {
      ClaimState c = claim_state();
      return nlohmann::json{{"available", true},
                            {"phase", std::string(ClaimPhaseName(c.phase))},
                            {"claim_code", c.claim_code},
                            {"server_url", c.server_url},
                            {"fingerprint", c.server_fingerprint},
                            {"connector_name", c.connector_name},
                            {"last_error", c.last_error},
                            {"expires_ms", c.expires_ms}};
    };
    d.web = std::make_unique<web::ConnectorWeb>(d.io, wc, hooks);
    web::WebOptions wo{config.web_listen, config.web_root, config.web_port_file};
    if (Status s = d.web->Start(wo); !s.ok()) return s;
  }
  d.sync_interval = config.sync_interval;
  asio::co_spawn(d.io, d.SyncLoop(), asio::detached);

  UplinkConfig up;
  up.connector_id = config.name;
  up.host = hp->first;
  up.port = hp->second;
  up.token = config.token;
  if (claiming) {
    ClaimerConfig cc;
    cc.data_dir = config.data_dir;
    cc.name = config.name;
    cc.version = WATTLINE_VERSION;
    cc.server_cert = config.server_cert;
    d.claimer = std::make_unique<Claimer>(d.io, cc, [&d, up](const ConnectorIdentity& id) mutable {
      if (d.stopped) return;
      auto pinned = http::MakeFingerprintPinnedClientContext(id.server_fingerprint);
      if (!pinned) {
        spdlog::critical("claiming: {}", pinned.error().ToString());
        return;
      }
      up.connector_id = id.name;
      up.token = id.token;
      d.uplink = std::make_unique<Uplink>(d.io, *d.queue, up, *pinned);
      d.uplink->Start();
      spdlog::info("connector '{}': sending to {}:{}", id.name, up.host, up.port);
    });
    if (Status s = d.claimer->Start(config.server_url); !s.ok()) return s;
  } else if (tls) {
    d.uplink = std::make_unique<Uplink>(d.io, *d.queue, up, tls);
    d.uplink->Start();
  }
  spdlog::info("connector '{}': polling {} meters, sending to {}", config.name, d.meters.size(),
               config.server_url.empty() ? "nobody (no uplink.url)" : config.server_url);
  return Status::Ok();
}

void EdgeApp::Stop() {
  Impl& d = *impl_;
  if (d.stopped) return;
  d.stopped = true;
  if (d.web) d.web->Stop();
  if (d.poller) d.poller->Stop();
  // The open cycles go into the queue before its final sync: a clean stop loses nothing.
  if (d.recorder && d.queue) d.recorder->Flush();
  d.sync_timer.cancel();
  if (d.claimer) d.claimer->Stop();
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

ClaimState EdgeApp::claim_state() const {
  if (impl_->claimer) return impl_->claimer->state();
  ClaimState s;
  s.server_url = impl_->server_url;
  if (impl_->uplink) {
    s.phase = ClaimPhase::kClaimed;  // configured with uplink.token
    s.connector_name = impl_->name;
  }
  return s;
}

int RunEdgeMain(int argc, char** argv) {
  // `wattline-edge discover [options]` has options of its own (discovery/discover_cli.h).
  if (argc >= 2 && std::string_view(argv[1]) == "discover") {
    return discovery::RunDiscoverCommand(argc - 1, argv + 1);
  }
  Options options("wattline-edge",
                  "The Wattline connector: polls Modbus meters, stores every reading durably and "
                  "sends it to the server over HTTPS.\nMeters are [[meter]] tables in the config "
                  "file or in --meters_file (key, host, port, unit_id, profile, cycle_ms); "
                  "[[recording]] tables in the config file say what is stored of each signal "
                  "(cycle_ms, aggregate, dead_band; docs/modbus.md).");
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
  options.Add("uplink.server_cert", "",
              "the server's TLS certificate (PEM), pinned; without it the first certificate the "
              "server presents is pinned (trust on first use, only when claiming)");
  options.Add("uplink.token", "",
              "this connector's credential on the server; without it the connector shows a claim "
              "code and waits to be claimed on the server (identity in data_dir/identity.json)");
  options.Add("web.listen", "",
              "HTTPS address of the connector's web UI, e.g. 127.0.0.1:8444; empty = off "
              "(docs/connector-api.md)");
  options.Add("web.root", "web/dist-connector", "static files of the connector's web UI");
  options.Add("web.port_file", "", "write the web UI's bound port to this file");
  options.Add("discovery.enabled", "true",
              "find meters (web UI: initial scan, then continuous discovery; docs/discovery.md)");
  options.Add("discovery.scan", "",
              "what the active scan covers: subnets (CIDR, /22 or smaller) and ranges "
              "(10.0.0.1-10.0.0.40), comma list; empty = the local subnets");
  discovery::AddDiscoveryFlags(options, "discovery.", 45);
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
  config.web_listen = options.Get("web.listen");
  config.web_root = options.Get("web.root");
  config.web_port_file = options.Get("web.port_file");
  auto discovery_on = options.GetBool("discovery.enabled");
  auto discovery = discovery::ReadDiscoveryFlags(options, "discovery.",
                                                 SplitCommaList(options.Get("discovery.scan")));
  if (!discovery_on || !discovery) {
    spdlog::critical("{}", (!discovery_on ? discovery_on.error() : discovery.error()).message());
    return 2;
  }
  config.scan.enabled = *discovery_on;
  config.scan.discoverer = discovery->discoverer;
  config.scan.continuous = discovery->continuous;
  auto meters = MeterConfigsFromToml(options.toml());
  if (!meters) {
    spdlog::critical("config: {}", meters.error().message());
    return 2;
  }
  config.meters = *meters;
  auto recording = RecordingRulesFromToml(options.toml());
  if (!recording) {
    spdlog::critical("config: {}", recording.error().message());
    return 2;
  }
  config.recording = std::move(*recording);
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
