// Uplink: sends the durable queue's records to the server in order, as batches over HTTPS
// (docs/format/batch.md), and acks in the queue exactly what the server acknowledged. After an
// outage it sends the backlog at full speed (batch after batch without waiting) while the
// poller keeps appending. Failures are retried with exponential backoff and jitter; nothing is
// ever dropped here.
// Thread-safety: Start/Stop/status on the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "core/status.h"
#include "edge/durable_queue.h"

namespace wattline::edge {

struct UplinkConfig {
  std::string connector_id;  // our name on the server
  std::string host = "127.0.0.1";
  uint16_t port = 8443;
  std::string token;          // bearer credential
  size_t max_records = 1000;  // per batch
  size_t max_bytes = 1 << 20;
  std::chrono::milliseconds poll_interval{1000};  // wait when there is nothing to send
  std::chrono::milliseconds timeout{15000};
  std::chrono::milliseconds max_backoff{30000};
};

struct UplinkStatus {
  std::string last_error;       // empty after a success
  int64_t last_success_ms = 0;  // wall-clock time of the last acknowledged batch
  uint64_t batches_sent = 0;
  uint64_t failures = 0;
};

class Uplink {
 public:
  // REQUIRES: `queue` outlives the uplink; `tls` trusts the server's certificate.
  Uplink(boost::asio::io_context& io, DurableQueue& queue, UplinkConfig config,
         std::shared_ptr<boost::asio::ssl::context> tls);
  ~Uplink();

  void Start();
  void Stop();
  UplinkStatus status() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Splits "https://host:port" into host and port. kInvalidArgument for other schemes: the
// uplink is TLS only.
Result<std::pair<std::string, uint16_t>> ParseHttpsUrl(const std::string& url);

}  // namespace wattline::edge
