#include "server/claims.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "server/password.h"

namespace wattline::server {
namespace bhttp = boost::beast::http;
using http::Request;
using http::Response;
using nlohmann::json;

namespace {

constexpr size_t kMaxKeys = 10000;

// "1.2.3.4:5678" -> "1.2.3.4": limits apply per address, not per connection.
std::string AddressOf(const std::string& remote) {
  auto colon = remote.rfind(':');
  return colon == std::string::npos ? remote : remote.substr(0, colon);
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Canonical lower-case 8-4-4-4-12 form.
bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsLowerHex(s.substr(i, 1))) return false;
  }
  return true;
}

// Connector names end up in logs, batches and the UI: letters, digits, space, '.', '_', '-'.
bool IsConnectorName(std::string_view s) {
  if (s.empty() || s.size() > 64 || !std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '.' || c == '_' ||
           c == '-';
  });
}

bool IsPrintable(std::string_view s, size_t max) {
  return s.size() <= max &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

bool SameHash(const std::string& a, const std::string& b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string FormatCode(const std::string& code) { return code.substr(0, 4) + "-" + code.substr(4); }

// A string member of a JSON object, or nullopt when it is missing or not a string.
std::optional<std::string> StringField(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

bool RateLimiter::Allow(const std::string& key) {
  Bucket& b = Refill(key);
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

bool RateLimiter::WouldAllow(const std::string& key) { return Refill(key).tokens >= 1; }

RateLimiter::Bucket& RateLimiter::Refill(const std::string& key) {
  const MonotonicTime now = time_.MonotonicNow();
  if (buckets_.size() >= kMaxKeys && !buckets_.count(key)) {
    // Forget the buckets that are full again: they would behave as new ones anyway.
    std::erase_if(buckets_, [&](const auto& kv) {
      return kv.second.tokens + (now - kv.second.updated) / refill_every_ >= burst_;
    });
  }
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{static_cast<double>(burst_), now});
  Bucket& b = it->second;
  if (!fresh) {
    double gained = std::chrono::duration<double>(now - b.updated) /
                    std::chrono::duration<double>(refill_every_);
    b.tokens = std::min<double>(burst_, b.tokens + gained);
    b.updated = now;
  }
  return b;
}

std::optional<std::string> NormalizeClaimCode(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (kClaimCodeAlphabet.find(c) == std::string_view::npos) return std::nullopt;
    out.push_back(c);
  }
  if (out.size() != 8) return std::nullopt;
  return out;
}

struct Claims::Pending {
  std::string uuid, code, secret_hash, name, version, remote;
  int64_t announced_ms = 0, expires_ms = 0;
  int64_t connector_id = 0;  // 0 while pending
  int64_t claimed_ms = 0;
};

Claims::Claims(Catalog& catalog, Authenticator authenticate, TimeSource& time,
               std::string server_fingerprint, ClaimsOptions options, AuditTrail* audit)
    : catalog_(catalog),
      authenticate_(std::move(authenticate)),
      time_(time),
      server_fingerprint_(std::move(server_fingerprint)),
      options_(options),
      announce_limit_(time, options.announce_burst, options.announce_refill),
      poll_limit_(time, options.poll_burst, options.poll_refill),
      claim_failure_limit_(time, options.claim_failures, options.claim_failure_refill),
      audit_(audit) {}

void Claims::Register(http::Router& router) {
  router.Add(bhttp::verb::post, "/api/v1/claims", [this](Request& r) { return Announce(r); });
  router.Add(bhttp::verb::get, "/api/v1/claims/{uuid}", [this](Request& r) { return Poll(r); });
  router.Add(bhttp::verb::post, "/api/v1/connectors/claim",
             [this](Request& r) { return Claim(r); });
  router.Add(bhttp::verb::get, "/api/v1/connectors", [this](Request& r) { return List(r); });
}

Result<std::optional<Claims::Pending>> Claims::Find(const std::string& column,
                                                    const std::string& value) {
  // `column` is one of two literals from this file, never input.
  auto st = catalog_.db().Prepare(
      "SELECT uuid, code, secret_hash, name, version, remote, announced_ms, expires_ms,"
      " coalesce(connector_id, 0), coalesce(claimed_ms, 0) FROM connector_claims WHERE " +
      column + " = ?1");
  if (!st) return Fail(st.error());
  st->Bind(1, value);
  auto row = st->Step();
  if (!row) return Fail(row.error());
  if (!*row) return std::optional<Pending>();
  return Pending{st->Text(0), st->Text(1), st->Text(2), st->Text(3), st->Text(4),
                 st->Text(5), st->Int(6),  st->Int(7),  st->Int(8),  st->Int(9)};
}

Status Claims::DeleteExpired(int64_t now_ms) {
  auto st = catalog_.db().Prepare("DELETE FROM connector_claims WHERE expires_ms <= ?1");
  if (!st) return st.error();
  st->Bind(1, now_ms);
  return st->Run();
}

Response Claims::Announce(Request& req) {
  const std::string addr = AddressOf(req.remote);
  if (!announce_limit_.Allow(addr)) {
    spdlog::warn("claims: announcement from {} refused: rate limit", req.remote);
    return Response::Error(ResourceExhausted("too many announcements; try again later"));
  }
  json body = json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
  auto uuid = body.is_object() ? StringField(body, "uuid") : std::nullopt;
  auto code_text = body.is_object() ? StringField(body, "code") : std::nullopt;
  auto secret_hash = body.is_object() ? StringField(body, "secret_hash") : std::nullopt;
  auto name = body.is_object() ? StringField(body, "name") : std::nullopt;
  auto version = body.is_object() ? StringField(body, "version") : std::nullopt;
  auto code = code_text ? NormalizeClaimCode(*code_text) : std::nullopt;
  if (!uuid || !IsUuid(*uuid) || !code || !secret_hash || secret_hash->size() != 64 ||
      !IsLowerHex(*secret_hash) || !IsPrintable(name.value_or(""), 64) ||
      !IsPrintable(version.value_or(""), 32)) {
    spdlog::warn("claims: malformed announcement from {}", req.remote);
    return Response::Error(InvalidArgument(
        "expected {\"uuid\": lower-case UUID, \"code\": claim code, \"secret_hash\": 64 hex "
        "digits, \"name\": up to 64 characters, \"version\": up to 32 characters}"));
  }
  const int64_t now = NowMs();
  if (Status s = DeleteExpired(now); !s.ok()) return Response::Error(s);
  auto existing = Find("uuid", *uuid);
  if (!existing) return Response::Error(existing.error());
  if (*existing) {
    const Pending& p = **existing;
    if (!SameHash(p.secret_hash, *secret_hash)) {
      spdlog::warn("claims: {} announced connector {} with a different secret; refused", req.remote,
                   *uuid);
      return Response::Error(
          Status(Code::kAlreadyExists, "this connector id is registered with another secret"));
    }
    if (p.connector_id != 0) return Response::Json({{"status", "claimed"}});
  }
  auto holder = Find("code", *code);
  if (!holder) return Response::Error(holder.error());
  if (*holder && (*holder)->uuid != *uuid) {
    spdlog::warn("claims: {} announced code {} that another connector uses", req.remote,
                 FormatCode(*code));
    return Response::Error(
        Status(Code::kAlreadyExists, "this claim code is in use; choose another one"));
  }
  const int64_t expires = now + options_.ttl.count();
  if (!*existing) {
    auto st =
        catalog_.db().Prepare("SELECT count(*) FROM connector_claims WHERE connector_id IS NULL");
    if (!st) return Response::Error(st.error());
    auto row = st->Step();
    if (!row) return Response::Error(row.error());
    if (st->Int(0) >= options_.max_pending) {
      spdlog::warn("claims: announcement from {} refused: {} claims are pending", req.remote,
                   st->Int(0));
      return Response::Error(ResourceExhausted("too many pending claims on this server"));
    }
  }
  auto st = catalog_.db().Prepare(
      "INSERT INTO connector_claims (uuid, code, secret_hash, name, version, remote, "
      "announced_ms, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(uuid) DO "
      "UPDATE SET code = excluded.code, name = excluded.name, version = excluded.version, remote "
      "= excluded.remote, announced_ms = excluded.announced_ms, expires_ms = excluded.expires_ms");
  if (!st) return Response::Error(st.error());
  st->Bind(1, *uuid)
      .Bind(2, *code)
      .Bind(3, *secret_hash)
      .Bind(4, name.value_or(""))
      .Bind(5, version.value_or(""))
      .Bind(6, addr)
      .Bind(7, now)
      .Bind(8, expires);
  if (Status s = st->Run(); !s.ok()) return Response::Error(s);
  if (!*existing) {
    spdlog::info("claims: connector '{}' ({}, {}) from {} waits to be claimed with code {}",
                 name.value_or(""), *uuid, version.value_or(""), req.remote, FormatCode(*code));
  }
  return Response::Json({{"status", "pending"}, {"expires_ms", expires}});
}

Response Claims::Poll(Request& req) {
  if (!poll_limit_.Allow(AddressOf(req.remote))) {
    spdlog::warn("claims: poll from {} refused: rate limit", req.remote);
    return Response::Error(ResourceExhausted("polling too often; try again later"));
  }
  const std::string uuid = req.path_params["uuid"];
  if (!IsUuid(uuid)) return Response::Error(InvalidArgument("malformed connector id"));
  const std::string secret = req.Header("X-Claim-Secret");
  if (secret.empty()) return Response::Error(Unauthenticated("header X-Claim-Secret is missing"));
  const int64_t now = NowMs();
  if (Status s = DeleteExpired(now); !s.ok()) return Response::Error(s);
  auto found = Find("uuid", uuid);
  if (!found) return Response::Error(found.error());
  if (!*found) return Response::Error(NotFound("no claim for this connector; announce it again"));
  const Pending& p = **found;
  if (!SameHash(p.secret_hash, TokenHash(secret))) {
    spdlog::warn("claims: poll for connector {} from {} with a wrong secret", uuid, req.remote);
    return Response::Error(PermissionDenied("wrong claim secret"));
  }
  if (p.connector_id == 0)
    return Response::Json({{"status", "pending"}, {"expires_ms", p.expires_ms}});
  // A fresh credential on every poll after acceptance: if an answer is lost, the connector asks
  // again and the credential it missed stops working. Only the hash is kept.
  const std::string token = RandomHex(32);
  if (Status s = catalog_.SetConnectorTokenHash(p.connector_id, TokenHash(token)); !s.ok()) {
    return Response::Error(s);
  }
  auto connectors = catalog_.db().Prepare("SELECT name FROM connectors WHERE id = ?1");
  if (!connectors) return Response::Error(connectors.error());
  connectors->Bind(1, p.connector_id);
  auto row = connectors->Step();
  if (!row || !*row) return Response::Error(row ? Internal("connector vanished") : row.error());
  const std::string name = connectors->Text(0);
  spdlog::info("claims: connector '{}' ({}) fetched its credential from {}", name, uuid,
               req.remote);
  return Response::Json({{"status", "claimed"}, {"name", name}, {"token", token}});
}

Response Claims::Claim(Request& req) {
  auto session = authenticate_(req, Role::kEngineer, Access::kWrite);
  if (!session) {
    spdlog::warn("claims: claim from {} refused: {}", req.remote, session.error().ToString());
    return Response::Error(session.error());
  }
  const std::string limit_key = "user:" + std::to_string(session->user_id);
  if (!claim_failure_limit_.WouldAllow(limit_key)) {
    spdlog::warn("claims: user '{}' is locked out after wrong claim codes", session->username);
    return Response::Error(ResourceExhausted("too many wrong claim codes; try again later"));
  }
  json body = json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
  auto code_text = body.is_object() ? StringField(body, "code") : std::nullopt;
  auto name = body.is_object() ? StringField(body, "name") : std::nullopt;
  std::optional<int64_t> site_id;
  if (body.is_object() && body.contains("site_id") && !body["site_id"].is_null()) {
    if (!body["site_id"].is_number_integer()) {
      return Response::Error(InvalidArgument("site_id must be an integer"));
    }
    site_id = body["site_id"].get<int64_t>();
  }
  const bool bad_name = body.is_object() && body.contains("name") && !body["name"].is_null() &&
                        !body["name"].is_string();
  if (!code_text || bad_name) {
    return Response::Error(InvalidArgument(
        "expected {\"code\": \"ABCD-EFGH\", \"name\": connector name, \"site_id\": optional}"));
  }
  auto code = NormalizeClaimCode(*code_text);
  const int64_t now = NowMs();
  if (Status s = DeleteExpired(now); !s.ok()) return Response::Error(s);
  std::optional<Pending> pending;
  if (code) {
    auto found = Find("code", *code);
    if (!found) return Response::Error(found.error());
    if (*found && (*found)->connector_id == 0) pending = **found;
  }
  if (!pending) {
    claim_failure_limit_.Allow(limit_key);
    spdlog::warn("claims: user '{}' entered an unknown or expired claim code", session->username);
    return Response::Error(NotFound("no connector waits with this claim code (wrong or expired)"));
  }
  const std::string connector_name = name ? *name : pending->name;
  if (!IsConnectorName(connector_name)) {
    return Response::Error(InvalidArgument(
        "connector name must be 1 to 64 letters, digits, spaces, '.', '_' or '-', starting "
        "with a letter or digit"));
  }
  auto site = catalog_.FindSite(session->tenant_id, site_id);
  if (!site && site.error().code() == Code::kNotFound && !site_id) {
    // A tenant without sites gets the default one, as connectors from the config file do.
    auto created = catalog_.EnsureSite(session->tenant_id, "Main site");
    if (!created) return Response::Error(created.error());
    site = catalog_.FindSite(session->tenant_id, *created);
  }
  if (!site) return Response::Error(site.error());

  int64_t connector_id = 0;
  Status s = historian::InTransaction(catalog_.db(), [&]() -> Status {
    // Unusable until the connector fetches its credential: nobody knows this hash's preimage.
    auto id = catalog_.CreateConnector(session->tenant_id, site->id, connector_name,
                                       TokenHash(RandomHex(32)), pending->uuid, now);
    if (!id) return id.error();
    connector_id = *id;
    auto up = catalog_.db().Prepare(
        "UPDATE connector_claims SET connector_id = ?2, claimed_ms = ?3, expires_ms = ?4"
        " WHERE uuid = ?1 AND connector_id IS NULL");
    if (!up) return up.error();
    up->Bind(1, pending->uuid)
        .Bind(2, connector_id)
        .Bind(3, now)
        .Bind(4, now + options_.ttl.count());
    return up->Run();
  });
  if (!s.ok()) {
    spdlog::warn("claims: user '{}' could not claim connector {} as '{}': {}", session->username,
                 pending->uuid, connector_name, s.ToString());
    return Response::Error(s);
  }
  spdlog::info("claims: user '{}' claimed connector {} as '{}' for tenant '{}', site '{}'",
               session->username, pending->uuid, connector_name, session->tenant_name, site->name);
  json out = {{"id", connector_id},
              {"name", connector_name},
              {"uuid", pending->uuid},
              {"version", pending->version},
              {"tenant", {{"id", session->tenant_id}, {"name", session->tenant_name}}},
              {"site", {{"id", site->id}, {"name", site->name}}},
              {"claimed_at_ms", now},
              {"last_seen_ms", nullptr},
              {"server_fingerprint", server_fingerprint_}};
  if (audit_)
    audit_->Record(*session, req, "connector_claimed", "connector " + connector_name, nullptr, out);
  return Response::Json(out, 201);
}

Response Claims::List(Request& req) {
  auto session = authenticate_(req, Role::kViewer, Access::kRead);
  if (!session) return Response::Error(session.error());
  auto connectors = catalog_.ListConnectors(session->tenant_id);
  if (!connectors) return Response::Error(connectors.error());
  json out = json::array();
  for (const ConnectorInfo& c : *connectors) {
    out.push_back({{"id", c.id},
                   {"name", c.name},
                   {"uuid", c.uuid.empty() ? json() : json(c.uuid)},
                   {"site", {{"id", c.site_id}, {"name", c.site_name}}},
                   {"claimed_at_ms", c.claimed_at_ms ? json(c.claimed_at_ms) : json()},
                   {"last_seen_ms", c.last_seen_ms ? json(c.last_seen_ms) : json()},
                   {"acked_seq", c.acked_seq}});
  }
  return Response::Json(out);
}

}  // namespace wattline::server
