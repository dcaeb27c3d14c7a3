// ScanService: the connector's meter discovery as its web UI uses it (docs/connector-api.md).
//
//  - A scan on request: the guided initial scan at first start, or "scan now" later. It sends a
//    discovery query (discovery/discoverer.h), then runs the rate-limited active scan, with
//    progress. The result is a list of found devices; the user picks which become meters.
//  - Continuous discovery, once the initial scan is finished or skipped: queries and scans on
//    intervals. Each device that appears is handed to a callback (WebApi adds it as a meter
//    unless it is ignored or polled already). Endpoints the connector polls already are not
//    probed: many meters accept only one or two TCP connections.
//
// Thread-safety: not thread-safe; use on the io_context's thread. The registry that
// `registry()` returns must stay alive until the io_context stops (EdgeApp keeps replaced
// registries alive for the same reason).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "discovery/discoverer.h"
#include "profiles/profile_registry.h"

namespace wattline::edge::web {

struct ScanConfig {
  bool enabled = true;  // false: no scans and no continuous discovery
  discovery::DiscovererOptions discoverer;
  discovery::ContinuousOptions continuous;
};

enum class ScanPhase { kIdle, kQuerying, kScanning, kDone };
// "idle", "querying", "scanning", "done".
const char* ScanPhaseName(ScanPhase phase);

struct ScanProgress {
  ScanPhase phase = ScanPhase::kIdle;
  size_t done = 0;   // host:port probes done
  size_t total = 0;  // host:port probes in all (known once the active scan starts)
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  std::vector<discovery::Device> found;  // merged answers and scan results
  std::string error;                     // when the last scan failed
};

class ScanService {
 public:
  using RegistryFn = std::function<const profiles::ProfileRegistry&()>;
  using NewDeviceFn = std::function<void(const discovery::Device& device)>;
  // Endpoints already polled (host, port): continuous discovery leaves them alone.
  using PolledFn = std::function<bool(const std::string& host, uint16_t port)>;

  ScanService(boost::asio::any_io_executor executor, RegistryFn registry, ScanConfig config);
  ~ScanService();
  ScanService(const ScanService&) = delete;
  ScanService& operator=(const ScanService&) = delete;

  // Starts a scan in the background. kFailedPrecondition while one runs, kUnavailable when
  // discovery is switched off.
  Status StartScan();
  const ScanProgress& progress() const { return progress_; }

  // Starts continuous discovery, or restarts it with the current registry (after new drivers).
  // No-op when discovery is off.
  void StartContinuous(NewDeviceFn on_new, PolledFn polled);
  bool continuous_running() const { return continuous_ != nullptr; }
  // Restarts continuous discovery (if running) so that it identifies with the current drivers.
  void DriversChanged();

  // Stops scans and continuous discovery; no callback runs afterwards.
  void Stop();

  // What a scan covers, for people: "127.0.1.1-127.0.1.20 port 502", "local subnets port 502".
  std::vector<std::string> Describe() const;
  const ScanConfig& config() const { return config_; }

 private:
  struct Run;
  boost::asio::awaitable<void> Body(std::shared_ptr<Run> run);
  void FinishScan(const std::shared_ptr<Run>& run, std::exception_ptr error);

  boost::asio::any_io_executor executor_;
  RegistryFn registry_;
  ScanConfig config_;
  ScanProgress progress_;
  std::shared_ptr<Run> run_;  // the scan in progress, if any
  NewDeviceFn on_new_;
  PolledFn polled_;
  // Discoverers stay alive after their discovery loop stopped: a round in progress still
  // finishes its network I/O through them.
  std::vector<std::unique_ptr<discovery::Discoverer>> discoverers_;
  std::unique_ptr<discovery::ContinuousDiscovery> continuous_;
};

}  // namespace wattline::edge::web
