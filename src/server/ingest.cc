#include "server/ingest.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "core/time.h"
#include "server/password.h"
#include "wire/batch.h"
#include "wire/reading_codec.h"

namespace wattline::server {
namespace {

// Runs on the store pool; owns its samples, so nothing it reads lives in the caller's frame.
boost::asio::awaitable<Status> AppendSamples(historian::SampleStore* store,
                                             std::vector<historian::StoredSample> samples) {
  co_return store->Append(samples);
}

}  // namespace

Ingest::~Ingest() { store_pool_.join(); }

boost::asio::awaitable<http::Response> Ingest::Handle(http::Request& req) {
  std::string auth = req.Header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.rfind(kBearer, 0) != 0) {
    spdlog::warn("ingest from {} without a bearer token", req.remote);
    co_return http::Response::Error(Unauthenticated("connector token missing"));
  }
  auto connector = catalog_.FindConnectorByTokenHash(TokenHash(auth.substr(kBearer.size())));
  if (!connector) {
    spdlog::warn("ingest from {} with an unknown token", req.remote);
    co_return http::Response::Error(connector.error());
  }
  auto batch = wire::DecodeBatch(req.body());
  if (!batch) {
    spdlog::warn("malformed batch from connector {} ({}): {}", connector->name, req.remote,
                 batch.error().ToString());
    co_return http::Response::Error(batch.error());
  }
  if (batch->connector_id != connector->name) {
    spdlog::warn("connector {} sent a batch labelled {}", connector->name, batch->connector_id);
    co_return http::Response::Error(
        PermissionDenied("batch connector id does not match the credential"));
  }

  // Decode everything first: a batch is stored whole or not at all.
  const int64_t now = ToUnixMs(RealTime().SystemNow());
  std::vector<historian::StoredSample> samples;
  std::vector<LiveValue> live;
  uint64_t acked = connector->acked_seq;
  uint64_t skipped = 0;
  uint64_t first_stored = 0;
  for (const wire::BatchRecord& rec : batch->records) {
    if (rec.seq <= connector->acked_seq) {
      ++skipped;
      continue;
    }
    if (acked + 1 != rec.seq) {
      spdlog::warn("connector {}: records {}..{} never arrived (connector-side data loss)",
                   connector->name, acked + 1, rec.seq - 1);
    }
    auto reading = wire::DecodeReading(rec.reading);
    if (!reading) {
      spdlog::warn("connector {}: record {} is malformed: {}", connector->name, rec.seq,
                   reading.error().ToString());
      co_return http::Response::Error(
          InvalidArgument("record " + std::to_string(rec.seq) + ": " + reading.error().message()));
    }
    auto device = catalog_.ResolveDevice(*connector, reading->device, reading->model, now);
    if (!device) co_return http::Response::Error(device.error());
    for (const wire::SignalValue& v : reading->values) {
      auto signal = catalog_.ResolveSignal(connector->tenant_id, *device, v.signal, v.unit, v.kind);
      if (!signal) co_return http::Response::Error(signal.error());
      samples.push_back({*signal, reading->ts_ms, v.value, v.quality});
      live.push_back({*signal, reading->ts_ms, v.value, v.quality});
    }
    if (first_stored == 0) first_stored = rec.seq;
    acked = rec.seq;
  }
  // Live clients see the values at once, before the fsyncs below: a live value is not a promise
  // of durability (the connector resends whatever is not acknowledged, so nothing shown is lost;
  // a failed store only means the values are shown again on the resend).
  hub_.Publish(connector->tenant_id, live);
  const size_t sample_count = samples.size();
  Status stored = co_await boost::asio::co_spawn(
      store_pool_, AppendSamples(&store_, std::move(samples)), boost::asio::use_awaitable);
  if (Status s = stored; !s.ok()) {
    spdlog::error("storing a batch of connector {} failed: {}", connector->name, s.ToString());
    co_return http::Response::Error(Unavailable("storage failed; retry later"));
  }
  if (acked != connector->acked_seq) {
    if (Status s = catalog_.SetConnectorAck(connector->id, acked, now); !s.ok()) {
      // The samples are stored; a resend is harmless because storage ignores duplicates.
      spdlog::error("recording the ack of connector {} failed: {}", connector->name, s.ToString());
      co_return http::Response::Error(Unavailable("storage failed; retry later"));
    }
  }
  ++batches_;
  if (skipped)
    spdlog::info("connector {}: {} records were already stored", connector->name, skipped);
  if (first_stored != 0) {
    spdlog::debug("connector {}: records {}..{} stored ({} samples)", connector->name, first_stored,
                  acked, sample_count);
  }
  if (!live.empty()) hub_.Stored(connector->tenant_id);
  co_return http::Response::Json({{"acked_seq", acked}});
}

}  // namespace wattline::server
