#include "edge/uplink.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <random>

#include "core/time.h"
#include "http/client.h"
#include "http/server.h"
#include "wire/batch.h"

namespace wattline::edge {
namespace asio = boost::asio;

struct Uplink::State : std::enable_shared_from_this<State> {
  asio::io_context& io;
  DurableQueue& queue;
  UplinkConfig config;
  http::HttpsClient client;
  asio::steady_timer timer;
  bool stopped = false;
  UplinkStatus status;
  std::mt19937 rng{std::random_device{}()};

  State(asio::io_context& io, DurableQueue& queue, UplinkConfig config,
        std::shared_ptr<asio::ssl::context> tls)
      : io(io),
        queue(queue),
        config(config),
        client(io.get_executor(), tls, config.host, config.port),
        timer(io) {}

  asio::awaitable<void> Sleep(std::chrono::milliseconds d) {
    timer.expires_after(d);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  // One attempt: read, send, ack. Returns whether the batch was full (by count or size) and more
  // durable records are waiting: then the next batch goes out at once.
  asio::awaitable<Result<bool>> SendOnce() {
    auto records = queue.ReadDurable(queue.acked_seq(), config.max_records, config.max_bytes);
    if (!records) co_return Fail(records.error());
    if (records->empty()) co_return false;
    wire::Batch batch;
    batch.connector_id = config.connector_id;
    batch.records.reserve(records->size());
    for (auto& r : *records) batch.records.push_back({r.seq, std::move(r.payload)});
    const uint64_t last = batch.records.back().seq;
    const size_t count = batch.records.size();
    size_t payload_bytes = 0;
    for (const auto& r : batch.records) payload_bytes += r.reading.size();
    // Locals rather than braced temporaries in the co_await: GCC 12 miscompiles the latter.
    std::vector<std::pair<std::string, std::string>> headers;
    headers.emplace_back("Authorization", "Bearer " + config.token);
    std::string body = wire::EncodeBatch(batch);
    auto res = co_await client.Send(boost::beast::http::verb::post, "/api/v1/ingest",
                                    "application/vnd.wattline.batch", std::move(body),
                                    std::move(headers), config.timeout);
    if (!res) co_return Fail(res.error());
    if (res->status != 200) {
      std::string msg = res->body;
      auto j = nlohmann::json::parse(res->body, nullptr, false);
      if (j.is_object() && j.contains("error") && j["error"].is_object())
        msg = j["error"].value("message", msg);
      Code code = res->status == 401   ? Code::kUnauthenticated
                  : res->status == 403 ? Code::kPermissionDenied
                  : res->status < 500  ? Code::kInvalidArgument
                                       : Code::kUnavailable;
      co_return Fail(Status(code, "server answered " + std::to_string(res->status) + ": " + msg));
    }
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    if (!j.is_object() || !j.contains("acked_seq") || !j["acked_seq"].is_number_unsigned()) {
      co_return Fail(
          InvalidArgument("server answer without acked_seq: " + res->body.substr(0, 200)));
    }
    uint64_t acked = j["acked_seq"].get<uint64_t>();
    if (acked > queue.durable_seq()) {
      // The server has more than we ever stored: our queue was reset. Our new records would be
      // dropped as duplicates, so stop and say so instead of losing data silently.
      co_return Fail(FailedPrecondition("server acknowledged seq " + std::to_string(acked) +
                                        " but this connector's queue ends at " +
                                        std::to_string(queue.durable_seq()) +
                                        "; the queue folder was reset: re-register the connector"));
    }
    if (Status s = queue.Ack(std::min(acked, last)); !s.ok()) co_return Fail(s);
    status.batches_sent++;
    status.last_success_ms = ToUnixMs(RealTime().SystemNow());
    if (!status.last_error.empty()) {
      spdlog::info("uplink: delivering again (acked up to {})", acked);
      status.last_error.clear();
    }
    // A backlog batch is usually cut by max_bytes before max_records; waiting poll_interval
    // after each would throttle the drain to one batch a second. ReadDurable stops short of
    // max_bytes by less than one record, so "half of max_bytes" only misses for huge records.
    const bool full = count >= config.max_records || payload_bytes * 2 >= config.max_bytes;
    const bool more = full && last < queue.durable_seq();
    co_return more;
  }

  asio::awaitable<void> Loop() {
    auto self = shared_from_this();
    std::chrono::milliseconds backoff(500);
    while (!stopped) {
      auto sent = co_await SendOnce();
      if (stopped) break;
      if (!sent) {
        status.failures++;
        std::string err = sent.error().ToString();
        if (err != status.last_error) spdlog::warn("uplink: {} (retrying with backoff)", err);
        status.last_error = err;
        // Exponential backoff with jitter in [backoff/2, backoff] so that many connectors do
        // not hammer a recovering server in lock-step.
        std::uniform_int_distribution<int64_t> jitter(backoff.count() / 2, backoff.count());
        co_await Sleep(std::chrono::milliseconds(jitter(rng)));
        backoff = std::min(backoff * 2, config.max_backoff);
        continue;
      }
      backoff = std::chrono::milliseconds(500);
      if (!*sent) co_await Sleep(config.poll_interval);
    }
  }
};

Uplink::Uplink(asio::io_context& io, DurableQueue& queue, UplinkConfig config,
               std::shared_ptr<asio::ssl::context> tls)
    : state_(std::make_shared<State>(io, queue, std::move(config), std::move(tls))) {}

Uplink::~Uplink() { Stop(); }

void Uplink::Start() { asio::co_spawn(state_->io, state_->Loop(), asio::detached); }

void Uplink::Stop() {
  state_->stopped = true;
  state_->timer.cancel();
  state_->client.Close();
}

UplinkStatus Uplink::status() const { return state_->status; }

Result<std::pair<std::string, uint16_t>> ParseHttpsUrl(const std::string& url) {
  constexpr std::string_view kScheme = "https://";
  if (url.rfind(kScheme, 0) != 0) {
    return Fail(InvalidArgument("server URL must start with https:// (got '" + url + "')"));
  }
  std::string rest = url.substr(kScheme.size());
  if (auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
  if (rest.find(':') == std::string::npos || rest.back() == ']') rest += ":443";
  return http::ParseHostPort(rest);
}

}  // namespace wattline::edge
