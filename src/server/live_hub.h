// LiveHub: the WebSocket subscribers of each tenant; Publish sends a frame to every subscriber
// of one tenant only.
// Thread-safety: not thread-safe; used from the server's I/O thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "http/websocket_session.h"

namespace wattline::server {

class LiveHub {
 public:
  void Join(int64_t tenant_id, const std::shared_ptr<http::WebSocketSession>& session);
  void Leave(int64_t tenant_id, const std::shared_ptr<http::WebSocketSession>& session);
  void Publish(int64_t tenant_id, const std::string& frame);
  size_t subscribers(int64_t tenant_id) const;

 private:
  std::map<int64_t, std::set<std::shared_ptr<http::WebSocketSession>>> by_tenant_;
};

}  // namespace wattline::server
