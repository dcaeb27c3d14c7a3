#include "edge/web/web_api.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "http/tls.h"
#include "server/password.h"

extern char** environ;

namespace wattline::edge::web {
namespace fs = std::filesystem;
namespace bhttp = boost::beast::http;
using http::Request;
using http::Response;
using nlohmann::json;

namespace {

constexpr char kCookie[] = "wl_connector";
constexpr size_t kMaxDriverBytes = 1 << 20;

Response Error(const Status& s, const Request& req, json extra = json::object()) {
  if (s.code() != Code::kUnauthenticated) {
    spdlog::warn("web: {} {} from {}: {}", std::string(req.raw.method_string()), req.path,
                 req.remote, s.ToString());
  }
  json err = {{"code", CodeName(s.code())}, {"message", s.message()}};
  for (auto& [k, v] : extra.items()) err[k] = v;
  return Response::Json(json{{"error", err}}, http::HttpStatusFor(s.code()));
}

// "port: must be ..." -> field "port" for the UI to mark the input.
Response FieldError(const Status& s, const Request& req) {
  size_t colon = s.message().find(": ");
  json extra = json::object();
  if (colon != std::string::npos && colon < 20) extra["field"] = s.message().substr(0, colon);
  return Error(s, req, extra);
}

Result<json> ParseBody(const Request& req) {
  json body = json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return Fail(InvalidArgument("the body must be a JSON object"));
  return body;
}

bool ValidKey(std::string_view key) {
  if (key.empty() || key.size() > 64) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

bool ValidHost(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == ':';
  });
}

// An integer member of `body` in [lo, hi], or `fallback` when absent.
Result<int64_t> IntField(const json& body, const char* name, int64_t fallback, int64_t lo,
                         int64_t hi) {
  if (!body.contains(name) || body[name].is_null()) {
    if (fallback < lo) return Fail(InvalidArgument(fmt::format("{}: is required", name)));
    return fallback;
  }
  const json& v = body[name];
  if (!v.is_number_integer()) {
    return Fail(
        InvalidArgument(fmt::format("{}: must be a whole number from {} to {}", name, lo, hi)));
  }
  int64_t x = v.get<int64_t>();
  if (x < lo || x > hi) {
    return Fail(InvalidArgument(fmt::format("{}: must be from {} to {}, got {}", name, lo, hi, x)));
  }
  return x;
}

Result<std::string> StringField(const json& body, const char* name, bool required,
                                std::string fallback = "") {
  if (!body.contains(name) || body[name].is_null()) {
    if (required) return Fail(InvalidArgument(fmt::format("{}: is required", name)));
    return fallback;
  }
  if (!body[name].is_string())
    return Fail(InvalidArgument(fmt::format("{}: must be a string", name)));
  return body[name].get<std::string>();
}

// A meter from the UI's JSON; every problem names its field first ("port: ...").
Result<MeterConfig> ParseMeter(const json& body, const profiles::ProfileRegistry& registry) {
  MeterConfig m;
  auto key = StringField(body, "key", true);
  if (!key) return Fail(key.error());
  if (!ValidKey(*key)) {
    return Fail(InvalidArgument(
        "key: use 1 to 64 letters, digits, '-', '_' or '.' (it names the meter on the server)"));
  }
  m.key = *key;
  auto profile = StringField(body, "profile", true);
  if (!profile) return Fail(profile.error());
  if (registry.Find(*profile) == nullptr) {
    return Fail(InvalidArgument("profile: no driver named '" + *profile + "'"));
  }
  m.profile = *profile;
  auto transport = StringField(body, "transport", false, "tcp");
  if (!transport) return Fail(transport.error());
  auto parsed = ParseTransport(*transport);
  if (!parsed) return Fail(InvalidArgument("transport: must be tcp, rtu-over-tcp or serial"));
  m.transport = *parsed;
  if (m.transport == Transport::kSerial) {
    auto dev = StringField(body, "serial_port", true);
    if (!dev) return Fail(dev.error());
    if (dev->rfind("/dev/", 0) != 0 || dev->size() > 128 || dev->find("..") != std::string::npos) {
      return Fail(InvalidArgument("serial_port: must be a device such as /dev/ttyUSB0"));
    }
    m.serial.device = *dev;
  } else {
    auto host = StringField(body, "host", true);
    if (!host) return Fail(host.error());
    if (!ValidHost(*host)) {
      return Fail(InvalidArgument("host: must be an IP address or a host name"));
    }
    m.host = *host;
    auto port = IntField(body, "port", 502, 1, 65535);
    if (!port) return Fail(port.error());
    m.port = static_cast<uint16_t>(*port);
  }
  // Modbus TCP devices answer unit ids 0..255; on an RS-485 line only 1..247 are addresses.
  const bool rtu = m.transport != Transport::kTcp;
  auto unit = IntField(body, "unit_id", 1, rtu ? 1 : 0, rtu ? 247 : 255);
  if (!unit) return Fail(unit.error());
  m.unit_id = static_cast<uint8_t>(*unit);
  auto cycle = IntField(body, "cycle_ms", 1000, 100, 86'400'000);
  if (!cycle) return Fail(cycle.error());
  m.cycle = std::chrono::milliseconds(*cycle);
  if (rtu) {
    auto baud = IntField(body, "baud", 9600, 300, 4'000'000);
    if (!baud) return Fail(baud.error());
    static const std::set<int64_t> kBauds = {1200,  2400,  4800,  9600,   14400,
                                             19200, 38400, 57600, 115200, 230400};
    if (!kBauds.count(*baud)) {
      return Fail(InvalidArgument("baud: must be a standard rate such as 9600, 19200 or 38400"));
    }
    m.serial.baud = static_cast<uint32_t>(*baud);
    auto parity = StringField(body, "parity", false, "E");
    if (!parity) return Fail(parity.error());
    auto p = modbus::ParseParity(*parity);
    if (!p) return Fail(InvalidArgument("parity: must be N, E or O"));
    m.serial.parity = *p;
    auto stop = IntField(body, "stop_bits", 1, 1, 2);
    if (!stop) return Fail(stop.error());
    m.serial.stop_bits = static_cast<uint8_t>(*stop);
  }
  return m;
}

// "HH:MM" with HH 0..23 and MM 0..59.
// "HH:MM" -> the time of day; nullopt for anything else.
std::optional<std::chrono::seconds> ParseTimeOfDay(const std::string& t) {
  if (t.size() != 5 || t[2] != ':' || !std::isdigit(static_cast<unsigned char>(t[0])) ||
      !std::isdigit(static_cast<unsigned char>(t[1])) ||
      !std::isdigit(static_cast<unsigned char>(t[3])) ||
      !std::isdigit(static_cast<unsigned char>(t[4]))) {
    return std::nullopt;
  }
  int h = (t[0] - '0') * 10 + (t[1] - '0'), m = (t[3] - '0') * 10 + (t[4] - '0');
  if (h >= 24 || m >= 60) return std::nullopt;
  return std::chrono::hours(h) + std::chrono::minutes(m);
}

bool ValidIpv4(const std::string& s) {
  boost::system::error_code ec;
  boost::asio::ip::make_address_v4(s, ec);
  return !ec && s.find_first_not_of("0123456789.") == std::string::npos;
}

// "192.168.1.10/24".
bool ValidIpv4Cidr(const std::string& s) {
  size_t slash = s.find('/');
  if (slash == std::string::npos || !ValidIpv4(s.substr(0, slash))) return false;
  int prefix = 0;
  const char* b = s.data() + slash + 1;
  const char* e = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(b, e, prefix);
  return ec == std::errc() && ptr == e && b != e && prefix >= 1 && prefix <= 32;
}

// Runs a program without a shell; its standard output, or kUnavailable.
Result<std::string> RunProgram(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe(fds) != 0) return Fail(Unavailable("pipe failed"));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return Fail(Unavailable("cannot run " + argv[0]));
  }
  std::string out;
  std::array<char, 4096> buf;
  ssize_t n = 0;
  while ((n = ::read(fds[0], buf.data(), buf.size())) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) out.append(buf.data(), static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Fail(Unavailable(argv[0] + " failed: " + out.substr(0, 200)));
  }
  return out;
}

std::string MachineSerial(const std::string& connector_id) {
  std::ifstream in("/etc/machine-id");
  std::string id;
  if (!in || !std::getline(in, id) || id.empty()) id = connector_id;
  std::string hex = server::TokenHash("wattline-connector:" + id).substr(0, 12);
  for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return "WL-" + hex;
}

}  // namespace

Result<std::unique_ptr<profiles::ProfileRegistry>> LoadDrivers(const fs::path& profiles_dir,
                                                               const fs::path& drivers_dir) {
  auto registry = std::make_unique<profiles::ProfileRegistry>();
  if (Status s = registry->LoadDirectory(profiles_dir); !s.ok()) return Fail(s);
  std::error_code ec;
  fs::create_directories(drivers_dir, ec);
  if (ec) {
    return Fail(FailedPrecondition("cannot create " + drivers_dir.string() + ": " + ec.message()));
  }
  if (Status s = registry->LoadDirectory(drivers_dir); !s.ok()) return Fail(s);
  return registry;
}

WebApi::WebApi(WebApiConfig config, ConnectorHooks hooks, TimeSource& time)
    : config_(std::move(config)), hooks_(std::move(hooks)), time_(time), sessions_(time) {}

Status WebApi::Start() {
  auto hash = LoadPasswordHash(config_.data_dir / "web" / "password");
  if (!hash) return hash.error();
  if (*hash) {
    password_hash_ = **hash;
    must_change_password_ = false;
  } else {
    auto h = server::HashPassword(kDefaultPassword);
    if (!h) return h.error();
    password_hash_ = *h;
    must_change_password_ = true;
    spdlog::warn(
        "web UI: the default password is in force (user '{}', see "
        "docs/connector-api.md); the first login must change it",
        kAdminUser);
  }
  auto settings = LoadSettings(config_.data_dir / "settings.toml");
  if (!settings) return settings.error();
  settings_ = *settings;
  if (!ParseTimeOfDay(settings_.time_sync_at)) {
    return InvalidArgument((config_.data_dir / "settings.toml").string() +
                           ": time_sync_at must be HH:MM (UTC), e.g. 00:05");
  }
  ApplyClockSync();
  auto ui = LoadMeterFile(config_.data_dir / "meters.toml");
  if (!ui) return ui.error();
  ui_ = std::move(*ui);
  std::set<std::string> keys;
  for (const auto& m : config_.config_meters) keys.insert(m.key);
  for (const auto& m : ui_.meters) {
    if (!keys.insert(m.key).second) {
      return FailedPrecondition("meter '" + m.key + "' of " +
                                (config_.data_dir / "meters.toml").string() +
                                " is also in the configuration; remove one of them");
    }
  }
  for (const auto& m : ui_.meters) {
    if (hooks_.registry().Find(m.profile) == nullptr) {
      spdlog::error(
          "web UI: meter '{}' needs driver '{}', which is not installed; it is not "
          "polled until the driver is uploaded again",
          m.key, m.profile);
    }
  }
  if (Status s = hooks_.apply_meters(PolledMeters()); !s.ok()) return s;
  if (settings_.initial_scan_done) StartContinuousDiscovery();
  return Status::Ok();
}

void WebApi::ApplyClockSync() {
  if (!hooks_.set_clock_sync) return;
  hooks_.set_clock_sync(settings_.time_sync ? ParseTimeOfDay(settings_.time_sync_at)
                                            : std::nullopt);
}

void WebApi::Register(http::Router& router) {
  auto add = [&](bhttp::verb verb, const char* path, Response (WebApi::*fn)(Request&)) {
    router.Add(verb, std::string("/api/v1") + path,
               [this, fn](Request& r) { return (this->*fn)(r); });
  };
  add(bhttp::verb::post, "/login", &WebApi::Login);
  add(bhttp::verb::post, "/logout", &WebApi::Logout);
  add(bhttp::verb::get, "/me", &WebApi::Me);
  add(bhttp::verb::post, "/password", &WebApi::ChangePassword);
  add(bhttp::verb::get, "/overview", &WebApi::Overview);
  add(bhttp::verb::get, "/meters", &WebApi::ListMeters);
  add(bhttp::verb::post, "/meters", &WebApi::AddMeter);
  add(bhttp::verb::put, "/meters/{key}", &WebApi::EditMeter);
  add(bhttp::verb::post, "/meters/remove", &WebApi::RemoveMeters);
  add(bhttp::verb::post, "/meters/unignore", &WebApi::Unignore);
  add(bhttp::verb::get, "/drivers", &WebApi::ListDrivers);
  add(bhttp::verb::post, "/drivers", &WebApi::UploadDriver);
  add(bhttp::verb::delete_, "/drivers/{id}", &WebApi::DeleteDriver);
  add(bhttp::verb::get, "/settings", &WebApi::GetSettings);
  add(bhttp::verb::put, "/settings", &WebApi::PutSettings);
  add(bhttp::verb::put, "/settings/network", &WebApi::PutNetwork);
  add(bhttp::verb::get, "/diagnostics", &WebApi::Diagnostics);
  add(bhttp::verb::get, "/scan", &WebApi::Scan);
  add(bhttp::verb::post, "/scan", &WebApi::StartScan);
  add(bhttp::verb::post, "/scan/finish", &WebApi::FinishScan);
}

std::vector<MeterConfig> WebApi::AllMeters() const {
  std::vector<MeterConfig> all = config_.config_meters;
  all.insert(all.end(), ui_.meters.begin(), ui_.meters.end());
  return all;
}

Status WebApi::ReloadDrivers() {
  if (Status s = hooks_.reload_drivers(); !s.ok()) return s;
  if (scan_) scan_->DriversChanged();
  // The poller moves to the new registry (and picks up meters whose driver just arrived).
  return hooks_.apply_meters(PolledMeters());
}

std::vector<MeterConfig> WebApi::PolledMeters() const {
  std::vector<MeterConfig> out = config_.config_meters;
  for (const auto& m : ui_.meters) {
    if (hooks_.registry().Find(m.profile) != nullptr) out.push_back(m);
  }
  return out;
}

bool WebApi::IsIgnored(const std::string& endpoint_id) const {
  return std::find(ui_.ignored.begin(), ui_.ignored.end(), endpoint_id) != ui_.ignored.end();
}

Result<server::Session> WebApi::Authenticate(const Request& req, Access access) {
  auto s = sessions_.Find(req.Cookie(kCookie));
  if (!s) return s;
  // SameSite=Strict keeps cross-site requests cookie-less; the header is a second line that a
  // cross-site form cannot send.
  if (access != Access::kRead && req.Header("X-Requested-With") != "wattline") {
    return Fail(PermissionDenied("missing header X-Requested-With: wattline"));
  }
  return s;
}

std::optional<Response> WebApi::Deny(const Request& req, Access access) {
  auto s = Authenticate(req, access);
  if (!s) return Error(s.error(), req);
  if (must_change_password_ && access != Access::kWriteBeforePasswordChange) {
    json body = {{"error",
                  {{"code", "password_change_required"},
                   {"message", "change the default password first (POST /api/v1/password)"}}}};
    return Response::Json(body, 403);
  }
  return std::nullopt;
}

Response WebApi::Login(Request& req) {
  if (req.Header("X-Requested-With") != "wattline") {
    return Error(PermissionDenied("missing header X-Requested-With: wattline"), req);
  }
  auto body = ParseBody(req);
  if (!body) return Error(body.error(), req);
  auto user = StringField(*body, "username", true);
  auto password = StringField(*body, "password", true);
  if (!user || !password) {
    return Error(InvalidArgument("expected {\"username\": ..., \"password\": ...}"), req);
  }
  // One throttle for the whole connector: there is one user, and failures for made-up user
  // names must count too.
  if (Status s = sessions_.LoginAllowed(kAdminUser, req.remote); !s.ok()) return Error(s, req);
  bool ok = server::VerifyPassword(*password, password_hash_) && *user == kAdminUser;
  if (!ok) {
    sessions_.LoginFailed(kAdminUser, req.remote);
    spdlog::warn("web: failed login for '{}' from {}", *user, req.remote);
    return Response::Error(Unauthenticated("wrong user name or password"));
  }
  sessions_.LoginSucceeded(kAdminUser);
  server::Session session;
  session.user_id = 1;
  session.username = kAdminUser;
  session.role = "admin";
  std::string token = sessions_.Create(session);
  spdlog::info("web: '{}' logged in from {}", *user, req.remote);
  Response r = Response::Json(
      json{{"username", kAdminUser}, {"must_change_password", must_change_password_}});
  r.SetSessionCookie(kCookie, token);
  return r;
}

Response WebApi::Logout(Request& req) {
  if (auto denied = Deny(req, Access::kWriteBeforePasswordChange)) return *denied;
  sessions_.Remove(req.Cookie(kCookie));
  Response r = Response::NoContent();
  r.SetSessionCookie(kCookie, "");
  return r;
}

Response WebApi::Me(Request& req) {
  auto s = Authenticate(req, Access::kRead);
  if (!s) return Error(s.error(), req);
  return Response::Json(
      json{{"username", s->username}, {"must_change_password", must_change_password_}});
}

Response WebApi::ChangePassword(Request& req) {
  if (auto denied = Deny(req, Access::kWriteBeforePasswordChange)) return *denied;
  auto body = ParseBody(req);
  if (!body) return Error(body.error(), req);
  auto current = StringField(*body, "current_password", true);
  auto next = StringField(*body, "new_password", true);
  if (!current || !next) {
    return Error(InvalidArgument("expected {\"current_password\": ..., \"new_password\": ...}"),
                 req);
  }
  if (Status s = sessions_.LoginAllowed(kAdminUser, req.remote); !s.ok()) return Error(s, req);
  if (!server::VerifyPassword(*current, password_hash_)) {
    sessions_.LoginFailed(kAdminUser, req.remote);
    return FieldError(PermissionDenied("current_password: is wrong"), req);
  }
  if (next->size() < kMinPasswordLength || next->size() > 256) {
    return FieldError(InvalidArgument(fmt::format("new_password: must have {} to 256 characters",
                                                  kMinPasswordLength)),
                      req);
  }
  if (*next == kDefaultPassword || *next == *current) {
    return FieldError(InvalidArgument("new_password: must differ from the current password"), req);
  }
  auto hash = server::HashPassword(*next);
  if (!hash) return Error(hash.error(), req);
  std::error_code ec;
  fs::create_directories(config_.data_dir / "web", ec);
  fs::permissions(config_.data_dir / "web", fs::perms::owner_all, ec);
  if (Status s = WriteFileAtomically(config_.data_dir / "web" / "password", *hash + "\n");
      !s.ok()) {
    return Error(s, req);
  }
  password_hash_ = *hash;
  must_change_password_ = false;
  spdlog::info("web: the admin password was changed from {}", req.remote);
  return Response::Json(json{{"username", kAdminUser}, {"must_change_password", false}});
}

Response WebApi::Overview(Request& req) {
  if (auto denied = Deny(req, Access::kRead)) return *denied;
  auto statuses = hooks_.meter_statuses();
  int64_t last_read = 0;
  size_t ok = 0, failing = 0;
  for (const auto& s : statuses) {
    last_read = std::max(last_read, s.last_success_ts_ms);
    if (!s.last_error.ok()) {
      ++failing;
    } else if (s.last_success_ts_ms > 0) {
      ++ok;
    }
  }
  json server = {{"state", "unknown"}};
  int64_t last_tx = 0;
  if (hooks_.uplink) {
    UplinkInfo u = hooks_.uplink();
    last_tx = u.last_success_ms;
    const char* state = u.server_url.empty()    ? "not configured"
                        : !u.last_error.empty() ? "error"
                        : u.last_success_ms > 0 ? "connected"
                                                : "connecting";
    server = {{"state", state}, {"url", u.server_url}, {"last_error", u.last_error}};
  }
  json claim = hooks_.claim ? hooks_.claim() : json{{"available", false}};
  return Response::Json(
      json{{"name", settings_.name.empty() ? config_.connector_id : settings_.name},
           {"connector_id", config_.connector_id},
           {"serial_number", MachineSerial(config_.connector_id)},
           {"version", config_.version},
           {"server", server},
           {"last_read_ms", last_read},
           {"last_transmission_ms", last_tx},
           {"meters", {{"total", statuses.size()}, {"ok", ok}, {"error", failing}}},
           {"claim", claim}});
}

json WebApi::MeterJson(const MeterConfig& m, bool read_only,
                       const std::vector<MeterStatus>& statuses) const {
  const profiles::Profile* p = hooks_.registry().Find(m.profile);
  json j = {{"key", m.key},
            {"profile", m.profile},
            {"type", p ? p->DisplayName() : m.profile},
            {"vendor", p ? p->vendor : ""},
            {"own_brand", p != nullptr && p->vendor == "Wattline"},
            {"serial", nullptr},
            {"transport", std::string(TransportName(m.transport))},
            {"unit_id", m.unit_id},
            {"cycle_ms", m.cycle.count()},
            {"source", read_only ? "config" : "ui"},
            {"read_only", read_only},
            {"endpoint", EndpointId(m)}};
  if (m.transport == Transport::kSerial) {
    j["serial_port"] = m.serial.device;
  } else {
    j["host"] = m.host;
    j["port"] = m.port;
  }
  if (m.transport != Transport::kTcp) {
    j["baud"] = m.serial.baud;
    j["parity"] = std::string(1, "NEO"[static_cast<int>(m.serial.parity)]);
    j["stop_bits"] = m.serial.stop_bits;
  }
  json state = {{"state", "waiting"}, {"error", nullptr}};
  for (const auto& s : statuses) {
    if (s.key != m.key) continue;
    if (auto it = s.identity.find("serial_number"); it != s.identity.end())
      j["serial"] = it->second;
    state = {{"state", !s.last_error.ok()         ? "error"
                       : s.last_success_ts_ms > 0 ? "ok"
                                                  : "waiting"},
             {"error", s.last_error.ok() ? json() : json(s.last_error.message())},
             {"response_time_ms", s.last_response_time_ms},
             {"requests", s.request_count},
             {"errors", s.error_count},
             {"splits", s.split_count},
             {"last_read_ms", s.last_success_ts_ms}};
  }
  if (p == nullptr) {
    state = {{"state", "error"},
             {"error", "driver '" + m.profile + "' is not installed; the meter is not polled"}};
  }
  j["status"] = state;
  return j;
}

Response WebApi::ListMeters(Request& req) {
  if (auto denied = Deny(req, Access::kRead)) return *denied;
  auto statuses = hooks_.meter_statuses();
  auto all = AllMeters();
  // Several meters at one host:port sit behind a gateway: that is how the UI groups them.
  std::map<std::string, int> per_endpoint;
  for (const auto& m : all) {
    if (m.transport != Transport::kSerial) ++per_endpoint[m.host + ":" + std::to_string(m.port)];
  }
  json meters = json::array();
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& m = all[i];
    json j = MeterJson(m, i < config_.config_meters.size(), statuses);
    std::string connection = m.transport == Transport::kSerial ? "serial"
                             : m.transport == Transport::kRtuOverTcp ||
                                     per_endpoint[m.host + ":" + std::to_string(m.port)] > 1
                                 ? "gateway"
                                 : "tcp";
    j["connection"] = connection;
    meters.push_back(std::move(j));
  }
  return Response::Json(json{{"meters", meters}, {"ignored", ui_.ignored}});
}

Status WebApi::SaveAndApply(MeterFile next) {
  const fs::path path = config_.data_dir / "meters.toml";
  MeterFile previous = ui_;
  if (Status s = SaveMeterFile(path, next); !s.ok()) return s;
  ui_ = std::move(next);
  if (Status s = hooks_.apply_meters(PolledMeters()); !s.ok()) {
    // Put back what ran before, on disk and in the poller.
    ui_ = std::move(previous);
    if (Status r = SaveMeterFile(path, ui_); !r.ok()) spdlog::error("web: {}", r.ToString());
    if (Status r = hooks_.apply_meters(PolledMeters()); !r.ok()) {
      spdlog::error("web: cannot restore the previous meters: {}", r.ToString());
    }
    return s;
  }
  return Status::Ok();
}

Response WebApi::AddMeter(Request& req) {
  if (auto denied = Deny(req, Access::kWrite)) return *denied;
  auto body = ParseBody(req);
  if (!body) return Error(body.error(), req);
  auto meter = ParseMeter(*body, hooks_.registry());
  if (!meter) return FieldError(meter.error(), req);
  for (const auto& m : AllMeters()) {
    if (m.key == meter->key) {
      return FieldError(Status(Code::kAlreadyExists, "key: a meter named '" + m.key + "' exists"),
                        req);
    }
  }
  MeterFile next = ui_;
  next.meters.push_back(*meter);
  // Adding a meter by hand takes it off the ignore list.
  std::erase(next.ignored, EndpointId(*meter));
  if (Status s = SaveAndApply(std::move(next)); !s.ok()) return Error(s, req);
  spdlog::info("web: meter '{}' added ({}, {})", meter->key, meter->profile, EndpointId(*meter));
  return Response::Json(MeterJson(*meter, false, {}), 201);
}

Response WebApi::EditMeter(Request& req) {
  if (auto denied = Deny(req, Access::kWrite)) return *denied;
  const std::string key = req.path_params["key"];
  auto it = std::find_if(ui_.meters.begin(), ui_.meters.end(),
                         [&](const MeterConfig& m) { return m.key == key; });
  if (it == ui_.meters.end()) {
    for (const auto& m : config_.config_meters) {
      if (m.key == key) {
        return Error(FailedPrecondition("meter '" + key +
                                        "' comes from the configuration file; change it there"),
                     req);
      }
    }
    return Error(NotFound("no meter named '" + key + "'"), req);
  }
  auto body = ParseBody(req);
  if (!body) return Error(body.error(), req);
  if (!body->contains("key")) (*body)["key"] = key;
  auto meter = ParseMeter(*body, hooks_.registry());
  if (!meter) return FieldError(meter.error(), req);
  if (meter->key != key) {
    for (const auto& m : AllMeters()) {
      if (m.key == meter->key) {
        return FieldError(Status(Code::kAlreadyExists, "key: a meter named '" + m.key + "' exists"),
                          req);
      }
    }
  }
  MeterFile next = ui_;
  next.meters[static_cast<size_t>(it - ui_.meters.begin())] = *meter;
  if (Status s = SaveAndApply(std::move(next)); !s.ok()) return Error(s, req);
  spdlog::info("web: meter '{}' changed", meter->key);
  return Response::Json(MeterJson(*meter, false, {}));
}

Response WebApi::RemoveMeters(Request& req) {
  if (auto denied = Deny(req, Access::kWrite)) return *denied;
  auto body = ParseBody(req);
  if (!body) return Error(body.error(), req);
  if (!body->contains("keys") || !(*body)["keys"].is_array() || (*body)["keys"].empty()) {
    return Error(InvalidArgument("keys: list the meters to remove"), req);
  }
  bool ignore = body->value("ignore", false);
  MeterFile next = ui_;
  std::vector<std::string> removed;
  for (const auto& k : (*body)["keys"]) {
    if (!k.is_string()) return Error(InvalidArgument("keys: must be strings"), req);
    const std::string key = k.get<std::string>();
    auto it = std::find_if(next.meters.begin(), next.meters.end(),
                           [&](const MeterConfig& m) { return m.key == key; });
    if (it == next.meters.end()) {
      bool configured = std::any_of(config_.config_meters.begin(), config_.config_meters.end(),
                                    [&](const MeterConfig& m) { return m.key == key; });
      return Error(configured ? FailedPrecondition("meter '" + key +
                                                   "' comes from the configuration file; "
                                                   "remove it there")
                              : NotFound("no meter named '" + key + "'"),
                   req);
    }
    if (ignore && !IsIgnored(EndpointId(*it))) next.ignored.push_back(EndpointId(*it));
    next.meters.erase(it);
    removed.push_back(key);
  }
  if (Status s = SaveAndApply(std::move(next)); !s.ok()) return Error(s, req);
  spdlog::info("web: removed meters {}{}", fmt::join(removed, ", "), ignore ? " (ignored)" : "");
  return Response::Json(json{{"removed", removed}, {"ignored", ui_.ignored}});
}

Response WebApi::Unignore(Request& req) {
  if (auto denied = Deny(req, Access::kWrite)) return *denied;
  auto body = ParseBody(req);
  if (!body) return Error(body.error(), req);
  if (!body->contains("endpoints") || !(*body)["endpoints"].is_array()) {
    return Error(InvalidArgument("endpoints: list the endpoints to stop ignoring"), req);
  }
  MeterFile next = ui_;
  for (const auto& e : (*body)["endpoints"]) {
    if (!e.is_string()) return Error(InvalidArgument("endpoints: must be strings"), req);
    std::erase(next.ignored, e.get<std::string>());
  }
  if (Status s = SaveAndApply(std::move(next)); !s.ok()) return Error(s, req);
  return Response::Json(json{{"ignored", ui_.ignored}});
}

Response WebApi::ListDrivers(Request& req) {
  if (auto denied = Deny(req, Access::kRead)) return *denied;
  const auto& registry = hooks_.registry();
  auto all = AllMeters();
  json out = json::array();
  for (const auto& id : registry.ids()) {
    const profiles::Profile* p = registry.Find(id);
    json used = json::array();
    for (const auto& m : all) {
      if (m.profile == id) used.push_back(m.key);
    }
    std::error_code ec;
    bool uploaded = fs::exists(drivers_dir() / (id + ".xml"), ec);
    out.push_back({{"id", id},
                   {"name", p->DisplayName()},
                   {"vendor", p->vendor},
                   {"model", p->model},
                   {"signals", p->signals.size()},
                   {"bundled", !uploaded},
                   {"used_by", used}});
  }
  return Response::Json(out);
}

Response WebApi::UploadDriver(Request& req) {
  if (auto denied = Deny(req, Access::kWrite)) return *denied;
  auto body = ParseBody(req);
  if (!body) return Error(body.error(), req);
  auto type = StringField(*body, "type", true);
  if (!type) return FieldError(type.error(), req);
  if (type->size() > 4 && type->substr(type->size() - 4) == ".xml") type->resize(type->size() - 4);
  bool type_ok =
      !type->empty() && type->size() <= 64 && std::isalnum(static_cast<unsigned char>((*type)[0]));
  for (char c : *type) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      type_ok = false;
    }
  }
  if (!type_ok) {
    return FieldError(
        InvalidArgument("type: use 1 to 64 lower-case letters, digits, '-', '_' or '.', "
                        "e.g. acme-em100"),
        req);
  }
  auto xml = StringField(*body, "xml", true);
  if (!xml) return FieldError(xml.error(), req);
  if (xml->size() > kMaxDriverBytes) {
    return FieldError(InvalidArgument("xml: a driver file may have at most 1 MiB"), req);
  }
  if (hooks_.registry().Find(*type) != nullptr) {
    return FieldError(Status(Code::kAlreadyExists,
                             "type: a driver named '" + *type + "' exists; delete it first"),
                      req);
  }
  const std::string file_name = *type + ".xml";
  auto errors = profiles::ValidateProfile(*xml, file_name);
  if (errors.empty()) {
    if (auto parsed = profiles::ParseProfile(*xml, *type, file_name); !parsed) {
      errors.push_back(parsed.error().message());
    }
  }
  if (!errors.empty()) {
    // "acme.xml:12: what" -> {"line": 12, "message": "what"}.
    json details = json::array();
    for (const auto& e : errors) {
      json d = {{"text", e}, {"line", nullptr}, {"message", e}};
      if (e.rfind(file_name + ":", 0) == 0) {
        std::string_view rest = std::string_view(e).substr(file_name.size() + 1);
        int line = 0;
        auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), line);
        if (ec == std::errc() && ptr != rest.data()) {
          d["line"] = line;
          std::string_view msg(ptr, static_cast<size_t>(rest.data() + rest.size() - ptr));
          if (msg.rfind(": ", 0) == 0) msg.remove_prefix(2);
          d["message"] = std::string(msg);
        }
      }
      details.push_back(std::move(d));
    }
    return Error(InvalidArgument(fmt::format("{} is not a valid driver ({} error{})", file_name,
                                             errors.size(), errors.size() == 1 ? "" : "s")),
                 req, json{{"field", "xml"}, {"details", details}});
  }
  std::error_code ec;
  fs::create_directories(drivers_dir(), ec);
  const fs::path path = drivers_dir() / file_name;
  if (Status s = WriteFileAtomically(path, *xml); !s.ok()) return Error(s, req);
  if (Status s = ReloadDrivers(); !s.ok()) {
    fs::remove(path, ec);
    if (Status r = ReloadDrivers(); !r.ok()) spdlog::error("web: {}", r.ToString());
    return Error(s, req);
  }
  spdlog::info("web: driver '{}' uploaded from {}", *type, req.remote);
  const profiles::Profile* p = hooks_.registry().Find(*type);
  return Response::Json(json{{"id", *type},
                             {"name", p ? p->DisplayName() : *type},
                             {"bundled", false},
                             {"used_by", json::array()}},
                        201);
}

Response WebApi::DeleteDriver(Request& req) {
  if (auto denied = Deny(req, Access::kWrite)) return *denied;
  const std::string id = req.path_params["id"];
  if (hooks_.registry().Find(id) == nullptr) {
    return Error(NotFound("no driver named '" + id + "'"), req);
  }
  const fs::path path = drivers_dir() / (id + ".xml");
  std::error_code ec;
  if (id.find('/') != std::string::npos || !fs::exists(path, ec)) {
    return Error(FailedPrecondition("'" + id + "' is a bundled driver; it cannot be deleted"), req);
  }
  std::vector<std::string> users;
  for (const auto& m : AllMeters()) {
    if (m.profile == id) users.push_back(m.key);
  }
  if (!users.empty()) {
    return Error(FailedPrecondition(fmt::format("driver '{}' is used by {}; remove or change "
                                                "those meters first",
                                                id, fmt::join(users, ", "))),
                 req, json{{"used_by", users}});
  }
  if (!fs::remove(path, ec) || ec) {
    return Error(Internal("cannot delete " + path.string() + ": " + ec.message()), req);
  }
  if (Status s = ReloadDrivers(); !s.ok()) return Error(s, req);
  spdlog::info("web: driver '{}' deleted from {}", id, req.remote);
  return Response::NoContent();
}

bool WebApi::NmcliAvailable() const {
  return !config_.nmcli.empty() && ::access(config_.nmcli.c_str(), X_OK) == 0;
}

json WebApi::NetworkJson() const {
  if (!NmcliAvailable()) {
    return {{"editable", false},
            {"mode", "unknown"},
            {"reason",
             "NetworkManager (nmcli) is not installed on this connector; the network "
             "is configured by the operating system"}};
  }
  auto out = RunProgram({config_.nmcli, "-t", "-f", "NAME,TYPE", "connection", "show", "--active"});
  std::string connection;
  if (out) {
    std::istringstream lines(*out);
    for (std::string line; std::getline(lines, line);) {
      if (line.find(":802-3-ethernet") != std::string::npos) {
        connection = line.substr(0, line.rfind(':'));
        break;
      }
    }
  }
  if (connection.empty()) {
    return {{"editable", false},
            {"mode", "unknown"},
            {"reason", "NetworkManager has no active wired connection"}};
  }
  auto method = RunProgram({config_.nmcli, "-g", "ipv4.method,ipv4.addresses,ipv4.gateway,ipv4.dns",
                            "connection", "show", connection});
  json j = {{"editable", true}, {"connection", connection}, {"mode", "unknown"}};
  if (method) {
    std::istringstream lines(*method);
    std::string m, addr, gw, dns;
    std::getline(lines, m);
    std::getline(lines, addr);
    std::getline(lines, gw);
    std::getline(lines, dns);
    j["mode"] = m == "auto" ? "dhcp" : m == "manual" ? "static" : m;
    j["address"] = addr;
    j["gateway"] = gw;
    j["dns"] = dns;
  }
  return j;
}

Response WebApi::GetSettings(Request& req) {
  if (auto denied = Deny(req, Access::kRead)) return *denied;
  return Response::Json(
      json{{"name", settings_.name},
           {"connector_id", config_.connector_id},
           {"time_sync", {{"enabled", settings_.time_sync}, {"time", settings_.time_sync_at}}},
           {"network", NetworkJson()}});
}

Response WebApi::PutSettings(Request& req) {
  if (auto denied = Deny(req, Access::kWrite)) return *denied;
  auto body = ParseBody(req);
  if (!body) return Error(body.error(), req);
  Settings next = settings_;
  if (body->contains("name")) {
    auto name = StringField(*body, "name", true);
    if (!name) return FieldError(name.error(), req);
    bool printable = std::all_of(name->begin(), name->end(), [](char c) {
      return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
    });
    if (name->size() > 64 || !printable) {
      return FieldError(InvalidArgument("name: at most 64 printable characters"), req);
    }
    next.name = *name;
  }
  if (body->contains("time_sync")) {
    const json& t = (*body)["time_sync"];
    if (!t.is_object()) return FieldError(InvalidArgument("time_sync: must be an object"), req);
    if (t.contains("enabled")) {
      if (!t["enabled"].is_boolean()) {
        return FieldError(InvalidArgument("time_sync: 'enabled' must be true or false"), req);
      }
      next.time_sync = t["enabled"].get<bool>();
    }
    if (t.contains("time")) {
      if (!t["time"].is_string() || !ParseTimeOfDay(t["time"].get<std::string>())) {
        return FieldError(InvalidArgument("time_sync: 'time' must be HH:MM (UTC), e.g. 00:05"),
                          req);
      }
      next.time_sync_at = t["time"].get<std::string>();
    }
  }
  if (Status s = SaveSettings(config_.data_dir / "settings.toml", next); !s.ok()) {
    return Error(s, req);
  }
  const bool sync_changed =
      next.time_sync != settings_.time_sync || next.time_sync_at != settings_.time_sync_at;
  settings_ = next;
  if (sync_changed) {
    // The poller takes the new time when it starts: restart it.
    ApplyClockSync();
    if (Status s = hooks_.apply_meters(PolledMeters()); !s.ok()) return Error(s, req);
  }
  spdlog::info("web: settings changed (name '{}', time sync {} at {})", settings_.name,
               settings_.time_sync ? "on" : "off", settings_.time_sync_at);
  return GetSettings(req);
}

Response WebApi::PutNetwork(Request& req) {
  if (auto denied = Deny(req, Access::kWrite)) return *denied;
  auto body = ParseBody(req);
  if (!body) return Error(body.error(), req);
  auto mode = StringField(*body, "mode", true);
  if (!mode || (*mode != "dhcp" && *mode != "static")) {
    return FieldError(InvalidArgument("mode: must be dhcp or static"), req);
  }
  std::string address, gateway, dns;
  if (*mode == "static") {
    auto a = StringField(*body, "address", true);
    if (!a || !ValidIpv4Cidr(*a)) {
      return FieldError(InvalidArgument("address: must be an IPv4 address with prefix, e.g. "
                                        "192.168.1.20/24"),
                        req);
    }
    address = *a;
    auto g = StringField(*body, "gateway", false);
    if (!g || (!g->empty() && !ValidIpv4(*g))) {
      return FieldError(InvalidArgument("gateway: must be an IPv4 address"), req);
    }
    gateway = *g;
    auto d = StringField(*body, "dns", false);
    if (!d) return FieldError(d.error(), req);
    std::istringstream parts(*d);
    for (std::string part; std::getline(parts, part, ',');) {
      part.erase(0, part.find_first_not_of(' '));
      part.erase(part.find_last_not_of(' ') + 1);
      if (!ValidIpv4(part)) {
        return FieldError(InvalidArgument("dns: must be IPv4 addresses separated by commas"), req);
      }
    }
    dns = *d;
  }
  json current = NetworkJson();
  if (!current.value("editable", false)) {
    return Error(FailedPrecondition("the network cannot be changed here: " +
                                    current.value("reason", std::string())),
                 req);
  }
  const std::string connection = current["connection"];
  std::vector<std::string> args = {config_.nmcli, "connection", "modify", connection};
  if (*mode == "dhcp") {
    for (const char* a :
         {"ipv4.method", "auto", "ipv4.addresses", "", "ipv4.gateway", "", "ipv4.dns", ""}) {
      args.emplace_back(a);
    }
  } else {
    for (const std::string& a :
         {std::string("ipv4.method"), std::string("manual"), std::string("ipv4.addresses"), address,
          std::string("ipv4.gateway"), gateway, std::string("ipv4.dns"), dns}) {
      args.push_back(a);
    }
  }
  if (auto r = RunProgram(args); !r) return Error(r.error(), req);
  if (auto r = RunProgram({config_.nmcli, "connection", "up", connection}); !r) {
    return Error(r.error(), req);
  }
  spdlog::warn("web: network of '{}' set to {} {} from {}", connection, *mode, address, req.remote);
  return Response::Json(NetworkJson());
}

Response WebApi::Diagnostics(Request& req) {
  if (auto denied = Deny(req, Access::kRead)) return *denied;
  json meters = json::array();
  for (const auto& s : hooks_.meter_statuses()) {
    meters.push_back(
        {{"key", s.key},
         {"last_error", s.last_error.ok() ? json() : json(s.last_error.message())},
         {"response_time_ms", s.last_response_time_ms},
         {"requests", s.request_count},
         {"errors", s.error_count},
         {"splits", s.split_count},
         {"last_read_ms", s.last_success_ts_ms},
         {"identity", s.identity},
         {"history_records", s.history_records},
         {"contact_error", s.contact_error.ok() ? json() : json(s.contact_error.message())},
         {"clock",
          {{"known", s.clock_known},
           {"drift_ms", s.clock_known ? json(s.clock_drift_ms) : json()},
           {"last_sync_ms", s.last_clock_sync_ms},
           {"error", s.clock_error.ok() ? json() : json(s.clock_error.message())}}}});
  }
  json uplink = nullptr;
  if (hooks_.uplink) {
    UplinkInfo u = hooks_.uplink();
    uplink = {{"server_url", u.server_url},
              {"last_error", u.last_error},
              {"last_success_ms", u.last_success_ms},
              {"batches_sent", u.batches_sent},
              {"failures", u.failures},
              {"queue_pending", u.queue_pending},
              {"queue_disk_bytes", u.queue_disk_bytes},
              {"queue_evicted", u.queue_evicted},
              {"oldest_unsent_ms", u.oldest_unsent_ms}};
  }
  return Response::Json(json{{"meters", meters}, {"uplink", uplink}});
}

namespace {

// The endpoint id (EndpointId) a found device is reached at: discovery finds Modbus TCP only.
std::string DeviceEndpoint(const discovery::Device& d) {
  MeterConfig probe;
  probe.host = d.host;
  probe.port = d.port;
  probe.unit_id = d.unit_id;
  return EndpointId(probe);
}

}  // namespace

std::set<std::string> WebApi::PolledEndpoints() const {
  std::set<std::string> out;
  for (const auto* list : {&config_.config_meters, &ui_.meters}) {
    for (const auto& m : *list) out.insert(EndpointId(m));
  }
  return out;
}

const char* WebApi::DeviceState(const discovery::Device& d,
                                const std::set<std::string>& polled) const {
  const std::string endpoint = DeviceEndpoint(d);
  if (polled.count(endpoint)) return "polled";
  if (IsIgnored(endpoint)) return "ignored";
  return d.profile.empty() ? "no-driver" : "new";
}

MeterConfig WebApi::MeterFromDevice(const discovery::Device& d,
                                    const std::vector<MeterConfig>& taken) const {
  MeterConfig m;
  m.host = d.host;
  m.port = d.port;
  m.unit_id = d.unit_id;
  m.profile = d.profile;
  m.transport = Transport::kTcp;
  // The driver and the serial number name the meter on the server; without a serial number the
  // address does.
  std::string base = d.profile + "-";
  bool serial_ok = !d.serial.empty() && d.serial.size() <= 24 && ValidKey(d.serial);
  if (serial_ok) {
    base += d.serial;
  } else {
    std::string host = d.host;
    std::replace(host.begin(), host.end(), '.', '-');
    base += host + (d.unit_id != 1 ? fmt::format("-u{}", d.unit_id) : "");
  }
  if (base.size() > 60) base.resize(60);
  m.key = base;
  auto used = [&](const std::string& key) {
    return std::any_of(taken.begin(), taken.end(),
                       [&](const MeterConfig& t) { return t.key == key; });
  };
  for (int n = 2; used(m.key); ++n) m.key = fmt::format("{}-{}", base, n);
  return m;
}

void WebApi::NoteDiscovery(const std::string& endpoint, const std::string& what) {
  discovery_events_.push_back(
      {{"ms", ToUnixMs(time_.SystemNow())}, {"endpoint", endpoint}, {"event", what}});
  if (discovery_events_.size() > 20) discovery_events_.erase(discovery_events_.begin());
}

void WebApi::OnDiscovered(const discovery::Device& d) {
  const std::string state = DeviceState(d, PolledEndpoints());
  const std::string endpoint = DeviceEndpoint(d);
  if (state == "no-driver") {
    spdlog::info("discovery: {} answers Modbus ({}) but no driver matches; add it by hand",
                 endpoint, d.identity);
    NoteDiscovery(endpoint, "found, no driver matches: " + d.identity);
    return;
  }
  if (state != "new") return;  // polled already, or ignored
  MeterFile next = ui_;
  MeterConfig m = MeterFromDevice(d, AllMeters());
  next.meters.push_back(m);
  if (Status s = SaveAndApply(std::move(next)); !s.ok()) {
    spdlog::error("discovery: cannot add meter {} at {}: {}", m.key, endpoint, s.ToString());
    NoteDiscovery(endpoint, "could not be added: " + s.message());
    return;
  }
  spdlog::info("discovery: meter '{}' ({}) found at {} and added", m.key, m.profile, endpoint);
  NoteDiscovery(endpoint, "added as " + m.key);
}

void WebApi::StartContinuousDiscovery() {
  if (!scan_) return;
  scan_->StartContinuous(
      [this](const discovery::Device& d) { OnDiscovered(d); },
      [this](const std::string& host, uint16_t port) {
        for (const auto* list : {&config_.config_meters, &ui_.meters}) {
          for (const auto& m : *list) {
            if (m.transport != Transport::kSerial && m.host == host && m.port == port) {
              return true;
            }
          }
        }
        return false;
      });
}

Response WebApi::Scan(Request& req) {
  if (auto denied = Deny(req, Access::kRead)) return *denied;
  if (!scan_ || !scan_->config().enabled) {
    return Response::Json(json{{"available", false},
                               {"message", "discovery is switched off (discovery.enabled)"},
                               {"initial_scan_done", settings_.initial_scan_done}});
  }
  const ScanProgress& p = scan_->progress();
  const std::vector<MeterConfig> all = AllMeters();
  const std::set<std::string> polled = PolledEndpoints();
  json found = json::array();
  for (const auto& d : p.found) {
    MeterConfig probe = MeterFromDevice(d, all);
    found.push_back({{"endpoint", EndpointId(probe)},
                     {"host", d.host},
                     {"port", d.port},
                     {"unit_id", d.unit_id},
                     {"profile", d.profile.empty() ? json() : json(d.profile)},
                     {"matched_by", d.matched_by},
                     {"identity", d.identity},
                     {"serial", d.serial},
                     {"name", d.name},
                     {"key", probe.key},
                     {"state", DeviceState(d, polled)}});
  }
  return Response::Json(json{{"available", true},
                             {"initial_scan_done", settings_.initial_scan_done},
                             {"phase", ScanPhaseName(p.phase)},
                             {"done", p.done},
                             {"total", p.total},
                             {"started_ms", p.started_ms},
                             {"finished_ms", p.finished_ms},
                             {"error", p.error.empty() ? json() : json(p.error)},
                             {"targets", scan_->Describe()},
                             {"found", found},
                             {"continuous", scan_->continuous_running()},
                             {"events", discovery_events_}});
}

Response WebApi::StartScan(Request& req) {
  if (auto denied = Deny(req, Access::kWrite)) return *denied;
  if (!scan_) return Error(Unavailable("discovery is not available"), req);
  if (Status s = scan_->StartScan(); !s.ok()) return Error(s, req);
  spdlog::info("web: scan started from {}", req.remote);
  return Scan(req);
}

Response WebApi::FinishScan(Request& req) {
  if (auto denied = Deny(req, Access::kWrite)) return *denied;
  auto body = ParseBody(req);
  if (!body) return Error(body.error(), req);
  const bool skip = body->value("skip", false);
  if (scan_ && scan_->progress().phase != ScanPhase::kDone &&
      scan_->progress().phase != ScanPhase::kIdle) {
    return Error(FailedPrecondition("the scan is still running; wait until it is done"), req);
  }
  std::set<std::string> wanted;
  if (!skip) {
    if (!body->contains("add") || !(*body)["add"].is_array()) {
      return Error(InvalidArgument("add: list the endpoints to add (or send \"skip\": true)"), req);
    }
    for (const auto& e : (*body)["add"]) {
      if (!e.is_string()) return Error(InvalidArgument("add: must be endpoint strings"), req);
      wanted.insert(e.get<std::string>());
    }
  }
  const bool ignore_rest = !skip && body->value("ignore_rest", true);
  MeterFile next = ui_;
  std::vector<std::string> added, ignored;
  std::vector<MeterConfig> taken = AllMeters();
  const std::set<std::string> polled = PolledEndpoints();
  std::set<std::string> seen;
  if (scan_) {
    for (const auto& d : scan_->progress().found) {
      MeterConfig m = MeterFromDevice(d, taken);
      const std::string endpoint = EndpointId(m);
      if (!seen.insert(endpoint).second) continue;
      const std::string state = DeviceState(d, polled);
      if (wanted.erase(endpoint)) {
        if (state == "no-driver") {
          return Error(FailedPrecondition("no driver matches " + endpoint +
                                          "; add it by hand with the right driver"),
                       req);
        }
        if (state == "polled") continue;
        std::erase(next.ignored, endpoint);
        next.meters.push_back(m);
        taken.push_back(m);
        added.push_back(m.key);
      } else if (ignore_rest && state == "new") {
        next.ignored.push_back(endpoint);
        ignored.push_back(endpoint);
      }
    }
  }
  if (!wanted.empty()) {
    return Error(NotFound("not found by the last scan: " + *wanted.begin()), req);
  }
  if (!added.empty() || !ignored.empty()) {
    if (Status s = SaveAndApply(std::move(next)); !s.ok()) return Error(s, req);
  }
  if (!settings_.initial_scan_done) {
    Settings done = settings_;
    done.initial_scan_done = true;
    if (Status s = SaveSettings(config_.data_dir / "settings.toml", done); !s.ok()) {
      return Error(s, req);
    }
    settings_ = done;
    StartContinuousDiscovery();
  }
  spdlog::info("web: scan finished{}: {} meters added, {} ignored", skip ? " (skipped)" : "",
               added.size(), ignored.size());
  return Response::Json(json{{"added", added}, {"ignored", ignored}});
}

ConnectorWeb::ConnectorWeb(boost::asio::io_context& io, WebApiConfig config, ConnectorHooks hooks)
    : io_(io),
      data_dir_(config.data_dir),
      scan_(io.get_executor(), hooks.registry, config.scan),
      api_(std::move(config), std::move(hooks)) {
  api_.SetScanService(&scan_);
}

ConnectorWeb::~ConnectorWeb() { Stop(); }

Status ConnectorWeb::Start(const WebOptions& options) {
  auto hp = http::ParseHostPort(options.listen);
  if (!hp) return hp.error();
  if (Status s = api_.Start(); !s.ok()) return s;
  const fs::path tls_dir = data_dir_ / "web-tls";
  std::error_code ec;
  fs::create_directories(tls_dir, ec);
  if (ec) return FailedPrecondition("cannot create " + tls_dir.string() + ": " + ec.message());
  const std::string cert = (tls_dir / "connector.crt").string();
  const std::string key = (tls_dir / "connector.key").string();
  std::vector<std::string> names = {"localhost", "127.0.0.1"};
  if (hp->first != "0.0.0.0" && hp->first != "::" && hp->first != "127.0.0.1") {
    names.push_back(hp->first);
  }
  if (Status s = http::EnsureSelfSignedCertificate(cert, key, names); !s.ok()) return s;
  auto tls = http::MakeServerContext(cert, key);
  if (!tls) return tls.error();
  api_.Register(router_);
  http::ServerOptions opts;
  opts.web_root = options.web_root;
  opts.body_limit = 2 * kMaxDriverBytes + 4096;
  if (!opts.web_root.empty() && !fs::exists(fs::path(opts.web_root) / "index.html")) {
    spdlog::warn("web UI: {} has no index.html; build it with `npm run build` in web/",
                 opts.web_root);
  }
  server_ = std::make_unique<http::HttpsServer>(io_, *tls, router_, opts);
  auto port = server_->Listen(hp->first, hp->second);
  if (!port) return port.error();
  spdlog::info("web UI: listening on https://{}:{}/", hp->first, *port);
  if (!options.port_file.empty()) {
    if (Status s = WriteFileAtomically(options.port_file, std::to_string(*port)); !s.ok()) return s;
  }
  return Status::Ok();
}

void ConnectorWeb::Stop() {
  scan_.Stop();
  if (server_) server_->Stop();
}

}  // namespace wattline::edge::web
