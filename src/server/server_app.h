// ServerApp: wires the server's parts (catalog, sample store, sessions, ingest, REST API,
// WebSocket, HTTPS) from a ServerConfig, and RunServerMain, the wattline-server program.
// Thread-safety: Start and Stop on the thread that runs the io_context.
#pragma once

#include <toml++/toml.h>

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "historian/engine.h"

namespace wattline::server {

struct ConnectorCredential {
  std::string name;   // the connector id the connector puts in its batches
  std::string token;  // its bearer token
  std::string tenant = "default";
  std::string site = "Main site";
};

struct ServerConfig {
  std::string listen_address = "127.0.0.1";
  uint16_t listen_port = 8443;
  std::string data_dir = "wattline-data";
  std::string web_root;  // the built browser app (web/dist); empty = API only
  // The site's time zone (IANA): days, weeks, months, ... of the rollups follow its clock.
  std::string zone = "UTC";
  // How long samples and rollups are kept (0 = forever); retention runs hourly in the background.
  historian::Retention retention;
  std::string tls_cert;  // default: <data_dir>/tls/server.crt (generated)
  std::string tls_key;   // default: <data_dir>/tls/server.key (generated)
  std::vector<std::string> tls_hostnames = {"localhost", "127.0.0.1"};
  std::string admin_password;  // first start only; empty = generate one
  std::vector<ConnectorCredential> connectors;
};

class ServerApp {
 public:
  explicit ServerApp(boost::asio::io_context& io);
  ~ServerApp();

  // Opens storage, creates the first administrator when there is no user (the generated
  // password is logged and written to <data_dir>/initial-admin-password), registers the
  // connectors, loads or generates the TLS certificate and starts listening.
  Status Start(const ServerConfig& config);
  void Stop();

  uint16_t port() const;
  const std::string& tls_cert_path() const;
  // The first-login password when this start created the administrator, else "".
  const std::string& initial_admin_password() const;
  // Every route the server answers, as "METHOD /pattern", the WebSocket's included.
  std::vector<std::string> Routes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The wattline-server program: options, config file, signals. Returns the exit code.
int RunServerMain(int argc, char** argv);

// Reads [[connector]] tables (name, token, tenant, site) from a config file's TOML.
Result<std::vector<ConnectorCredential>> ConnectorsFromToml(const toml::table& config);

}  // namespace wattline::server
