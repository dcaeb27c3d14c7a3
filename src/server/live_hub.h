// LiveHub: the live WebSocket clients of each tenant and what each one subscribed to
// (docs/api.md, "Live values: WebSocket"). Ingest publishes the values of each batch; every
// client of the batch's tenant gets a frame with the values it subscribed to. Until its first
// subscribe a client gets every value of its tenant.
//
// Publishing is built for many clients with large subscriptions: each value is serialized once
// per batch, the frame with the whole batch is built once and shared by every client whose
// subscription covers the batch (no copy per client), and only the other clients get a frame of
// their own with just their values.
//
// A client is known to the hub by the id Join returns and reaches its connection through a
// Sink (in the server: WebSocketSession::Send, which bounds the queue per client), so the hub
// is tested without sockets.
// Thread-safety: not thread-safe; used from the server's I/O thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/sample.h"
#include "core/status.h"

namespace wattline::server {

// One new value of one signal, as published to live clients.
struct LiveValue {
  int64_t signal_id = 0;
  int64_t ts_ms = 0;
  double value = 0;
  Quality quality = Quality::kGood;
};

class LiveHub {
 public:
  // A text frame, shared by every client it goes to.
  using Frame = std::shared_ptr<const std::string>;
  // Delivers a frame to one client's connection. Must not call back into the hub.
  using Sink = std::function<void(Frame)>;
  // Returns which of `ids` are not signals of the client's tenant (unknown or another tenant's);
  // an error Status when that cannot be found out (the whole message is then refused).
  using SignalCheck = std::function<Result<std::vector<int64_t>>(std::span<const int64_t> ids)>;

  // Limits of a client's messages; larger ones are answered with an error frame.
  static constexpr size_t kMaxMessageBytes = 64 * 1024;
  static constexpr size_t kMaxIdsPerMessage = 10'000;

  // Adds a client of `tenant_id` that receives every value of the tenant until its first
  // subscribe. Returns the client's id for the other calls.
  uint64_t Join(int64_t tenant_id, Sink sink);
  // Removes the client; unknown ids are ignored.
  void Leave(uint64_t client_id);

  // Handles a text message of the client: {"type": "subscribe" | "unsubscribe", "signals":
  // [ids]}. Ids that `check` names are left out and named in an error frame to the client;
  // a malformed message (not JSON, wrong types, too many ids, too large) changes nothing and
  // is answered with an error frame and logged.
  void OnMessage(uint64_t client_id, std::string_view text, const SignalCheck& check);

  // Sends the values to the tenant's clients, each only the values it subscribed to (a client
  // that subscribed to none of them gets nothing).
  void Publish(int64_t tenant_id, std::span<const LiveValue> values);

  size_t subscribers(int64_t tenant_id) const;
  // Ingest calls this once a batch of the tenant is stored. The count is a version of the
  // tenant's stored latest values: answers built from them are stale once it changes.
  void Stored(int64_t tenant_id) { ++stored_[tenant_id]; }
  uint64_t stored_batches(int64_t tenant_id) const;
  // The frames of the whole batch that Publish built and shared, and the frames it built for
  // one client (counters for tests and the benchmark).
  uint64_t shared_frames() const { return shared_frames_; }
  uint64_t filtered_frames() const { return filtered_frames_; }

 private:
  struct Client {
    Sink sink;
    // false until the first subscribe: every value except `ids` (those unsubscribed);
    // afterwards exactly `ids`. Sorted, no duplicates.
    bool explicit_ids = false;
    std::vector<int64_t> ids;
  };

  void SendError(Client& client, const std::string& message);

  std::map<int64_t, std::map<uint64_t, Client>> by_tenant_;
  std::unordered_map<uint64_t, int64_t> tenant_of_;
  std::unordered_map<int64_t, uint64_t> stored_;
  uint64_t next_id_ = 1;
  uint64_t shared_frames_ = 0;
  uint64_t filtered_frames_ = 0;
};

}  // namespace wattline::server
