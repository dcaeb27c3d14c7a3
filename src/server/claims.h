// Claims: how a connector without a credential joins a tenant (docs/api.md, "Claiming a
// connector"). The connector announces itself (its uuid, a short claim code and the hash of a
// secret only it knows) and polls; an administrator enters the code, which creates the connector
// in the administrator's tenant; the connector's next poll with its secret receives a fresh
// bearer token, of which the server keeps only the hash. Pending claims live in config.db (table
// connector_claims) and expire unless the connector announces itself again.
// Thread-safety: not thread-safe; used from the server's I/O thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"
#include "http/router.h"
#include "server/access.h"
#include "server/accounts_api.h"
#include "server/catalog.h"
#include "server/sessions.h"

namespace wattline::server {

// Token buckets per key (a source address, a user name): `burst` requests at once, then one
// more every `refill_every`. Memory is bounded: full buckets are forgotten when many keys exist.
class RateLimiter {
 public:
  RateLimiter(TimeSource& time, int burst, std::chrono::milliseconds refill_every)
      : time_(time), burst_(burst), refill_every_(refill_every) {}

  // Takes one token for `key`; false (nothing taken) when its bucket is empty.
  bool Allow(const std::string& key);
  // Whether Allow(key) would succeed, without taking a token.
  bool WouldAllow(const std::string& key);

 private:
  struct Bucket {
    double tokens = 0;
    MonotonicTime updated;
  };
  Bucket& Refill(const std::string& key);

  TimeSource& time_;
  int burst_;
  std::chrono::milliseconds refill_every_;
  std::map<std::string, Bucket> buckets_;
};

// The claim code alphabet: digits and upper-case letters without look-alikes (0/O, 1/I).
inline constexpr std::string_view kClaimCodeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

// The 8 characters of a claim code, upper-case and without separators; nullopt when `code` is
// not one. Accepts lower case, '-' and spaces ("abcd-efgh", "ABCD EFGH").
std::optional<std::string> NormalizeClaimCode(std::string_view code);

// Checks a request's session, role and (for writes) CSRF header: Guard::Check.
using Authenticator =
    std::function<Result<Session>(const http::Request&, Role min_role, Access access)>;

struct ClaimsOptions {
  // A pending claim lives this long after the connector's last announcement; an accepted one
  // this long after acceptance (time for the connector to fetch its credential).
  std::chrono::milliseconds ttl = std::chrono::hours(24);
  int announce_burst = 20;  // per source address
  std::chrono::milliseconds announce_refill = std::chrono::seconds(3);
  int poll_burst = 60;  // per source address
  std::chrono::milliseconds poll_refill = std::chrono::milliseconds(500);
  int claim_failures = 10;  // wrong codes per user before 429
  std::chrono::milliseconds claim_failure_refill = std::chrono::seconds(30);
  int64_t max_pending = 1000;  // pending claims on the whole server
};

class Claims {
 public:
  // REQUIRES: `catalog` and `time` outlive this object. `server_fingerprint` is the SHA-256
  // fingerprint of the server's TLS certificate, shown to the administrator for comparison.
  // `audit` (may be null) records every accepted claim.
  Claims(Catalog& catalog, Authenticator authenticate, TimeSource& time,
         std::string server_fingerprint, ClaimsOptions options = {}, AuditTrail* audit = nullptr);

  // Adds the four routes below.
  void Register(http::Router& router);

  // POST /api/v1/claims (connector, no session): announce or refresh a pending claim.
  http::Response Announce(http::Request& req);
  // GET /api/v1/claims/{uuid} (connector, header X-Claim-Secret): the claim's state; once
  // accepted, a fresh credential (each such poll replaces the previous one).
  http::Response Poll(http::Request& req);
  // POST /api/v1/connectors/claim (engineer session + CSRF header): accept a claim.
  http::Response Claim(http::Request& req);
  // GET /api/v1/connectors (session): the tenant's connectors.
  http::Response List(http::Request& req);

 private:
  struct Pending;
  Result<std::optional<Pending>> Find(const std::string& column, const std::string& value);
  Status DeleteExpired(int64_t now_ms);
  int64_t NowMs() { return ToUnixMs(time_.SystemNow()); }

  Catalog& catalog_;
  Authenticator authenticate_;
  TimeSource& time_;
  std::string server_fingerprint_;
  ClaimsOptions options_;
  RateLimiter announce_limit_;
  RateLimiter poll_limit_;
  RateLimiter claim_failure_limit_;
  AuditTrail* audit_;
};

}  // namespace wattline::server
