#include "edge/claiming.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/time.h"
#include "edge/uplink.h"
#include "http/client.h"
#include "http/tls.h"

namespace wattline::edge {
namespace asio = boost::asio;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view kAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";  // 32 characters
constexpr int kFormatVersion = 1;

Status RandomBytes(unsigned char* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) return Internal("no secure randomness (OpenSSL)");
  return Status::Ok();
}

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 15]);
  }
  return out;
}

std::string Sha256Hex(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  return Hex(md, len);
}

bool IsHex(std::string_view s, size_t size) {
  return s.size() == size && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsHex(s.substr(i, 1), 1)) return false;
  }
  return true;
}

bool IsClaimCode(std::string_view s) {
  if (s.size() != 9 || s[4] != '-') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i != 4 && kAlphabet.find(s[i]) == std::string_view::npos) return false;
  }
  return true;
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Writes `data` to `path` via a temporary file: created with mode 0600 before any secret is in
// it, fsynced, renamed over `path`, and the folder fsynced, so a crash leaves the old or the new
// file, never a torn one.
Status WriteFileAtomically(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return FailedPrecondition(Errno("cannot create " + tmp));
  bool ok = ::fchmod(fd, 0600) == 0;
  for (size_t done = 0; ok && done < data.size();) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  std::string err = ok ? "" : Errno("cannot write " + tmp);
  ::close(fd);
  if (!ok) return FailedPrecondition(err);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return FailedPrecondition(Errno("cannot rename " + tmp + " to " + path));
  }
  std::string dir = fs::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

std::string MessageOf(const http::ClientResponse& res) {
  auto j = json::parse(res.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object() &&
      j["error"].contains("message") && j["error"]["message"].is_string()) {
    return j["error"]["message"].get<std::string>();
  }
  return res.body.substr(0, 200);
}

}  // namespace

Result<std::string> GenerateClaimCode() {
  unsigned char b[8];
  if (Status s = RandomBytes(b, sizeof b); !s.ok()) return Fail(s);
  std::string code;
  for (int i = 0; i < 8; ++i) {
    if (i == 4) code.push_back('-');
    code.push_back(kAlphabet[b[i] & 31]);  // 32 symbols: five bits, no modulo bias
  }
  return code;
}

Result<ConnectorIdentity> NewIdentity() {
  unsigned char u[16], secret[32];
  if (Status s = RandomBytes(u, sizeof u); !s.ok()) return Fail(s);
  if (Status s = RandomBytes(secret, sizeof secret); !s.ok()) return Fail(s);
  u[6] = static_cast<unsigned char>((u[6] & 0x0f) | 0x40);  // version 4
  u[8] = static_cast<unsigned char>((u[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string h = Hex(u, sizeof u);
  ConnectorIdentity id;
  id.uuid = h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
            "-" + h.substr(20);
  id.secret = Hex(secret, sizeof secret);
  auto code = GenerateClaimCode();
  if (!code) return Fail(code.error());
  id.claim_code = *code;
  return id;
}

IdentityStore::IdentityStore(std::string dir) : dir_(std::move(dir)) {}

std::string IdentityStore::path() const { return (fs::path(dir_) / "identity.json").string(); }

Result<ConnectorIdentity> IdentityStore::Load() {
  std::error_code ec;
  auto size = fs::file_size(path(), ec);
  if (ec) return Fail(FailedPrecondition("cannot read " + path() + ": " + ec.message()));
  if (size > 64 * 1024) return Fail(DataLoss("is larger than any identity file"));
  std::string text(size, '\0');
  int fd = ::open(path().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(FailedPrecondition(Errno("cannot open " + path())));
  ssize_t n = ::read(fd, text.data(), text.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()))
    return Fail(FailedPrecondition("short read of " + path()));

  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Fail(DataLoss("is not a JSON object"));
  auto str = [&j](const char* key) -> std::optional<std::string> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer() || *version != kFormatVersion) {
    return Fail(DataLoss("has no supported \"version\""));
  }
  ConnectorIdentity id;
  auto uuid = str("uuid"), secret = str("secret"), code = str("claim_code");
  auto fp = str("server_fingerprint"), name = str("name"), token = str("token");
  if (!uuid || !IsUuid(*uuid)) return Fail(DataLoss("has no valid \"uuid\""));
  if (!secret || !IsHex(*secret, 64)) return Fail(DataLoss("has no valid \"secret\""));
  if (!code || !IsClaimCode(*code)) return Fail(DataLoss("has no valid \"claim_code\""));
  if (!fp || !name || !token)
    return Fail(DataLoss("lacks \"server_fingerprint\", \"name\" or \"token\""));
  auto claimed_at = j.find("claimed_at_ms");
  if (claimed_at == j.end() || !claimed_at->is_number_integer()) {
    return Fail(DataLoss("has no valid \"claimed_at_ms\""));
  }
  if (!token->empty() && (name->empty() || fp->empty())) {
    return Fail(DataLoss("has a credential without a name or a pinned server certificate"));
  }
  id.uuid = *uuid;
  id.secret = *secret;
  id.claim_code = *code;
  id.server_fingerprint = *fp;
  id.name = *name;
  id.token = *token;
  id.claimed_at_ms = claimed_at->get<int64_t>();
  // Tighten permissions that someone loosened (a copied backup, say): the file holds secrets.
  struct stat st {};
  if (::stat(path().c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    spdlog::warn("identity: {} was readable by others; setting mode 0600", path());
    ::chmod(path().c_str(), 0600);
  }
  return id;
}

Result<ConnectorIdentity> IdentityStore::LoadOrCreate() {
  const std::string marker = (fs::path(dir_) / "identity.claimed").string();
  std::error_code ec;
  if (fs::exists(path(), ec)) {
    auto id = Load();
    if (id || id.error().code() != Code::kDataLoss) return id;
    const std::string why = path() + " " + id.error().message();
    if (fs::exists(marker, ec)) {
      return Fail(DataLoss(why +
                           "; this connector was claimed, so its credential is lost. Restore "
                           "the file from a backup, or delete " +
                           path() + " and " + marker +
                           " and claim the connector again (remove the old one on the server)"));
    }
    const std::string aside = path() + ".damaged";
    spdlog::error(
        "identity: {}; it was never claimed, so it is moved to {} and a new identity "
        "with a new claim code is created",
        why, aside);
    fs::rename(path(), aside, ec);
    if (ec) return Fail(FailedPrecondition("cannot move " + path() + " aside: " + ec.message()));
  } else if (ec) {
    return Fail(FailedPrecondition("cannot read " + path() + ": " + ec.message()));
  } else if (fs::exists(marker, ec)) {
    return Fail(DataLoss(path() + " is missing but " + marker +
                         " says this connector was claimed. Restore the file from a backup, or "
                         "delete " +
                         marker + " and claim the connector again"));
  }
  auto fresh = NewIdentity();
  if (!fresh) return fresh;
  if (Status s = Save(*fresh); !s.ok()) return Fail(s);
  spdlog::info("identity: created connector {} with claim code {}", fresh->uuid, fresh->claim_code);
  return fresh;
}

Status IdentityStore::Save(const ConnectorIdentity& id) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return FailedPrecondition("cannot create " + dir_ + ": " + ec.message());
  if (id.claimed()) {
    json marker = {{"uuid", id.uuid}, {"name", id.name}, {"claimed_at_ms", id.claimed_at_ms}};
    if (Status s = WriteFileAtomically((fs::path(dir_) / "identity.claimed").string(),
                                       marker.dump() + "\n");
        !s.ok())
      return s;
  }
  json j = {{"version", kFormatVersion},
            {"uuid", id.uuid},
            {"secret", id.secret},
            {"claim_code", id.claim_code},
            {"server_fingerprint", id.server_fingerprint},
            {"name", id.name},
            {"token", id.token},
            {"claimed_at_ms", id.claimed_at_ms}};
  return WriteFileAtomically(path(), j.dump(2) + "\n");
}

std::string_view ClaimPhaseName(ClaimPhase phase) {
  switch (phase) {
    case ClaimPhase::kUnconfigured:
      return "unconfigured";
    case ClaimPhase::kAnnouncing:
      return "announcing";
    case ClaimPhase::kWaiting:
      return "waiting";
    case ClaimPhase::kClaimed:
      return "claimed";
    case ClaimPhase::kError:
      return "error";
  }
  return "unknown";
}

struct Claimer::Loop : std::enable_shared_from_this<Loop> {
  asio::io_context& io;
  ClaimerConfig config;
  OnClaimed on_claimed;
  IdentityStore store;
  ConnectorIdentity identity;
  std::string host;
  uint16_t port = 0;
  std::unique_ptr<http::HttpsClient> client;
  // The fingerprint of the certificate the server presented in the last handshake.
  std::shared_ptr<std::string> seen = std::make_shared<std::string>();
  asio::steady_timer timer;
  bool stopped = false;

  mutable std::mutex mu;  // guards state
  ClaimState state;

  Loop(asio::io_context& io, ClaimerConfig config, OnClaimed on_claimed)
      : io(io),
        config(std::move(config)),
        on_claimed(std::move(on_claimed)),
        store(this->config.data_dir),
        timer(io) {}

  void Set(ClaimPhase phase, std::string error = "", int64_t expires_ms = -1) {
    std::lock_guard lock(mu);
    state.phase = phase;
    state.last_error = std::move(error);
    state.claim_code = identity.claim_code;
    state.server_fingerprint = identity.server_fingerprint;
    state.connector_name = identity.name;
    if (expires_ms >= 0) state.expires_ms = expires_ms;
  }

  Status MakeClient() {
    std::shared_ptr<asio::ssl::context> tls;
    std::weak_ptr<std::string> weak = seen;
    auto observer = [weak](const std::string& fp) {
      if (auto s = weak.lock()) *s = fp;
    };
    if (identity.server_fingerprint.empty()) {
      tls = http::MakeTrustOnFirstUseClientContext(observer);
    } else {
      auto pinned = http::MakeFingerprintPinnedClientContext(identity.server_fingerprint, observer);
      if (!pinned) return pinned.error();
      tls = *pinned;
    }
    client = std::make_unique<http::HttpsClient>(io.get_executor(), tls, host, port);
    return Status::Ok();
  }

  // After any exchange: the first certificate ever seen becomes the pinned one.
  Status PinFirstCertificate() {
    if (!identity.server_fingerprint.empty() || seen->empty()) return Status::Ok();
    identity.server_fingerprint = *seen;
    if (Status s = store.Save(identity); !s.ok()) return s;
    spdlog::warn(
        "claiming: trusting the server's certificate on first use, SHA-256 fingerprint {}; "
        "compare it with the fingerprint the server shows when you claim this connector",
        identity.server_fingerprint);
    client->Close();
    return MakeClient();
  }

  // Why a request failed, naming a certificate that differs from the pinned one.
  Status Explain(const Status& s) const {
    if (!identity.server_fingerprint.empty() && !seen->empty() &&
        *seen != identity.server_fingerprint) {
      return Unavailable("the server presented the certificate " + *seen +
                         ", but this connector trusts only " + identity.server_fingerprint +
                         " (if the server's certificate was replaced on purpose, delete " +
                         store.path() + " before it is claimed)");
    }
    return s;
  }

  asio::awaitable<Result<http::ClientResponse>> Send(
      boost::beast::http::verb verb, std::string target, std::string body,
      std::vector<std::pair<std::string, std::string>> headers) {
    auto res =
        co_await client->Send(verb, std::move(target), body.empty() ? "" : "application/json",
                              std::move(body), std::move(headers), config.timeout);
    if (Status s = PinFirstCertificate(); !s.ok()) co_return Fail(s);
    if (!res) co_return Fail(Explain(res.error()));
    co_return res;
  }

  // Returns whether the server already considers us claimed.
  asio::awaitable<Result<bool>> Announce() {
    json body = {{"uuid", identity.uuid},
                 {"code", identity.claim_code},
                 {"secret_hash", Sha256Hex(identity.secret)},
                 {"name", config.name},
                 {"version", config.version}};
    std::vector<std::pair<std::string, std::string>> headers;
    auto res = co_await Send(boost::beast::http::verb::post, "/api/v1/claims", body.dump(),
                             std::move(headers));
    if (!res) co_return Fail(res.error());
    if (res->status != 200) {
      co_return Fail(Unavailable("announcement refused (" + std::to_string(res->status) +
                                 "): " + MessageOf(*res)));
    }
    auto j = json::parse(res->body, nullptr, false);
    if (!j.is_object() || !j.contains("status") || !j["status"].is_string()) {
      co_return Fail(Unavailable("unexpected answer to the announcement"));
    }
    if (j.contains("expires_ms") && j["expires_ms"].is_number_integer()) {
      std::lock_guard lock(mu);
      state.expires_ms = j["expires_ms"].get<int64_t>();
    }
    co_return j["status"] == "claimed";
  }

  enum class PollResult { kPending, kUnknown, kClaimed };

  asio::awaitable<Result<PollResult>> Poll() {
    std::vector<std::pair<std::string, std::string>> headers;
    headers.emplace_back("X-Claim-Secret", identity.secret);
    auto res = co_await Send(boost::beast::http::verb::get, "/api/v1/claims/" + identity.uuid, "",
                             std::move(headers));
    if (!res) co_return Fail(res.error());
    if (res->status == 404) co_return PollResult::kUnknown;
    if (res->status != 200) {
      co_return Fail(Unavailable("claim poll refused (" + std::to_string(res->status) +
                                 "): " + MessageOf(*res)));
    }
    auto j = json::parse(res->body, nullptr, false);
    if (!j.is_object() || !j.contains("status") || !j["status"].is_string()) {
      co_return Fail(Unavailable("unexpected answer to the claim poll"));
    }
    if (j["status"] != "claimed") {
      if (j.contains("expires_ms") && j["expires_ms"].is_number_integer()) {
        std::lock_guard lock(mu);
        state.expires_ms = j["expires_ms"].get<int64_t>();
      }
      co_return PollResult::kPending;
    }
    if (!j.contains("name") || !j["name"].is_string() || !j.contains("token") ||
        !j["token"].is_string() || j["token"].get<std::string>().size() < 16 ||
        j["name"].get<std::string>().empty()) {
      co_return Fail(Unavailable("the server's claim answer lacks a name or credential"));
    }
    ConnectorIdentity claimed = identity;
    claimed.name = j["name"].get<std::string>();
    claimed.token = j["token"].get<std::string>();
    claimed.claimed_at_ms = ToUnixMs(RealTime().SystemNow());
    // Stored before use: a crash now costs at most one more poll (which issues a new token).
    if (Status s = store.Save(claimed); !s.ok()) co_return Fail(s);
    identity = std::move(claimed);
    co_return PollResult::kClaimed;
  }

  asio::awaitable<void> Sleep(std::chrono::milliseconds d) {
    timer.expires_after(d);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  void Claimed() {
    Set(ClaimPhase::kClaimed);
    spdlog::info("claiming: claimed as '{}'; server certificate pinned ({})", identity.name,
                 identity.server_fingerprint);
    client.reset();
    if (on_claimed) on_claimed(identity);
  }

  asio::awaitable<void> Run() {
    auto self = shared_from_this();
    std::chrono::milliseconds backoff = config.poll_interval;
    bool announced = false;
    auto next_announce = std::chrono::steady_clock::now();
    while (!stopped) {
      Status failure;
      if (std::chrono::steady_clock::now() >= next_announce) {
        if (!announced) Set(ClaimPhase::kAnnouncing);
        auto a = co_await Announce();
        if (stopped) break;
        if (a) {
          if (!announced) {
            spdlog::info(
                "claiming: waiting to be claimed on {}:{} with claim code {} (enter it on the "
                "server: POST /api/v1/connectors/claim)",
                host, port, identity.claim_code);
          }
          announced = true;
          next_announce = std::chrono::steady_clock::now() + config.announce_interval;
          Set(ClaimPhase::kWaiting);
        } else {
          failure = a.error();
        }
      }
      if (failure.ok()) {
        auto p = co_await Poll();
        if (stopped) break;
        if (!p) {
          failure = p.error();
        } else if (*p == PollResult::kClaimed) {
          Claimed();
          co_return;
        } else if (*p == PollResult::kUnknown) {
          // The server forgot us (expired, or a fresh database): announce again at once.
          next_announce = std::chrono::steady_clock::now();
          announced = false;
        }
      }
      if (!failure.ok()) {
        spdlog::warn("claiming: {} (retrying in {} ms)", failure.message(), backoff.count());
        Set(ClaimPhase::kError, failure.message());
        co_await Sleep(backoff);
        backoff = std::min(backoff * 2, config.max_backoff);
        continue;
      }
      backoff = config.poll_interval;
      co_await Sleep(config.poll_interval);
    }
  }
};

Claimer::Claimer(asio::io_context& io, ClaimerConfig config, OnClaimed on_claimed)
    : loop_(std::make_shared<Loop>(io, std::move(config), std::move(on_claimed))) {}

Claimer::~Claimer() { Stop(); }

Status Claimer::Start(const std::string& server_url) {
  Loop& l = *loop_;
  auto hp = ParseHttpsUrl(server_url);
  if (!hp) return hp.error();
  l.host = hp->first;
  l.port = hp->second;
  auto id = l.store.LoadOrCreate();
  if (!id) return id.error();
  l.identity = std::move(*id);
  {
    std::lock_guard lock(l.mu);
    l.state.server_url = server_url;
  }
  if (!l.config.server_cert.empty()) {
    // A configured certificate replaces trust on first use.
    auto fp = http::CertificateFingerprintFromFile(l.config.server_cert);
    if (!fp) return fp.error();
    if (l.identity.server_fingerprint != *fp) {
      if (l.identity.claimed() && !l.identity.server_fingerprint.empty()) {
        spdlog::warn("claiming: uplink.server_cert {} replaces the pinned certificate {}",
                     l.config.server_cert, l.identity.server_fingerprint);
      }
      l.identity.server_fingerprint = *fp;
      if (Status s = l.store.Save(l.identity); !s.ok()) return s;
    }
  }
  if (l.identity.claimed()) {
    spdlog::info("claiming: this connector was claimed as '{}'", l.identity.name);
    l.Claimed();
    return Status::Ok();
  }
  l.Set(ClaimPhase::kAnnouncing);
  if (Status s = l.MakeClient(); !s.ok()) return s;
  spdlog::info("claiming: not claimed yet; claim code {}", l.identity.claim_code);
  asio::co_spawn(l.io, l.Run(), asio::detached);
  return Status::Ok();
}

void Claimer::Stop() {
  Loop& l = *loop_;
  if (l.stopped) return;
  l.stopped = true;
  l.timer.cancel();
  if (l.client) l.client->Close();
}

ClaimState Claimer::state() const {
  std::lock_guard lock(loop_->mu);
  return loop_->state;
}

}  // namespace wattline::edge
