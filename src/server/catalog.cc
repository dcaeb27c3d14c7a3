#include "server/catalog.h"

namespace wattline::server {
using historian::SqliteDb;
using historian::Statement;

namespace {
// Numbered migrations; each runs once, in order, inside a transaction. Append only.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE tenants (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE sites (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL, UNIQUE (tenant_id, name));
CREATE TABLE users (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),
  username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, role TEXT NOT NULL);
CREATE TABLE connectors (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),
  site_id INTEGER NOT NULL REFERENCES sites(id), name TEXT NOT NULL UNIQUE,
  token_hash TEXT NOT NULL UNIQUE, acked_seq INTEGER NOT NULL DEFAULT 0, last_seen_ms INTEGER);
CREATE TABLE devices (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),
  site_id INTEGER NOT NULL REFERENCES sites(id), connector_id INTEGER NOT NULL REFERENCES connectors(id),
  key TEXT NOT NULL, model TEXT NOT NULL, last_seen_ms INTEGER, UNIQUE (connector_id, key));
CREATE TABLE signals (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),
  device_id INTEGER NOT NULL REFERENCES devices(id), name TEXT NOT NULL, unit TEXT NOT NULL,
  kind INTEGER NOT NULL, UNIQUE (device_id, name));
)sql",
    // Claiming (docs/api.md "Claiming a connector"): connectors that announced themselves and
    // wait for an administrator; connectors remember how they came.
    R"sql(
ALTER TABLE connectors ADD COLUMN uuid TEXT;
ALTER TABLE connectors ADD COLUMN claimed_at_ms INTEGER;
CREATE TABLE connector_claims (uuid TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE,
  secret_hash TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, remote TEXT NOT NULL,
  announced_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,
  connector_id INTEGER REFERENCES connectors(id), claimed_ms INTEGER);
)sql",
    // Accounts (issue 6): password state, two-factor login, preferences; the first user becomes
    // the system administrator; tenant security settings, the audit log and dashboards.
    R"sql(
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_changed_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN created_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_login_ms INTEGER NOT NULL DEFAULT 0;
UPDATE users SET role = 'system' WHERE id = (SELECT min(id) FROM users);
CREATE TABLE password_history (user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  password_hash TEXT NOT NULL, changed_ms INTEGER NOT NULL);
CREATE INDEX password_history_user ON password_history (user_id, changed_ms);
CREATE TABLE recovery_codes (user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL, used_ms INTEGER);
CREATE TABLE tenant_settings (tenant_id INTEGER PRIMARY KEY REFERENCES tenants(id),
  security TEXT NOT NULL);
CREATE TABLE audit_log (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, tenant_id INTEGER,
  user_id INTEGER, username TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
  before TEXT, after TEXT, remote TEXT NOT NULL);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);
CREATE TABLE dashboards (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),
  owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, name TEXT NOT NULL,
  shared INTEGER NOT NULL DEFAULT 0, layout TEXT NOT NULL, updated_ms INTEGER NOT NULL);
)sql",
    // Site tree (docs/api.md "Site tree"): nodes per tenant, virtual meter terms. A manual meter
    // needs a device and a signal to hold its readings, and devices need a connector (NOT NULL):
    // the catalog creates one hidden connector per tenant (`internal`, never listed, with a
    // token hash no SHA-256 hex can equal, so it never authenticates ingest) that owns one
    // device per manual meter. Readings are then ordinary samples of an ordinary counter signal,
    // and history, rollups and exports need nothing special.
    R"sql(
ALTER TABLE connectors ADD COLUMN internal INTEGER NOT NULL DEFAULT 0;
CREATE TABLE tree_nodes (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),
  parent_id INTEGER REFERENCES tree_nodes(id), kind TEXT NOT NULL, name TEXT NOT NULL,
  position INTEGER NOT NULL DEFAULT 0, device_id INTEGER REFERENCES devices(id),
  manual INTEGER NOT NULL DEFAULT 0);
CREATE INDEX tree_nodes_parent ON tree_nodes (tenant_id, parent_id, position);
CREATE TABLE virtual_terms (node_id INTEGER NOT NULL REFERENCES tree_nodes(id),
  member_id INTEGER NOT NULL REFERENCES tree_nodes(id), sign INTEGER NOT NULL CHECK (sign IN (-1, 1)),
  PRIMARY KEY (node_id, member_id));
CREATE INDEX virtual_terms_member ON virtual_terms (member_id);
)sql",
};

Result<int64_t> QueryInt(SqliteDb& db, const std::string& sql) {
  auto st = db.Prepare(sql);
  if (!st) return Fail(st.error());
  auto row = st->Step();
  if (!row) return Fail(row.error());
  return *row ? st->Int(0) : 0;
}
}  // namespace

Result<std::unique_ptr<Catalog>> Catalog::Open(const std::string& path) {
  auto db = SqliteDb::Open(path);
  if (!db) return Fail(db.error());
  std::unique_ptr<Catalog> c(new Catalog(std::move(*db)));
  if (Status s = c->Migrate(); !s.ok()) return Fail(s);
  return c;
}

Status Catalog::Migrate() {
  if (Status s = db_->Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
      !s.ok())
    return s;
  auto v = QueryInt(*db_, "SELECT coalesce(max(version), 0) FROM schema_version");
  if (!v) return v.error();
  const int64_t total = static_cast<int64_t>(std::size(kMigrations));
  if (*v > total) {
    return FailedPrecondition("configuration database has schema version " + std::to_string(*v) +
                              ", newer than this program (" + std::to_string(total) + ")");
  }
  for (int64_t i = *v; i < total; ++i) {
    Status s = historian::InTransaction(*db_, [&]() -> Status {
      if (Status e = db_->Exec(kMigrations[i]); !e.ok()) return e;
      return db_->Exec("INSERT INTO schema_version VALUES (" + std::to_string(i + 1) + ")");
    });
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Result<int64_t> Catalog::EnsureTenant(const std::string& name) {
  auto ins = db_->Prepare("INSERT OR IGNORE INTO tenants (name) VALUES (?1)");
  if (!ins) return Fail(ins.error());
  ins->Bind(1, name);
  if (Status s = ins->Run(); !s.ok()) return Fail(s);
  auto st = db_->Prepare("SELECT id FROM tenants WHERE name = ?1");
  if (!st) return Fail(st.error());
  st->Bind(1, name);
  auto row = st->Step();
  if (!row || !*row) return Fail(row ? Internal("tenant vanished") : row.error());
  return st->Int(0);
}

Result<int64_t> Catalog::EnsureSite(int64_t tenant_id, const std::string& name) {
  auto ins = db_->Prepare("INSERT OR IGNORE INTO sites (tenant_id, name) VALUES (?1, ?2)");
  if (!ins) return Fail(ins.error());
  ins->Bind(1, tenant_id).Bind(2, name);
  if (Status s = ins->Run(); !s.ok()) return Fail(s);
  auto st = db_->Prepare("SELECT id FROM sites WHERE tenant_id = ?1 AND name = ?2");
  if (!st) return Fail(st.error());
  st->Bind(1, tenant_id).Bind(2, name);
  auto row = st->Step();
  if (!row || !*row) return Fail(row ? Internal("site vanished") : row.error());
  return st->Int(0);
}

Result<int64_t> Catalog::UserCount() { return QueryInt(*db_, "SELECT count(*) FROM users"); }

Status Catalog::UpsertConnector(int64_t tenant_id, int64_t site_id, const std::string& name,
                                const std::string& token_hash) {
  auto st = db_->Prepare(
      "INSERT INTO connectors (tenant_id, site_id, name, token_hash) VALUES (?1, ?2, ?3, ?4)"
      " ON CONFLICT(name) DO UPDATE SET token_hash = excluded.token_hash");
  if (!st) return st.error();
  st->Bind(1, tenant_id).Bind(2, site_id).Bind(3, name).Bind(4, token_hash);
  return st->Run();
}

Result<int64_t> Catalog::CreateConnector(int64_t tenant_id, int64_t site_id,
                                         const std::string& name, const std::string& token_hash,
                                         const std::string& uuid, int64_t claimed_at_ms) {
  auto exists = db_->Prepare("SELECT 1 FROM connectors WHERE name = ?1");
  if (!exists) return Fail(exists.error());
  exists->Bind(1, name);
  auto row = exists->Step();
  if (!row) return Fail(row.error());
  if (*row) return Fail(Status(Code::kAlreadyExists, "a connector named '" + name + "' exists"));
  auto st = db_->Prepare(
      "INSERT INTO connectors (tenant_id, site_id, name, token_hash, uuid, claimed_at_ms)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!st) return Fail(st.error());
  st->Bind(1, tenant_id)
      .Bind(2, site_id)
      .Bind(3, name)
      .Bind(4, token_hash)
      .Bind(5, uuid)
      .Bind(6, claimed_at_ms);
  if (Status s = st->Run(); !s.ok()) return Fail(s);
  return db_->LastInsertId();
}

Status Catalog::SetConnectorTokenHash(int64_t connector_id, const std::string& token_hash) {
  auto st = db_->Prepare("UPDATE connectors SET token_hash = ?2 WHERE id = ?1");
  if (!st) return st.error();
  st->Bind(1, connector_id).Bind(2, token_hash);
  if (Status s = st->Run(); !s.ok()) return s;
  if (db_->Changes() != 1) return NotFound("no connector " + std::to_string(connector_id));
  return Status::Ok();
}

Result<std::vector<ConnectorInfo>> Catalog::ListConnectors(int64_t tenant_id) {
  auto st = db_->Prepare(
      "SELECT c.id, c.name, s.id, s.name, coalesce(c.uuid, ''), coalesce(c.claimed_at_ms, 0),"
      " coalesce(c.last_seen_ms, 0), c.acked_seq FROM connectors c JOIN sites s ON s.id ="
      " c.site_id WHERE c.tenant_id = ?1 AND NOT c.internal ORDER BY c.name");
  if (!st) return Fail(st.error());
  st->Bind(1, tenant_id);
  std::vector<ConnectorInfo> out;
  while (true) {
    auto row = st->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    out.push_back({st->Int(0), st->Text(1), st->Int(2), st->Text(3), st->Text(4), st->Int(5),
                   st->Int(6), static_cast<uint64_t>(st->Int(7))});
  }
  return out;
}

Result<SiteInfo> Catalog::FindSite(int64_t tenant_id, std::optional<int64_t> site_id) {
  auto st = db_->Prepare(
      "SELECT id, name FROM sites WHERE tenant_id = ?1 AND (?2 IS NULL OR id = ?2)"
      " ORDER BY id LIMIT 1");
  if (!st) return Fail(st.error());
  st->Bind(1, tenant_id);
  if (site_id)
    st->Bind(2, *site_id);
  else
    st->BindNull(2);
  auto row = st->Step();
  if (!row) return Fail(row.error());
  if (!*row) {
    return Fail(
        NotFound(site_id ? "no site " + std::to_string(*site_id) : "the tenant has no site"));
  }
  return SiteInfo{st->Int(0), st->Text(1)};
}

Result<Connector> Catalog::FindConnectorByTokenHash(const std::string& token_hash) {
  auto st = db_->Prepare(
      "SELECT id, tenant_id, site_id, name, acked_seq FROM connectors WHERE token_hash = ?1");
  if (!st) return Fail(st.error());
  st->Bind(1, token_hash);
  auto row = st->Step();
  if (!row) return Fail(row.error());
  if (!*row) return Fail(Unauthenticated("unknown connector credential"));
  return Connector{st->Int(0), st->Int(1), st->Int(2), st->Text(3),
                   static_cast<uint64_t>(st->Int(4))};
}

Status Catalog::SetConnectorAck(int64_t connector_id, uint64_t acked_seq, int64_t seen_ms) {
  auto st = db_->Prepare("UPDATE connectors SET acked_seq = ?2, last_seen_ms = ?3 WHERE id = ?1");
  if (!st) return st.error();
  st->Bind(1, connector_id).Bind(2, static_cast<int64_t>(acked_seq)).Bind(3, seen_ms);
  return st->Run();
}

Result<int64_t> Catalog::ResolveDevice(const Connector& c, const std::string& key,
                                       const std::string& model, int64_t seen_ms) {
  auto cache_key = std::make_pair(c.id, key);
  int64_t id = 0;
  if (auto it = device_cache_.find(cache_key); it != device_cache_.end()) {
    id = it->second;
  } else {
    auto ins = db_->Prepare(
        "INSERT INTO devices (tenant_id, site_id, connector_id, key, model) VALUES (?1, ?2, ?3, "
        "?4, ?5)"
        " ON CONFLICT(connector_id, key) DO UPDATE SET model = excluded.model");
    if (!ins) return Fail(ins.error());
    ins->Bind(1, c.tenant_id).Bind(2, c.site_id).Bind(3, c.id).Bind(4, key).Bind(5, model);
    if (Status s = ins->Run(); !s.ok()) return Fail(s);
    auto st = db_->Prepare("SELECT id FROM devices WHERE connector_id = ?1 AND key = ?2");
    if (!st) return Fail(st.error());
    st->Bind(1, c.id).Bind(2, key);
    auto row = st->Step();
    if (!row || !*row) return Fail(row ? Internal("device vanished") : row.error());
    id = st->Int(0);
    device_cache_[cache_key] = id;
  }
  // last_seen is informational: write it at most every 10 s per device.
  int64_t& written = device_seen_written_[id];
  if (seen_ms - written >= 10000) {
    auto up = db_->Prepare(
        "UPDATE devices SET last_seen_ms = max(coalesce(last_seen_ms, 0), ?2) WHERE id = ?1");
    if (!up) return Fail(up.error());
    up->Bind(1, id).Bind(2, seen_ms);
    if (Status s = up->Run(); !s.ok()) return Fail(s);
    written = seen_ms;
  }
  return id;
}

Result<int64_t> Catalog::ResolveSignal(int64_t tenant_id, int64_t device_id,
                                       const std::string& name, const std::string& unit,
                                       SignalKind kind) {
  auto cache_key = std::make_pair(device_id, name);
  if (auto it = signal_cache_.find(cache_key); it != signal_cache_.end()) return it->second;
  auto ins = db_->Prepare(
      "INSERT INTO signals (tenant_id, device_id, name, unit, kind) VALUES (?1, ?2, ?3, ?4, ?5)"
      " ON CONFLICT(device_id, name) DO UPDATE SET unit = excluded.unit, kind = excluded.kind");
  if (!ins) return Fail(ins.error());
  ins->Bind(1, tenant_id)
      .Bind(2, device_id)
      .Bind(3, name)
      .Bind(4, unit)
      .Bind(5, static_cast<int64_t>(kind));
  if (Status s = ins->Run(); !s.ok()) return Fail(s);
  auto st = db_->Prepare("SELECT id FROM signals WHERE device_id = ?1 AND name = ?2");
  if (!st) return Fail(st.error());
  st->Bind(1, device_id).Bind(2, name);
  auto row = st->Step();
  if (!row || !*row) return Fail(row ? Internal("signal vanished") : row.error());
  signal_cache_[cache_key] = st->Int(0);
  return st->Int(0);
}

Result<std::vector<SignalInfo>> Catalog::ListSignals(int64_t tenant_id,
                                                     std::optional<int64_t> device_id) {
  auto st = db_->Prepare(
      "SELECT id, device_id, name, unit, kind FROM signals WHERE tenant_id = ?1"
      " AND (?2 IS NULL OR device_id = ?2) ORDER BY device_id, id");
  if (!st) return Fail(st.error());
  st->Bind(1, tenant_id);
  if (device_id)
    st->Bind(2, *device_id);
  else
    st->BindNull(2);
  std::vector<SignalInfo> out;
  while (true) {
    auto row = st->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    out.push_back(
        {st->Int(0), st->Int(1), st->Text(2), st->Text(3), static_cast<SignalKind>(st->Int(4))});
  }
  return out;
}

Result<std::vector<DeviceInfo>> Catalog::ListDevices(int64_t tenant_id) {
  auto st = db_->Prepare(
      "SELECT d.id, d.key, d.model, s.id, s.name, CASE WHEN c.internal THEN '' ELSE c.name END,"
      " coalesce(d.last_seen_ms, 0) FROM devices d"
      " JOIN sites s ON s.id = d.site_id JOIN connectors c ON c.id = d.connector_id"
      " WHERE d.tenant_id = ?1 ORDER BY d.key, d.id");
  if (!st) return Fail(st.error());
  st->Bind(1, tenant_id);
  std::vector<DeviceInfo> out;
  std::map<int64_t, size_t> index;
  while (true) {
    auto row = st->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    index[st->Int(0)] = out.size();
    out.push_back({st->Int(0),
                   st->Text(1),
                   st->Text(2),
                   st->Int(3),
                   st->Text(4),
                   st->Text(5),
                   st->Int(6),
                   {}});
  }
  auto signals = ListSignals(tenant_id, std::nullopt);
  if (!signals) return Fail(signals.error());
  for (auto& s : *signals) {
    if (auto it = index.find(s.device_id); it != index.end())
      out[it->second].signals.push_back(std::move(s));
  }
  return out;
}

Result<SignalInfo> Catalog::GetSignal(int64_t tenant_id, int64_t signal_id) {
  auto st = db_->Prepare(
      "SELECT id, device_id, name, unit, kind FROM signals WHERE tenant_id = ?1 AND id = ?2");
  if (!st) return Fail(st.error());
  st->Bind(1, tenant_id).Bind(2, signal_id);
  auto row = st->Step();
  if (!row) return Fail(row.error());
  if (!*row) return Fail(NotFound("no signal " + std::to_string(signal_id)));
  return SignalInfo{st->Int(0), st->Int(1), st->Text(2), st->Text(3),
                    static_cast<SignalKind>(st->Int(4))};
}

Status Catalog::CheckDevice(int64_t tenant_id, int64_t device_id) {
  auto st = db_->Prepare("SELECT 1 FROM devices WHERE id = ?1 AND tenant_id = ?2");
  if (!st) return st.error();
  st->Bind(1, device_id).Bind(2, tenant_id);
  auto row = st->Step();
  if (!row) return row.error();
  if (!*row) return NotFound("no meter " + std::to_string(device_id) + " in this tenant");
  return Status::Ok();
}

Result<ManualDevice> Catalog::CreateManualDevice(int64_t tenant_id, const std::string& key,
                                                 int64_t now_ms) {
  auto find = db_->Prepare("SELECT id, site_id FROM connectors WHERE tenant_id = ?1 AND internal");
  if (!find) return Fail(find.error());
  find->Bind(1, tenant_id);
  auto row = find->Step();
  if (!row) return Fail(row.error());
  Connector c;
  c.tenant_id = tenant_id;
  if (*row) {
    c.id = find->Int(0);
    c.site_id = find->Int(1);
  } else {
    auto site = FindSite(tenant_id, std::nullopt);
    if (!site && site.error().code() != Code::kNotFound) return Fail(site.error());
    if (site) {
      c.site_id = site->id;
    } else {
      auto created = EnsureSite(tenant_id, "Site");
      if (!created) return Fail(created.error());
      c.site_id = *created;
    }
    // "!" never occurs in a token's SHA-256 hex, so no bearer token can match this connector.
    const std::string tag = "~manual-" + std::to_string(tenant_id);
    auto ins = db_->Prepare(
        "INSERT INTO connectors (tenant_id, site_id, name, token_hash, internal)"
        " VALUES (?1, ?2, ?3, ?4, 1)");
    if (!ins) return Fail(ins.error());
    ins->Bind(1, tenant_id).Bind(2, c.site_id).Bind(3, tag).Bind(4, "!" + tag);
    if (Status s = ins->Run(); !s.ok()) return Fail(s);
    c.id = db_->LastInsertId();
  }
  auto device = ResolveDevice(c, key, "manual meter", now_ms);
  if (!device) return Fail(device.error());
  auto signal = ResolveSignal(tenant_id, *device, kManualEnergySignal, "kWh", SignalKind::kCounter);
  if (!signal) return Fail(signal.error());
  return ManualDevice{*device, *signal};
}

}  // namespace wattline::server
