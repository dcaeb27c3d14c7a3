// Api: the browser-facing REST endpoints and the live WebSocket of docs/api.md. Every handler
// authenticates the session and scopes every read to the session's tenant.
// Thread-safety: used from the server's I/O thread.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include "historian/engine.h"
#include "http/router.h"
#include "http/server.h"
#include "server/access.h"
#include "server/catalog.h"
#include "server/live_hub.h"
#include "server/sessions.h"

namespace wattline::server {

// The API document (OpenAPI 3.0, src/server/openapi.json), compiled in.
extern const std::string_view kOpenApiJson;

class Api {
 public:
  Api(Catalog& catalog, historian::Engine& store, Guard& guard, LiveHub& hub)
      : catalog_(catalog), store_(store), guard_(guard), hub_(hub) {}

  void Register(http::Router& router);
  // The handler for GET /api/v1/live.
  Result<http::WebSocketOpen> OpenLive(http::Request& req);

 private:
  // The tenant's signals, or one meter's with ?meter=ID.
  Result<std::vector<SignalInfo>> SignalsOfQuery(const Session& session, const http::Request& req);
  http::Response Meters(http::Request& req);
  http::Response Signals(http::Request& req);
  http::Response Latest(http::Request& req);
  http::Response History(http::Request& req);
  http::Response Chart(http::Request& req);
  http::Response Aggregates(http::Request& req);
  // POST /api/v1/export: the file is rendered on export_pool_, so that a large PDF does not
  // hold up the I/O thread.
  boost::asio::awaitable<http::Response> Export(http::Request& req);

  Catalog& catalog_;
  historian::Engine& store_;
  Guard& guard_;
  LiveHub& hub_;
  boost::asio::thread_pool export_pool_{1};
  // GET /api/v1/latest of a whole tenant, serialized, with the tenant's count of stored
  // batches when it was made (LiveHub::stored_batches): valid until the next batch is stored.
  struct CachedLatest {
    uint64_t version = 0;
    std::string body;
  };
  std::map<int64_t, CachedLatest> latest_cache_;
};

}  // namespace wattline::server
