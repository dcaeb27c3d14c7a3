// WebApi: the connector's own HTTP API (docs/connector-api.md) behind its web UI: login with a
// forced change of the default password, overview, meters (add, edit, remove, ignore), the
// guided initial scan and continuous discovery, drivers (upload, list, delete), settings and
// diagnostics. Handlers are plain functions of
// http::Request so that tests call them without sockets; the program serves them through
// http::HttpsServer (ConnectorWeb below).
//
// The API does not own the poller or the uplink: it reaches them through ConnectorHooks,
// which EdgeApp fills (tests fill them with fakes). Meters from the program's configuration are
// shown read-only; meters added in the UI persist in <data_dir>/meters.toml (web_store.h).
// Thread-safety: not thread-safe; construct, Start and call handlers on the io_context's thread
// (the thread the hooks expect too).
#pragma once

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "edge/poller.h"
#include "edge/web/scan_service.h"
#include "edge/web/web_store.h"
#include "http/message.h"
#include "http/router.h"
#include "http/server.h"
#include "profiles/profile_registry.h"
#include "server/sessions.h"

namespace wattline::edge::web {

// The login of the connector's web UI until the password is changed (documented; the first
// login must change it).
inline constexpr char kAdminUser[] = "admin";
inline constexpr char kDefaultPassword[] = "wattline";
inline constexpr size_t kMinPasswordLength = 10;

struct UplinkInfo {
  std::string server_url;
  std::string last_error;       // empty after a success
  int64_t last_success_ms = 0;  // last acknowledged batch (Unix ms), 0: none yet
  uint64_t batches_sent = 0;
  uint64_t failures = 0;
  uint64_t queue_pending = 0;     // records not yet acknowledged by the server
  uint64_t queue_disk_bytes = 0;  // bytes of queue segment files
  uint64_t queue_evicted = 0;     // records lost to the disk budget, ever
  int64_t oldest_unsent_ms = 0;   // time of the oldest unsent reading, 0: none
};

struct ConnectorHooks {
  // The drivers now loaded (bundled and uploaded). REQUIRED.
  std::function<const profiles::ProfileRegistry&()> registry;
  // Rebuilds the registry from the bundled and uploaded driver folders (LoadDrivers). The old
  // registry must stay alive until the poller that uses it is replaced (apply_meters follows
  // at once). REQUIRED.
  std::function<Status()> reload_drivers;
  // Polls exactly `meters` from now on (configured and UI meters). REQUIRED.
  std::function<Status(const std::vector<MeterConfig>& meters)> apply_meters;
  // Poller diagnostics, one per polled meter. REQUIRED.
  std::function<std::vector<MeterStatus>()> meter_statuses;
  std::function<UplinkInfo()> uplink;  // optional
  // Claim state (phase, claim code, server URL, fingerprint) as JSON; unset: not available.
  std::function<nlohmann::json()> claim;
  // Sets the daily clock synchronization (time of day, UTC; nullopt: off) for the pollers that
  // apply_meters starts from now on; apply_meters follows at once. Optional.
  std::function<void(std::optional<std::chrono::seconds>)> set_clock_sync;
};

struct WebApiConfig {
  std::filesystem::path data_dir;
  std::filesystem::path profiles_dir;  // bundled drivers
  std::string connector_id;
  std::string version;
  std::vector<MeterConfig> config_meters;  // from the config file: polled, read-only here
  // nmcli binary; empty or not executable: the network settings are read-only.
  std::string nmcli = "/usr/bin/nmcli";
  // Meter discovery (ConnectorWeb runs it; scan_service.h).
  ScanConfig scan;
};

// Builds a registry from `profiles_dir` (bundled) and `drivers_dir` (uploaded; created when
// missing). The first bad file's error.
Result<std::unique_ptr<profiles::ProfileRegistry>> LoadDrivers(
    const std::filesystem::path& profiles_dir, const std::filesystem::path& drivers_dir);

class WebApi {
 public:
  WebApi(WebApiConfig config, ConnectorHooks hooks, TimeSource& time = RealTime());

  // Loads the password state, settings and UI meters and applies all meters (hooks). Errors:
  // damaged files (kInvalidArgument / kDataLoss), a UI meter naming an unknown driver
  // (kFailedPrecondition), or the apply hook's error.
  Status Start();

  void Register(http::Router& router);

  // All meters: configured ones, then the UI's.
  std::vector<MeterConfig> AllMeters() const;
  // The meters handed to the poller: AllMeters without UI meters whose driver is not installed
  // (a connector must start even when a driver went missing; those meters show an error).
  std::vector<MeterConfig> PolledMeters() const;
  // True when discovery must not add a meter at `endpoint_id` (EndpointId).
  bool IsIgnored(const std::string& endpoint_id) const;
  const Settings& settings() const { return settings_; }

  // Discovery behind /scan; set before Start (without it /scan says discovery is unavailable).
  // Start begins continuous discovery when the initial scan was finished or skipped before.
  void SetScanService(ScanService* scan) { scan_ = scan; }
  // A device found by continuous discovery: added as a meter when it has a driver, is not
  // ignored and is not polled already (logged either way). Public for tests.
  void OnDiscovered(const discovery::Device& device);

  // Handlers (public for tests).
  http::Response Login(http::Request& req);
  http::Response Logout(http::Request& req);
  http::Response Me(http::Request& req);
  http::Response ChangePassword(http::Request& req);
  http::Response Overview(http::Request& req);
  http::Response ListMeters(http::Request& req);
  http::Response AddMeter(http::Request& req);
  http::Response EditMeter(http::Request& req);
  http::Response RemoveMeters(http::Request& req);
  http::Response Unignore(http::Request& req);
  http::Response ListDrivers(http::Request& req);
  http::Response UploadDriver(http::Request& req);
  http::Response DeleteDriver(http::Request& req);
  http::Response GetSettings(http::Request& req);
  http::Response PutSettings(http::Request& req);
  http::Response PutNetwork(http::Request& req);
  http::Response Diagnostics(http::Request& req);
  http::Response Scan(http::Request& req);
  http::Response StartScan(http::Request& req);
  http::Response FinishScan(http::Request& req);

 private:
  enum class Access { kRead, kWrite, kWriteBeforePasswordChange };
  // The session of `req`, checking CSRF for writes and the forced password change.
  Result<server::Session> Authenticate(const http::Request& req, Access access);
  std::optional<http::Response> Deny(const http::Request& req, Access access);
  Status SaveAndApply(MeterFile next);
  Status ReloadDrivers();  // reload_drivers, then apply_meters
  nlohmann::json MeterJson(const MeterConfig& m, bool read_only,
                           const std::vector<MeterStatus>& statuses) const;
  nlohmann::json NetworkJson() const;
  bool NmcliAvailable() const;
  void StartContinuousDiscovery();
  // The meter a found device becomes (key from driver and serial number or address).
  MeterConfig MeterFromDevice(const discovery::Device& device,
                              const std::vector<MeterConfig>& taken) const;
  // The endpoint ids of every polled meter (configured and UI).
  std::set<std::string> PolledEndpoints() const;
  // "polled" (its endpoint is in `polled`), "ignored", "new" (has a driver) or "no-driver".
  const char* DeviceState(const discovery::Device& device,
                          const std::set<std::string>& polled) const;
  void NoteDiscovery(const std::string& endpoint, const std::string& what);
  void ApplyClockSync();
  std::filesystem::path drivers_dir() const { return config_.data_dir / "drivers"; }

  WebApiConfig config_;
  ConnectorHooks hooks_;
  TimeSource& time_;
  server::SessionStore sessions_;
  std::string password_hash_;
  bool must_change_password_ = true;
  MeterFile ui_;
  Settings settings_;
  ScanService* scan_ = nullptr;
  nlohmann::json discovery_events_ = nlohmann::json::array();  // newest last, at most 20
};

struct WebOptions {
  std::string listen;  // "127.0.0.1:8444"; empty: no web UI
  std::string web_root;
  std::string port_file;  // when set, the bound port is written here (for tests)
};

// The API served over HTTPS with a self-signed certificate in <data_dir>/web-tls (made on the
// first start), plus the UI's static files.
class ConnectorWeb {
 public:
  ConnectorWeb(boost::asio::io_context& io, WebApiConfig config, ConnectorHooks hooks);
  ~ConnectorWeb();

  // Starts the API (WebApi::Start) and listens. kInvalidArgument for a bad address,
  // kUnavailable when it cannot be bound, TLS and file errors.
  Status Start(const WebOptions& options);
  void Stop();
  WebApi& api() { return api_; }

 private:
  boost::asio::io_context& io_;
  std::filesystem::path data_dir_;
  ScanService scan_;
  WebApi api_;
  http::Router router_;
  std::unique_ptr<http::HttpsServer> server_;
};

}  // namespace wattline::edge::web
