// Dashboards: the REST endpoints of docs/api.md "Dashboards". A dashboard belongs to a user of
// a tenant; a shared one is visible, read-only, to the whole tenant. The layout is stored as the
// client sends it, after a shape check, so the web app can add widget options freely.
// Thread-safety: used from the server's I/O thread.
#pragma once

#include "http/router.h"
#include "server/access.h"
#include "server/accounts_api.h"
#include "server/catalog.h"

namespace wattline::server {

class Dashboards {
 public:
  static constexpr size_t kMaxLayoutBytes = 256 * 1024;
  static constexpr size_t kMaxWidgets = 100;

  Dashboards(Catalog& catalog, Guard& guard, AuditTrail& audit)
      : catalog_(catalog), guard_(guard), audit_(audit) {}

  void Register(http::Router& router);

 private:
  http::Response List(http::Request& req);
  http::Response Get(http::Request& req);
  http::Response Create(http::Request& req);
  http::Response Update(http::Request& req);
  http::Response Delete(http::Request& req);

  Catalog& catalog_;
  Guard& guard_;
  AuditTrail& audit_;
};

}  // namespace wattline::server
