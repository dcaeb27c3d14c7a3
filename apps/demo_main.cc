// wattline-demo: simulator, connector and server in one process, over real loopback sockets,
// with one data folder. Prints the URL to open and the first-login credentials.
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "core/flags.h"
#include "core/program.h"
#include "edge/edge_app.h"
#include "http/server.h"
#include "server/password.h"
#include "server/server_app.h"
#include "sim/fleet.h"

namespace fs = std::filesystem;
using namespace wattline;

int main(int argc, char** argv) {
  Options options("wattline-demo",
                  "Runs a simulator, a connector and a server together on loopback.");
  options.Add("listen", "127.0.0.1:8443", "address and port of the web app (HTTPS)");
  options.Add("meters", "10", "number of simulated meters");
  options.Add("data_dir", "demo-data", "folder for the server's and the connector's data");
  options.Add("web_root", "web/dist", "folder of the built browser app");
  options.Add("profiles_dir", "profiles", "folder of driver profiles");
  options.Add("connector_listen", "127.0.0.1:8444",
              "address and port of the connector's own web UI (HTTPS); empty = off");
  options.Add("connector_web_root", "web/dist-connector", "folder of the built connector UI");
  if (auto exit_code = StartProgram(options, argc, argv, "demo")) return *exit_code;
  auto meters = options.GetInt("meters");
  if (!meters || *meters < 1 || *meters > 1000) {
    spdlog::critical("--meters must be between 1 and 1000");
    return 2;
  }
  auto listen = http::ParseHostPort(options.Get("listen"));
  if (!listen) {
    spdlog::critical("--listen: {}", listen.error().message());
    return 2;
  }
  const fs::path data = options.Get("data_dir");

  // Each part runs on its own io_context and thread, as it would in its own process.
  boost::asio::io_context sim_io(1), server_io(1), edge_io(1);
  sim::Fleet fleet(sim_io, sim::FleetOptions{.meters = static_cast<int>(*meters), .base_port = 0});
  if (Status s = fleet.Start(); !s.ok()) {
    spdlog::critical("simulator: {}", s.ToString());
    return 1;
  }

  // A fresh connector credential each start: the server stores only its hash.
  const std::string token = server::RandomHex(24);
  server::ServerConfig sc;
  sc.listen_address = listen->first;
  sc.listen_port = listen->second;
  sc.data_dir = (data / "server").string();
  sc.web_root = options.Get("web_root");
  sc.connectors.push_back({"demo-edge", token, "default", "Demo site"});
  server::ServerApp server(server_io);
  if (Status s = server.Start(sc); !s.ok()) {
    spdlog::critical("server: {}", s.ToString());
    return 1;
  }

  edge::EdgeConfig ec;
  ec.name = "demo-edge";
  ec.data_dir = (data / "edge").string();
  ec.profiles_dir = options.Get("profiles_dir");
  ec.server_url = "https://127.0.0.1:" + std::to_string(server.port());
  ec.server_cert = server.tls_cert_path();
  ec.token = token;
  ec.web_listen = options.Get("connector_listen");
  ec.web_root = options.Get("connector_web_root");
  // The connector's scans stay on loopback, where the simulated meters are: a demo leaves the
  // LAN alone.
  ec.scan.discoverer.broadcast_interfaces = false;
  ec.scan.discoverer.scan_ranges = {{0x7f000001, 0x7f000001}};
  ec.scan.discoverer.ports.clear();
  for (const auto& e : fleet.endpoints()) {
    ec.meters.push_back(
        {e.key, e.host, e.port, e.unit_id, e.profile, std::chrono::milliseconds(1000)});
    ec.scan.discoverer.ports.push_back(e.port);
  }
  edge::EdgeApp edge(edge_io);
  if (Status s = edge.Start(ec); !s.ok()) {
    spdlog::critical("connector: {}", s.ToString());
    return 1;
  }

  std::thread sim_thread([&] { sim_io.run(); });
  std::thread server_thread([&] { server_io.run(); });
  std::thread edge_thread([&] { edge_io.run(); });

  std::string password = server.initial_admin_password();
  if (password.empty()) {
    std::ifstream in(data / "server" / "initial-admin-password");
    std::getline(in, password);
  }
  std::string host = listen->first == "0.0.0.0" ? "127.0.0.1" : listen->first;
  std::cout << "\n  Wattline demo is running with " << *meters << " simulated meters.\n"
            << "  Open  https://" << host << ":" << server.port() << "/\n"
            << "  (the certificate is self-signed: accept it in the browser)\n"
            << "  Log in as user 'admin' with password '"
            << (password.empty() ? "<changed: see your records>" : password) << "'\n"
            << (ec.web_listen.empty() ? std::string()
                                      : "  The connector's own page: https://" + ec.web_listen +
                                            "/ (user 'admin', password 'wattline' until changed)\n")
            << "  Stop with Ctrl-C.\n"
            << std::endl;

  boost::asio::io_context main_io(1);
  boost::asio::signal_set signals(main_io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int sig) {
    spdlog::info("signal {}: shutting down", sig);
    // Each part stops on its own thread; the connector last syncs its queue.
    boost::asio::post(edge_io, [&] {
      edge.Stop();
      edge_io.stop();
    });
    boost::asio::post(server_io, [&] {
      server.Stop();
      server_io.stop();
    });
    boost::asio::post(sim_io, [&] {
      fleet.Stop();
      sim_io.stop();
    });
  });
  main_io.run();
  edge_thread.join();
  server_thread.join();
  sim_thread.join();
  spdlog::info("demo stopped");
  return 0;
}
