#include "edge/web/scan_service.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/time.h"

namespace wattline::edge::web {
namespace asio = boost::asio;
using discovery::Device;

const char* ScanPhaseName(ScanPhase phase) {
  switch (phase) {
    case ScanPhase::kQuerying:
      return "querying";
    case ScanPhase::kScanning:
      return "scanning";
    case ScanPhase::kDone:
      return "done";
    default:
      return "idle";
  }
}

// One scan: its discoverer and a flag that Stop sets, so that the coroutine stops touching the
// service.
struct ScanService::Run {
  std::unique_ptr<discovery::Discoverer> discoverer;
  bool stopped = false;
};

ScanService::ScanService(asio::any_io_executor executor, RegistryFn registry, ScanConfig config)
    : executor_(std::move(executor)), registry_(std::move(registry)), config_(std::move(config)) {}

ScanService::~ScanService() { Stop(); }

Status ScanService::StartScan() {
  if (!config_.enabled) return Unavailable("discovery is switched off (discovery.enabled)");
  if (run_) return FailedPrecondition("a scan is running already");
  auto run = std::make_shared<Run>();
  run->discoverer =
      std::make_unique<discovery::Discoverer>(executor_, registry_(), config_.discoverer);
  run_ = run;
  progress_ = ScanProgress{};
  progress_.phase = ScanPhase::kQuerying;
  progress_.started_ms = ToUnixMs(RealTime().SystemNow());
  spdlog::info("discovery: scan started ({})", fmt::join(Describe(), ", "));
  asio::co_spawn(executor_, Body(run),
                 [this, run](std::exception_ptr e) { FinishScan(run, std::move(e)); });
  return Status::Ok();
}

// Parameters, not lambda captures: a coroutine lambda's captures die with the lambda object.
asio::awaitable<void> ScanService::Body(std::shared_ptr<Run> run) {
  discovery::Discoverer& d = *run->discoverer;
  std::vector<Device> answers = co_await d.Broadcast();
  if (run->stopped) co_return;
  progress_.found = std::move(answers);
  progress_.phase = ScanPhase::kScanning;
  progress_.total = 0;
  for (const auto& r : d.ScanRanges()) progress_.total += r.size() * d.options().ports.size();
  discovery::ProgressFn on_progress = [this, run](size_t done, size_t total) {
    if (run->stopped) return;
    progress_.done = done;
    progress_.total = total;
  };
  std::vector<Device> scanned = co_await d.Scan(on_progress);
  if (run->stopped) co_return;
  discovery::MergeDevices(progress_.found, scanned);
}

void ScanService::FinishScan(const std::shared_ptr<Run>& run, std::exception_ptr error) {
  if (run->stopped) return;
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      progress_.error = e.what();
    }
    spdlog::error("discovery: scan failed: {}", progress_.error);
  }
  progress_.phase = ScanPhase::kDone;
  progress_.finished_ms = ToUnixMs(RealTime().SystemNow());
  size_t known = 0;
  for (const auto& d : progress_.found) known += !d.profile.empty();
  spdlog::info("discovery: scan done: {} devices, {} with a driver", progress_.found.size(), known);
  run_.reset();
}

void ScanService::StartContinuous(NewDeviceFn on_new, PolledFn polled) {
  if (!config_.enabled) return;
  on_new_ = std::move(on_new);
  polled_ = std::move(polled);
  if (continuous_) continuous_->Stop();
  continuous_.reset();
  discovery::DiscovererOptions options = config_.discoverer;
  options.skip = polled_;
  discoverers_.push_back(
      std::make_unique<discovery::Discoverer>(executor_, registry_(), std::move(options)));
  continuous_ = std::make_unique<discovery::ContinuousDiscovery>(
      *discoverers_.back(), config_.continuous, [this](const Device& device, bool appeared) {
        if (appeared && on_new_) on_new_(device);
      });
  continuous_->Start();
  spdlog::info("discovery: continuous discovery on (query every {} s, scan every {} s)",
               config_.continuous.broadcast_interval.count() / 1000,
               config_.continuous.scan_interval.count() / 1000);
}

void ScanService::DriversChanged() {
  if (continuous_) StartContinuous(on_new_, polled_);
}

void ScanService::Stop() {
  if (run_) {
    run_->stopped = true;
    run_.reset();
  }
  if (continuous_) continuous_->Stop();
  // continuous_ stays: its destructor runs with the service, after the io_context stopped.
}

std::vector<std::string> ScanService::Describe() const {
  std::vector<std::string> out;
  std::string ports;
  for (uint16_t p : config_.discoverer.ports) {
    ports += (ports.empty() ? "" : ",") + std::to_string(p);
  }
  const char* port_word = config_.discoverer.ports.size() == 1 ? "port" : "ports";
  if (config_.discoverer.scan_ranges.empty()) {
    out.push_back(fmt::format("the local subnets (up to /22), {} {}", port_word, ports));
  }
  for (const auto& r : config_.discoverer.scan_ranges) {
    out.push_back(fmt::format("{}-{} {} {}", discovery::FormatIpv4(r.first),
                              discovery::FormatIpv4(r.last), port_word, ports));
  }
  if (config_.discoverer.broadcast_interfaces || !config_.discoverer.query_targets.empty()) {
    out.push_back(fmt::format("discovery query on UDP {}", config_.discoverer.discovery_port));
  }
  return out;
}

}  // namespace wattline::edge::web
