// SiteTreeApi: the REST endpoints of docs/api.md "Site tree": the tenant's tree, node changes
// (engineer), consumption per node (viewer) and manual meter readings (operator). Every change
// is written to the audit log with its before and after.
// Thread-safety: used from the server's I/O thread.
#pragma once

#include <nlohmann/json.hpp>

#include "http/router.h"
#include "server/access.h"
#include "server/accounts_api.h"
#include "server/live_hub.h"
#include "server/site_tree.h"

namespace wattline::server {

class SiteTreeApi {
 public:
  SiteTreeApi(SiteTree& tree, Catalog& catalog, Guard& guard, AuditTrail& audit, LiveHub& hub)
      : tree_(tree), catalog_(catalog), guard_(guard), audit_(audit), hub_(hub) {}

  void Register(http::Router& router);

 private:
  http::Response Tree(http::Request& req);
  http::Response Create(http::Request& req);
  http::Response Update(http::Request& req);
  http::Response Delete(http::Request& req);
  http::Response Consumption(http::Request& req);
  http::Response AddReading(http::Request& req);
  http::Response Readings(http::Request& req);

  // A node as the API shows it: kind, links, terms, the energy signal used.
  Result<nlohmann::json> NodeJson(int64_t tenant_id, const TreeNode& n);

  SiteTree& tree_;
  Catalog& catalog_;
  Guard& guard_;
  AuditTrail& audit_;
  LiveHub& hub_;  // told of stored readings, which ends its cached /latest answer
};

}  // namespace wattline::server
