#include "server/server_app.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <toml++/toml.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "core/env.h"
#include "core/flags.h"
#include "core/program.h"
#include "core/run_until_signal.h"
#include "historian/engine.h"
#include "http/server.h"
#include "http/tls.h"
#include "server/accounts_api.h"
#include "server/api.h"
#include "server/catalog.h"
#include "server/claims.h"
#include "server/dashboards.h"
#include "server/ingest.h"
#include "server/password.h"
#include "server/site_tree_api.h"

namespace wattline::server {
namespace fs = std::filesystem;
namespace bhttp = boost::beast::http;

struct ServerApp::Impl {
  boost::asio::io_context& io;
  std::unique_ptr<Catalog> catalog;
  std::unique_ptr<historian::Engine> store;
  std::unique_ptr<SessionStore> sessions;
  std::unique_ptr<Accounts> accounts;
  std::unique_ptr<Guard> guard;
  std::unique_ptr<AuditTrail> audit;
  std::unique_ptr<AccountsApi> accounts_api;
  std::unique_ptr<Dashboards> dashboards;
  std::unique_ptr<SiteTree> tree;
  std::unique_ptr<SiteTreeApi> tree_api;
  LiveHub hub;
  std::unique_ptr<Ingest> ingest;
  std::unique_ptr<Api> api;
  std::unique_ptr<Claims> claims;
  http::Router router;
  std::unique_ptr<http::HttpsServer> server;
  uint16_t port = 0;
  std::string cert_path;
  std::string admin_password;
  // Retention in the background: hourly, the first run a minute after start. Declared last so
  // that it stops (jthread: stop request, join) before the engine goes.
  std::condition_variable_any retention_wake;
  std::mutex retention_mu;
  std::jthread retention;

  explicit Impl(boost::asio::io_context& io) : io(io) {}
};

ServerApp::ServerApp(boost::asio::io_context& io) : impl_(std::make_unique<Impl>(io)) {}
ServerApp::~ServerApp() { Stop(); }
uint16_t ServerApp::port() const { return impl_->port; }
const std::string& ServerApp::tls_cert_path() const { return impl_->cert_path; }
const std::string& ServerApp::initial_admin_password() const { return impl_->admin_password; }

namespace {
constexpr const char* kLivePath = "/api/v1/live";
}  // namespace

std::vector<std::string> ServerApp::Routes() const {
  std::vector<std::string> out = impl_->router.Routes();
  out.push_back(std::string("GET ") + kLivePath);
  return out;
}

Status ServerApp::Start(const ServerConfig& config) {
  Impl& d = *impl_;
  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  if (ec)
    return FailedPrecondition("cannot create data folder " + config.data_dir + ": " + ec.message());
  ::chmod(config.data_dir.c_str(), 0700);

  auto catalog = Catalog::Open((fs::path(config.data_dir) / "config.db").string());
  if (!catalog) return catalog.error();
  d.catalog = std::move(*catalog);
  historian::EngineOptions eo;
  eo.dir = (fs::path(config.data_dir) / "historian").string();
  eo.zone = config.zone;
  auto store = historian::Engine::Open(PosixEnv(), eo);
  if (!store) return store.error();
  d.store = std::move(*store);
  if (Status s = d.store->SetRetention(std::nullopt, config.retention); !s.ok()) return s;
  if (config.retention.raw_ms > 0 || config.retention.rollup_ms > 0) {
    d.retention = std::jthread([&d](std::stop_token stop) {
      auto wait = std::chrono::minutes(1);
      while (true) {
        std::unique_lock lock(d.retention_mu);
        d.retention_wake.wait_for(lock, stop, wait, [] { return false; });
        if (stop.stop_requested()) return;
        lock.unlock();
        auto n = d.store->ApplyRetention(ToUnixMs(RealTime().SystemNow()));
        if (!n) spdlog::error("historian: retention failed: {}", n.error().ToString());
        wait = std::chrono::hours(1);
      }
    });
  }
  if (Status s = historian::ImportRowStore(fs::path(config.data_dir) / "samples.db", *d.store);
      !s.ok()) {
    return s;
  }

  d.accounts = std::make_unique<Accounts>(d.catalog->db());
  auto tenant = d.catalog->EnsureTenant("default");
  if (!tenant) return tenant.error();
  auto users = d.catalog->UserCount();
  if (!users) return users.error();
  if (*users == 0) {
    std::string password =
        config.admin_password.empty() ? GeneratePassword() : config.admin_password;
    auto hash = HashPassword(password);
    if (!hash) return hash.error();
    // The first user is the system administrator; the generated password is strong, so it
    // need not be changed at first login.
    auto id = d.accounts->Create(*tenant, "admin", *hash, "system", false,
                                 ToUnixMs(RealTime().SystemNow()));
    if (!id) return id.error();
    d.admin_password = password;
    fs::path file = fs::path(config.data_dir) / "initial-admin-password";
    mode_t old = umask(077);
    std::ofstream(file) << password << "\n";
    umask(old);
    spdlog::info("created user 'admin'; the first-login password is in {}", file.string());
  }
  for (const ConnectorCredential& c : config.connectors) {
    auto t = d.catalog->EnsureTenant(c.tenant);
    if (!t) return t.error();
    auto site = d.catalog->EnsureSite(*t, c.site);
    if (!site) return site.error();
    if (Status s = d.catalog->UpsertConnector(*t, *site, c.name, TokenHash(c.token)); !s.ok())
      return s;
    spdlog::info("connector '{}' may deliver data to tenant '{}', site '{}'", c.name, c.tenant,
                 c.site);
  }

  d.cert_path = config.tls_cert.empty()
                    ? (fs::path(config.data_dir) / "tls" / "server.crt").string()
                    : config.tls_cert;
  std::string key = config.tls_key.empty()
                        ? (fs::path(config.data_dir) / "tls" / "server.key").string()
                        : config.tls_key;
  if (config.tls_cert.empty() && config.tls_key.empty()) {
    if (Status s = http::EnsureSelfSignedCertificate(d.cert_path, key, config.tls_hostnames);
        !s.ok())
      return s;
  }
  auto tls = http::MakeServerContext(d.cert_path, key);
  if (!tls) return tls.error();

  d.sessions = std::make_unique<SessionStore>(RealTime());
  d.guard = std::make_unique<Guard>(*d.sessions);
  d.audit = std::make_unique<AuditTrail>(*d.accounts, RealTime());
  d.accounts_api =
      std::make_unique<AccountsApi>(*d.catalog, *d.accounts, *d.guard, *d.audit, RealTime());
  d.accounts_api->Register(d.router);
  d.dashboards = std::make_unique<Dashboards>(*d.catalog, *d.guard, *d.audit);
  d.dashboards->Register(d.router);
  d.ingest = std::make_unique<Ingest>(*d.catalog, *d.store, d.hub);
  d.api = std::make_unique<Api>(*d.catalog, *d.store, *d.guard, d.hub);
  d.api->Register(d.router);
  d.tree = std::make_unique<SiteTree>(*d.catalog, *d.store, RealTime());
  d.tree_api = std::make_unique<SiteTreeApi>(*d.tree, *d.catalog, *d.guard, *d.audit, d.hub);
  d.tree_api->Register(d.router);
  auto fingerprint = http::CertificateFingerprintFromFile(d.cert_path);
  if (!fingerprint) return fingerprint.error();
  spdlog::info("TLS certificate {} has the SHA-256 fingerprint {}", d.cert_path, *fingerprint);
  d.claims = std::make_unique<Claims>(
      *d.catalog,
      [&d](const http::Request& r, Role min_role, Access access) {
        return d.guard->Check(r, min_role, access);
      },
      RealTime(), *fingerprint, ClaimsOptions{}, d.audit.get());
  d.claims->Register(d.router);
  d.router.AddAsync(bhttp::verb::post, "/api/v1/ingest",
                    [&d](http::Request& r) { return d.ingest->Handle(r); });
  http::ServerOptions opts;
  opts.web_root = config.web_root;
  if (!opts.web_root.empty() && !fs::exists(fs::path(opts.web_root) / "index.html")) {
    spdlog::warn(
        "web root {} has no index.html; build the browser app with `npm run build` in web/",
        opts.web_root);
  }
  d.server = std::make_unique<http::HttpsServer>(d.io, *tls, d.router, opts);
  d.server->AddWebSocket(kLivePath, [&d](http::Request& r) { return d.api->OpenLive(r); });
  auto port = d.server->Listen(config.listen_address, config.listen_port);
  if (!port) return port.error();
  d.port = *port;
  spdlog::info("listening on https://{}:{}/", config.listen_address, d.port);
  return Status::Ok();
}

void ServerApp::Stop() {
  if (impl_->server) impl_->server->Stop();
}

Result<std::vector<ConnectorCredential>> ConnectorsFromToml(const toml::table& table) {
  std::vector<ConnectorCredential> out;
  const toml::array* arr = table["connector"].as_array();
  if (!arr) return out;
  for (const auto& node : *arr) {
    const toml::table* t = node.as_table();
    if (!t) return Fail(InvalidArgument("[[connector]] entries must be tables"));
    ConnectorCredential c;
    auto name = (*t)["name"].value<std::string>();
    auto token = (*t)["token"].value<std::string>();
    if (!name || !token || name->empty() || token->size() < 16) {
      return Fail(
          InvalidArgument("each [[connector]] needs a name and a token of at least 16 characters"));
    }
    c.name = *name;
    c.token = *token;
    c.tenant = (*t)["tenant"].value_or(c.tenant);
    c.site = (*t)["site"].value_or(c.site);
    out.push_back(std::move(c));
  }
  return out;
}

int RunServerMain(int argc, char** argv) {
  Options options("wattline-server",
                  "The Wattline server: ingest, storage, REST API and web app over HTTPS.");
  options.Add("listen", "127.0.0.1:8443",
              "address and port to serve HTTPS on (port 0 = any free port)");
  options.Add("data_dir", "wattline-data", "folder for databases, TLS certificate and key");
  options.Add("web_root", "", "folder of the built browser app (web/dist)");
  options.Add("tls_cert", "",
              "TLS certificate chain (PEM); default: generated self-signed in data_dir/tls");
  options.Add("tls_key", "", "TLS private key (PEM), with tls_cert");
  options.Add("admin_password", "",
              "password of 'admin' when the server creates it at first start; default: generated");
  options.Add("port_file", "", "write the bound port to this file once listening");
  options.Add("retention.raw_days", "0",
              "keep raw samples this many days (0 = forever); rollups stay unless "
              "retention.rollup_days says otherwise");
  options.Add("retention.rollup_days", "0", "keep rollups this many days (0 = forever)");
  options.Add("zone", "UTC",
              "the site's time zone (IANA, e.g. Europe/Berlin): rollup days, weeks and months "
              "follow its clock");
  std::vector<std::string> positional;
  if (auto exit_code = StartProgram(options, argc, argv, "server", &positional)) return *exit_code;
  if (!positional.empty()) {
    // `wattline-server dump-samples`: every stored sample as CSV, for checks and export. Only
    // while no server runs on this data folder.
    if (positional.size() != 1 || positional[0] != "dump-samples") {
      std::cerr << "usage: wattline-server [options] | wattline-server --data_dir D dump-samples\n";
      return 2;
    }
    historian::EngineOptions eo;
    eo.dir = (fs::path(options.Get("data_dir")) / "historian").string();
    auto engine = historian::Engine::Open(PosixEnv(), eo);
    if (!engine) {
      spdlog::critical("{}", engine.error().ToString());
      return 1;
    }
    auto signals = (*engine)->Signals();
    if (!signals) {
      spdlog::critical("{}", signals.error().ToString());
      return 1;
    }
    std::cout << "signal_id,ts_ms,value,quality\n";
    for (int64_t id : *signals) {
      auto samples = (*engine)->Range(id, INT64_MIN, INT64_MAX, SIZE_MAX);
      if (!samples) {
        spdlog::critical("signal {}: {}", id, samples.error().ToString());
        return 1;
      }
      for (const auto& smp : *samples) {
        std::cout << smp.signal_id << ',' << smp.ts_ms << ',' << fmt::format("{}", smp.value) << ','
                  << static_cast<int>(smp.quality) << '\n';
      }
    }
    return 0;
  }
  ServerConfig config;
  auto hp = http::ParseHostPort(options.Get("listen"));
  if (!hp) {
    spdlog::critical("--listen: {}", hp.error().message());
    return 2;
  }
  config.listen_address = hp->first;
  config.listen_port = hp->second;
  config.data_dir = options.Get("data_dir");
  config.web_root = options.Get("web_root");
  config.zone = options.Get("zone");
  for (auto [name, field] :
       {std::pair{"retention.raw_days", &historian::Retention::raw_ms},
        std::pair{"retention.rollup_days", &historian::Retention::rollup_ms}}) {
    auto days = options.GetInt(name);
    if (!days || *days < 0 || *days > 100 * 366) {
      spdlog::critical("{} must be a number of days from 0 (forever) to 36600", name);
      return 2;
    }
    config.retention.*field = *days * 86'400'000;
  }
  config.tls_cert = options.Get("tls_cert");
  config.tls_key = options.Get("tls_key");
  config.admin_password = options.Get("admin_password");
  auto connectors = ConnectorsFromToml(options.toml());
  if (!connectors) {
    spdlog::critical("config: {}", connectors.error().message());
    return 2;
  }
  config.connectors = *connectors;

  boost::asio::io_context io(1);
  ServerApp app(io);
  if (Status s = app.Start(config); !s.ok()) {
    spdlog::critical("cannot start: {}", s.ToString());
    return 1;
  }
  if (!app.initial_admin_password().empty()) {
    std::cout << "First login: user 'admin', password '" << app.initial_admin_password() << "'"
              << std::endl;
  }
  if (!options.Get("port_file").empty()) {
    std::string tmp = options.Get("port_file") + ".tmp";
    std::ofstream(tmp) << app.port() << "\n";
    fs::rename(tmp, options.Get("port_file"));
  }
  RunUntilSignal(io, [&] { app.Stop(); });
  return 0;
}

}  // namespace wattline::server
