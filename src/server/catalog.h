// Catalog: the server's configuration data model in SQLite: tenants, sites, connectors,
// devices (meters) and signals, each with a stable integer id. Every lookup that serves a user
// takes the caller's tenant id and never returns another tenant's rows.
// Thread-safety: not thread-safe; the server uses it from its single I/O thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/sample.h"
#include "historian/sqlite_db.h"

namespace wattline::server {

struct Connector {
  int64_t id = 0;
  int64_t tenant_id = 0;
  int64_t site_id = 0;
  std::string name;
  uint64_t acked_seq = 0;
};

// A connector as the API lists it (GET /api/v1/connectors).
struct ConnectorInfo {
  int64_t id = 0;
  std::string name;
  int64_t site_id = 0;
  std::string site_name;
  std::string uuid;           // empty for connectors from the config file
  int64_t claimed_at_ms = 0;  // 0 for connectors from the config file
  int64_t last_seen_ms = 0;   // 0 before its first batch
  uint64_t acked_seq = 0;
};

struct SiteInfo {
  int64_t id = 0;
  std::string name;
};

struct SignalInfo {
  int64_t id = 0;
  int64_t device_id = 0;
  std::string name;
  std::string unit;
  SignalKind kind = SignalKind::kInstant;
};

struct DeviceInfo {
  int64_t id = 0;
  std::string name;
  std::string model;
  int64_t site_id = 0;
  std::string site_name;
  std::string connector;
  int64_t last_seen_ms = 0;
  std::vector<SignalInfo> signals;
};

// A manual meter's device and its energy counter (kWh), see CreateManualDevice.
struct ManualDevice {
  int64_t device_id = 0;
  int64_t signal_id = 0;
};
inline constexpr char kManualEnergySignal[] = "active_energy_import";

class Catalog {
 public:
  // Opens (creating and migrating) the configuration database at `path`.
  static Result<std::unique_ptr<Catalog>> Open(const std::string& path);

  // Tenants and sites: returns the id of the named row, creating it when missing.
  Result<int64_t> EnsureTenant(const std::string& name);
  Result<int64_t> EnsureSite(int64_t tenant_id, const std::string& name);

  // Users live in server/accounts.h; this counts them for the first start.
  Result<int64_t> UserCount();

  // Creates or updates a connector credential (only the token's hash is stored).
  Status UpsertConnector(int64_t tenant_id, int64_t site_id, const std::string& name,
                         const std::string& token_hash);
  // Adds a claimed connector; kAlreadyExists when the name is taken (never overwrites).
  Result<int64_t> CreateConnector(int64_t tenant_id, int64_t site_id, const std::string& name,
                                  const std::string& token_hash, const std::string& uuid,
                                  int64_t claimed_at_ms);
  // Replaces a connector's credential; kNotFound when there is no such connector.
  Status SetConnectorTokenHash(int64_t connector_id, const std::string& token_hash);
  // The tenant's connectors, by name.
  Result<std::vector<ConnectorInfo>> ListConnectors(int64_t tenant_id);
  // The tenant's site `site_id`, or its first site when nullopt; kNotFound when the site does
  // not exist or belongs to another tenant.
  Result<SiteInfo> FindSite(int64_t tenant_id, std::optional<int64_t> site_id);
  // kUnauthenticated when no connector has this token hash.
  Result<Connector> FindConnectorByTokenHash(const std::string& token_hash);
  Status SetConnectorAck(int64_t connector_id, uint64_t acked_seq, int64_t seen_ms);

  // Device and signal ids for ingest, created on first sight and cached.
  Result<int64_t> ResolveDevice(const Connector& c, const std::string& key,
                                const std::string& model, int64_t seen_ms);
  Result<int64_t> ResolveSignal(int64_t tenant_id, int64_t device_id, const std::string& name,
                                const std::string& unit, SignalKind kind);

  // Tenant-scoped reads for the API.
  Result<std::vector<DeviceInfo>> ListDevices(int64_t tenant_id);
  Result<std::vector<SignalInfo>> ListSignals(int64_t tenant_id, std::optional<int64_t> device_id);
  // kNotFound when the signal does not exist or belongs to another tenant.
  Result<SignalInfo> GetSignal(int64_t tenant_id, int64_t signal_id);

  // kNotFound when the device does not exist or belongs to another tenant.
  Status CheckDevice(int64_t tenant_id, int64_t device_id);
  // A device `key` with one counter signal kManualEnergySignal in kWh, owned by the tenant's
  // hidden connector for manual meters (created on first use, never listed or authenticated;
  // the tenant's first site, or a new site "Site" when it has none).
  Result<ManualDevice> CreateManualDevice(int64_t tenant_id, const std::string& key,
                                          int64_t now_ms);

  // The database, for stores of further tables in config.db (server/claims.h).
  historian::SqliteDb& db() { return *db_; }

 private:
  explicit Catalog(std::unique_ptr<historian::SqliteDb> db) : db_(std::move(db)) {}
  Status Migrate();

  std::unique_ptr<historian::SqliteDb> db_;
  std::map<std::pair<int64_t, std::string>, int64_t> device_cache_;
  std::map<std::pair<int64_t, std::string>, int64_t> signal_cache_;
  std::map<int64_t, int64_t> device_seen_written_;  // device id -> last_seen_ms written
};

}  // namespace wattline::server
