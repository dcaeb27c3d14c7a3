#include "server/live_hub.h"

namespace wattline::server {

void LiveHub::Join(int64_t tenant_id, const std::shared_ptr<http::WebSocketSession>& session) {
  by_tenant_[tenant_id].insert(session);
}

void LiveHub::Leave(int64_t tenant_id, const std::shared_ptr<http::WebSocketSession>& session) {
  auto it = by_tenant_.find(tenant_id);
  if (it == by_tenant_.end()) return;
  it->second.erase(session);
  if (it->second.empty()) by_tenant_.erase(it);
}

void LiveHub::Publish(int64_t tenant_id, const std::string& frame) {
  auto it = by_tenant_.find(tenant_id);
  if (it == by_tenant_.end()) return;
  for (const auto& s : it->second) s->Send(frame);
}

size_t LiveHub::subscribers(int64_t tenant_id) const {
  auto it = by_tenant_.find(tenant_id);
  return it == by_tenant_.end() ? 0 : it->second.size();
}

}  // namespace wattline::server
