// Ingest: POST /api/v1/ingest. Authenticates the connector by its bearer token, decodes the
// batch, stores every record the server does not have yet (records up to the connector's
// acknowledged sequence are skipped, so a resent batch is acknowledged again without being
// stored twice), and publishes the new values to the tenant's live subscribers (as soon as the
// batch is decoded, before the store's fsync: live delay does not wait for durability).
// The samples are stored on a thread of a small pool of its own, awaited by the request's
// coroutine: the I/O thread serves other requests during the fsync, and batches of several
// connectors arriving together share one (the historian's group commit).
// Thread-safety: Handle runs on the server's I/O thread; only the store is used from the pool,
// and it is thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include "historian/sample_store.h"
#include "http/message.h"
#include "server/catalog.h"
#include "server/live_hub.h"

namespace wattline::server {

class Ingest {
 public:
  Ingest(Catalog& catalog, historian::SampleStore& store, LiveHub& hub)
      : catalog_(catalog), store_(store), hub_(hub) {}
  // Waits for appends in flight (the store must outlive the Ingest).
  ~Ingest();

  boost::asio::awaitable<http::Response> Handle(http::Request& req);

  uint64_t batches() const { return batches_; }

 private:
  Catalog& catalog_;
  historian::SampleStore& store_;
  LiveHub& hub_;
  uint64_t batches_ = 0;
  boost::asio::thread_pool store_pool_{4};
};

}  // namespace wattline::server
