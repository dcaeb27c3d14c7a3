// Ingest: POST /api/v1/ingest. Authenticates the connector by its bearer token, decodes the
// batch, stores every record the server does not have yet (records up to the connector's
// acknowledged sequence are skipped, so a resent batch is acknowledged again without being
// stored twice), and publishes the new values to the tenant's live subscribers.
// Thread-safety: used from the server's I/O thread.
#pragma once

#include "historian/sample_store.h"
#include "http/message.h"
#include "server/catalog.h"
#include "server/live_hub.h"

namespace wattline::server {

class Ingest {
 public:
  Ingest(Catalog& catalog, historian::SampleStore& store, LiveHub& hub)
      : catalog_(catalog), store_(store), hub_(hub) {}

  http::Response Handle(http::Request& req);

  uint64_t batches() const { return batches_; }

 private:
  Catalog& catalog_;
  historian::SampleStore& store_;
  LiveHub& hub_;
  uint64_t batches_ = 0;
};

}  // namespace wattline::server
