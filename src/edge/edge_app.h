// EdgeApp: the connector's wiring: profiles, poller -> recorder (recording rules) -> durable
// queue (group commit) -> uplink. A reading counts as stored once the queue's periodic Sync() has
// made it durable; the uplink only ever sends durable records. RunEdgeMain is the wattline-edge
// program.
// Thread-safety: Start and Stop on the thread that runs the io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "edge/claiming.h"
#include "edge/poller.h"
#include "edge/recorder.h"
#include "edge/uplink.h"
#include "edge/web/scan_service.h"

namespace wattline::edge {

struct EdgeConfig {
  std::string name = "edge-1";         // connector id on the server
  std::string data_dir = "edge-data";  // the queue lives in <data_dir>/queue
  std::string profiles_dir = "profiles";
  std::chrono::milliseconds sync_interval{200};  // group commit: fsync at most this often
  uint64_t queue_max_bytes = 1ull << 30;         // disk budget; oldest records evicted beyond
  uint64_t queue_segment_bytes = 4u << 20;
  std::string server_url = "https://127.0.0.1:8443";
  std::string server_cert;  // the server's certificate (PEM), pinned
  std::string token;        // empty: claim the connector on the server (edge/claiming.h)
  std::vector<MeterConfig> meters;
  // What is stored of each signal ([[recording]] tables, edge/recorder.h); empty: every poll.
  std::vector<RecordingRule> recording;
  // The connector's web UI (edge/web/web_api.h): HTTPS address, empty = off; static files.
  std::string web_listen;
  std::string web_root;
  std::string web_port_file;  // the bound port is written here (tests)
  // Meter discovery behind the web UI (initial scan, continuous discovery).
  web::ScanConfig scan;
};

class EdgeApp {
 public:
  explicit EdgeApp(boost::asio::io_context& io);
  ~EdgeApp();

  // Loads profiles, opens (recovers) the queue, starts polling, syncing and uploading.
  Status Start(const EdgeConfig& config);
  // Stops polling, stores the recorder's open cycles, syncs the queue (nothing appended is lost)
  // and stops the uplink.
  void Stop();

  std::vector<MeterStatus> meter_statuses() const;
  UplinkStatus uplink_status() const;
  // Claiming (edge/claiming.h): the claim code and progress while no uplink.token is
  // configured; phase kClaimed with a token, kUnconfigured without a server URL.
  ClaimState claim_state() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The wattline-edge program. Returns the exit code.
int RunEdgeMain(int argc, char** argv);

}  // namespace wattline::edge
