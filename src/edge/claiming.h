// Claiming, the connector's side (docs/api.md, "Claiming a connector"). A connector that has a
// server URL but no credential creates an identity once (a random UUID, a random secret and a
// short claim code), announces itself to the server and polls until an administrator enters the
// code there; it then receives its name and bearer token and keeps them with the identity. The
// server's certificate is trusted on first use: its SHA-256 fingerprint is recorded at the first
// contact and from then on exactly that certificate is accepted.
//
// IdentityStore: the identity file; Claimer: the announce/poll loop on the io_context.
// Randomness comes from OpenSSL's CSPRNG (the connector does not link libsodium).
// Thread-safety: IdentityStore is not thread-safe. Claimer: Start/Stop on the io_context's
// thread; state() from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace wattline::edge {

// What a connector keeps in <data_dir>/identity.json (mode 0600).
struct ConnectorIdentity {
  std::string uuid;                // random (version 4), lower case
  std::string secret;              // 64 hex digits; the server only ever sees its SHA-256
  std::string claim_code;          // "ABCD-EFGH", shown to the person who claims
  std::string server_fingerprint;  // pinned server certificate; empty before the first contact
  std::string name;                // set by the claim
  std::string token;               // bearer credential, set by the claim
  int64_t claimed_at_ms = 0;

  bool claimed() const { return !token.empty(); }
};

// 8 characters from an alphabet without look-alikes (no 0/O, 1/I), shown as "ABCD-EFGH".
// kInternal when the CSPRNG fails.
Result<std::string> GenerateClaimCode();
// A fresh, unclaimed identity. kInternal when the CSPRNG fails.
Result<ConnectorIdentity> NewIdentity();

// The identity files in a data folder: identity.json, and identity.claimed, a marker without
// secrets written when the connector is claimed (so that a damaged identity.json of a claimed
// connector is never silently replaced by a fresh one).
class IdentityStore {
 public:
  explicit IdentityStore(std::string dir);

  // The stored identity, or a fresh one (saved at once) when there is none. When identity.json
  // is damaged (unreadable JSON, missing or malformed fields):
  //  - never claimed: it is renamed to identity.json.damaged, the error is logged and a fresh
  //    identity (new claim code) is created;
  //  - claimed (identity.claimed exists): kDataLoss with what to do; nothing is changed.
  // kFailedPrecondition when the files cannot be read or written.
  Result<ConnectorIdentity> LoadOrCreate();
  // Replaces identity.json atomically (temporary file with mode 0600, fsync, rename, fsync of
  // the folder); writes identity.claimed first when the identity is claimed.
  Status Save(const ConnectorIdentity& identity);

  std::string path() const;

 private:
  Result<ConnectorIdentity> Load();
  std::string dir_;
};

enum class ClaimPhase : uint8_t {
  kUnconfigured,  // no server URL, or not started
  kAnnouncing,    // telling the server about us (first contact, or after a failure)
  kWaiting,       // announced; waiting for an administrator to enter the claim code
  kClaimed,       // credential received and stored
  kError,         // the last attempt failed (last_error says why); retried with backoff
};
std::string_view ClaimPhaseName(ClaimPhase phase);

// A snapshot for the connector's UI and logs.
struct ClaimState {
  ClaimPhase phase = ClaimPhase::kUnconfigured;
  std::string claim_code;  // "ABCD-EFGH"
  std::string server_url;
  std::string server_fingerprint;  // the pinned certificate; compare with the server's
  std::string connector_name;      // once claimed
  std::string last_error;          // empty after a success
  int64_t expires_ms = 0;          // when the server forgets the pending claim (0: unknown)
};

struct ClaimerConfig {
  std::string data_dir;     // where identity.json lives
  std::string name;         // the name the connector suggests for itself
  std::string version;      // software version, shown to the administrator
  std::string server_cert;  // optional PEM file: pin this certificate instead of the first seen
  std::chrono::milliseconds poll_interval{2000};
  std::chrono::milliseconds announce_interval{60000};  // re-announce while waiting
  std::chrono::milliseconds timeout{15000};
  std::chrono::milliseconds max_backoff{30000};
};

class Claimer {
 public:
  // Called once on the io_context's thread with the claimed identity (name, token, pinned
  // fingerprint); from inside Start when the stored identity is already claimed.
  using OnClaimed = std::function<void(const ConnectorIdentity&)>;

  Claimer(boost::asio::io_context& io, ClaimerConfig config, OnClaimed on_claimed);
  ~Claimer();

  // Loads or creates the identity and, unless it is claimed already, starts announcing to
  // `server_url` ("https://host:port") and polling. Errors: kInvalidArgument (bad URL or
  // server_cert), kDataLoss (damaged identity of a claimed connector), kFailedPrecondition
  // (identity cannot be stored). REQUIRES: called at most once.
  Status Start(const std::string& server_url);
  void Stop();
  ClaimState state() const;

 private:
  struct Loop;
  std::shared_ptr<Loop> loop_;
};

}  // namespace wattline::edge
