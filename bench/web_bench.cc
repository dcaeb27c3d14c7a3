// wattline-web-bench: the client side of the web benchmark (bench/web_bench.sh, docs/benchmarks.md
// "Web benchmark"), against a wattline-server on loopback. One command per run:
//
//   login  Logs in (POST /api/v1/login) and prints the session cookie ("wl_session=...").
//   get    GETs a path with a cookie and writes the body to --out (the JSON nginx serves).
//   feed   Posts an ingest batch every second as connector --connector: --meters meters with
//          --signals signals each, one reading per meter, all stamped with the wall-clock time
//          of sending. --seconds 0 feeds until SIGTERM/SIGINT.
//   live   Opens --clients WebSocket connections (/api/v1/live, Boost.Beast over TLS, all on
//          one thread, sharing one session), subscribes each to every signal of the tenant, then
//          feeds for --seconds as `feed` does (on a thread of its own) and measures for every
//          received frame the delay from the samples' timestamp to the frame's arrival. Prints
//          markdown table rows: frames expected and received, delay percentiles.
//
// Every connection trusts exactly the server's certificate (--cert). A first batch with
// sequence number 1 tells the feeder where the connector's sequence stands (the server answers
// its acknowledged sequence), so repeated runs against one server continue it.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench_report.h"
#include "core/flags.h"
#include "core/program.h"
#include "core/status.h"
#include "core/time.h"
#include "http/tls.h"
#include "wire/batch.h"
#include "wire/reading.h"
#include "wire/reading_codec.h"

namespace wattline::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

std::atomic<bool> g_stop{false};

int64_t NowMs() { return ToUnixMs(RealTime().SystemNow()); }

double NowMsPrecise() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct HttpAnswer {
  unsigned status = 0;
  std::string body;
  std::string set_cookie;
};

// One keep-alive HTTPS connection with blocking requests: the feeder's and the set-up's.
class SyncHttps {
 public:
  SyncHttps(std::shared_ptr<asio::ssl::context> tls, std::string host, uint16_t port)
      : tls_(std::move(tls)), host_(std::move(host)), port_(port) {}

  Result<HttpAnswer> Request(bhttp::verb method, const std::string& target,
                             const std::string& content_type, const std::string& body,
                             const std::vector<std::pair<std::string, std::string>>& headers) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      beast::error_code ec;
      if (!stream_) Connect(ec);
      if (ec) return Fail(Unavailable("connect: " + ec.message()));
      bhttp::request<bhttp::string_body> req(method, target, 11);
      req.set(bhttp::field::host, host_);
      if (!content_type.empty()) req.set(bhttp::field::content_type, content_type);
      for (const auto& [k, v] : headers) req.set(k, v);
      req.body() = body;
      req.prepare_payload();
      bhttp::write(*stream_, req, ec);
      bhttp::response<bhttp::string_body> res;
      if (!ec) {
        beast::flat_buffer buffer;
        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        bhttp::read(*stream_, buffer, parser, ec);
        if (!ec) res = parser.release();
      }
      if (ec) {
        // A keep-alive connection the server closed: one retry on a fresh one.
        stream_.reset();
        if (attempt == 0) continue;
        return Fail(Unavailable(std::string(bhttp::to_string(method)) + " " + target + ": " +
                                ec.message()));
      }
      HttpAnswer out{res.result_int(), std::move(res.body()), {}};
      if (auto it = res.find(bhttp::field::set_cookie); it != res.end()) {
        out.set_cookie = std::string(it->value());
      }
      if (!res.keep_alive()) stream_.reset();
      return out;
    }
    return Fail(Unavailable("unreachable"));
  }

 private:
  void Connect(beast::error_code& ec) {
    auto s = std::make_unique<beast::ssl_stream<tcp::socket>>(io_, *tls_);
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(host_, std::to_string(port_), ec);
    if (ec) return;
    asio::connect(s->next_layer(), endpoints, ec);
    if (ec) return;
    s->set_verify_callback(asio::ssl::host_name_verification(host_));
    s->handshake(asio::ssl::stream_base::client, ec);
    if (ec) return;
    stream_ = std::move(s);
  }

  asio::io_context io_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::string host_;
  uint16_t port_;
  std::unique_ptr<beast::ssl_stream<tcp::socket>> stream_;
};

struct FeedConfig {
  std::string connector;
  std::string token;
  int meters = 20;
  int signals = 50;
};

// Posts one batch per call: every meter's reading stamped `ts_ms`.
class Feeder {
 public:
  Feeder(SyncHttps& http, FeedConfig config) : http_(http), config_(std::move(config)) {}

  // Sends one batch with sequence number 1 and learns the connector's acknowledged sequence.
  Status Start() {
    auto acked = Post(1, NowMs());
    if (!acked) return acked.error();
    next_seq_ = std::max<uint64_t>(*acked, 1) + 1;
    return Status::Ok();
  }

  // One batch of new records; returns the acknowledged sequence.
  Result<uint64_t> Send(int64_t ts_ms) {
    auto acked = Post(next_seq_, ts_ms);
    if (acked) next_seq_ += config_.meters;
    return acked;
  }

 private:
  Result<uint64_t> Post(uint64_t first_seq, int64_t ts_ms) {
    wire::Batch batch;
    batch.connector_id = config_.connector;
    for (int m = 0; m < config_.meters; ++m) {
      wire::MeterReading r;
      r.device = fmt::format("meter-{:02}", m + 1);
      r.model = "web-bench";
      r.ts_ms = ts_ms;
      for (int s = 0; s < config_.signals; ++s) {
        // Values that change every second, as a meter's would.
        double v = 230.0 + m + s * 0.25 + static_cast<double>(ts_ms % 60000) / 1000.0;
        r.values.push_back(
            {fmt::format("signal_{:02}", s), "W", SignalKind::kInstant, v, Quality::kGood});
      }
      batch.records.push_back({first_seq + static_cast<uint64_t>(m), wire::EncodeReading(r)});
    }
    auto res =
        http_.Request(bhttp::verb::post, "/api/v1/ingest", "application/vnd.wattline.batch",
                      wire::EncodeBatch(batch), {{"Authorization", "Bearer " + config_.token}});
    if (!res) return Fail(res.error());
    if (res->status != 200) {
      return Fail(Internal(fmt::format("ingest answered {}: {}", res->status, res->body)));
    }
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    if (!j.is_object() || !j.contains("acked_seq") || !j["acked_seq"].is_number_unsigned()) {
      return Fail(Internal("ingest answer without acked_seq: " + res->body));
    }
    return j["acked_seq"].get<uint64_t>();
  }

  SyncHttps& http_;
  FeedConfig config_;
  uint64_t next_seq_ = 1;
};

struct FeedResult {
  int batches = 0;  // acknowledged
  int failures = 0;
  double worst_post_ms = 0;
};

// Feeds at 1 Hz on the caller's thread for `seconds` (0: until g_stop).
FeedResult FeedLoop(Feeder& feeder, int seconds, const std::atomic<bool>& stop) {
  FeedResult out;
  auto next = std::chrono::steady_clock::now();
  for (int i = 0; seconds == 0 || i < seconds; ++i) {
    std::this_thread::sleep_until(next);
    if (stop || g_stop) break;
    next += std::chrono::seconds(1);
    auto t0 = std::chrono::steady_clock::now();
    auto acked = feeder.Send(NowMs());
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    out.worst_post_ms = std::max(out.worst_post_ms, ms);
    if (acked) {
      ++out.batches;
    } else {
      ++out.failures;
      spdlog::error("batch {}: {}", i, acked.error().ToString());
    }
  }
  return out;
}

// --- live: many WebSocket clients -------------------------------------------------------------

struct LiveShared {
  std::string host;
  uint16_t port = 0;
  std::string cookie;
  std::string subscribe;  // the subscribe message
  std::shared_ptr<asio::ssl::context> tls;
  size_t expected_values = 0;
  bool measuring = false;
  int ready = 0;
  int failed = 0;
  uint64_t error_frames = 0;
  uint64_t short_frames = 0;  // frames with fewer values than the batch had
  std::vector<uint64_t> frames_per_client;
  std::vector<double> delays_ms;
};

// The "ts_ms" of a values frame (every value of a batch has the same: no dt_ms), or -1.
int64_t FirstTimestamp(std::string_view text) {
  constexpr std::string_view kKey = "\"ts_ms\":";
  size_t pos = text.find(kKey);
  if (pos == std::string_view::npos) return -1;
  int64_t v = 0;
  for (pos += kKey.size(); pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos) {
    v = v * 10 + (text[pos] - '0');
  }
  return v;
}

asio::awaitable<void> LiveClient(LiveShared& shared, size_t index) {
  auto executor = co_await asio::this_coro::executor;
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(executor, *shared.tls);
  beast::error_code ec;
  auto fail = [&](const char* what) {
    spdlog::error("client {}: {}: {}", index, what, ec.message());
    ++shared.failed;
  };
  tcp::endpoint endpoint(asio::ip::make_address(shared.host), shared.port);
  beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(30));
  co_await beast::get_lowest_layer(ws).async_connect(endpoint,
                                                     asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fail("connect");
  ws.next_layer().set_verify_callback(asio::ssl::host_name_verification(shared.host));
  co_await ws.next_layer().async_handshake(asio::ssl::stream_base::client,
                                           asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fail("TLS handshake");
  beast::get_lowest_layer(ws).expires_never();
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  const std::string cookie = shared.cookie;
  ws.set_option(websocket::stream_base::decorator(
      [cookie](websocket::request_type& req) { req.set(bhttp::field::cookie, cookie); }));
  ws.read_message_max(64 * 1024 * 1024);
  const std::string host = shared.host + ":" + std::to_string(shared.port);
  co_await ws.async_handshake(host, "/api/v1/live", asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fail("WebSocket handshake");
  co_await ws.async_write(asio::buffer(shared.subscribe),
                          asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fail("subscribe");
  ++shared.ready;
  beast::flat_buffer buffer;
  while (true) {
    co_await ws.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    const double now = NowMsPrecise();
    const auto data = buffer.cdata();
    std::string_view text(static_cast<const char*>(data.data()), data.size());
    // Cheap checks only: the client reads ~16 MB/s at 1,000 clients. Frames start with their
    // type, and each value is one array inside the "values" array.
    if (text.substr(0, 32).find("\"type\":\"error\"") != std::string_view::npos) {
      ++shared.error_frames;
      spdlog::warn("client {}: {}", index, text.substr(0, 200));
    } else if (shared.measuring) {
      const int64_t ts = FirstTimestamp(text);
      if (ts > 0) {
        shared.delays_ms.push_back(now - static_cast<double>(ts));
        ++shared.frames_per_client[index];
        const size_t values = static_cast<size_t>(std::count(text.begin(), text.end(), '[')) - 1;
        if (values < shared.expected_values) ++shared.short_frames;
      }
    }
    buffer.consume(buffer.size());
  }
  if (ec != websocket::error::closed && ec != asio::error::operation_aborted && !g_stop) {
    spdlog::debug("client {}: read ended: {}", index, ec.message());
  }
}

double Percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

Result<std::string> Login(SyncHttps& http, const std::string& password_file) {
  std::ifstream in(password_file);
  std::string password;
  if (!(in >> password)) return Fail(InvalidArgument("cannot read " + password_file));
  nlohmann::json body = {{"username", "admin"}, {"password", password}};
  auto res = http.Request(bhttp::verb::post, "/api/v1/login", "application/json", body.dump(), {});
  if (!res) return Fail(res.error());
  if (res->status != 200) {
    return Fail(Unauthenticated(fmt::format("login answered {}: {}", res->status, res->body)));
  }
  // "wl_session=TOKEN; Path=/; ..." -> "wl_session=TOKEN"
  std::string cookie = res->set_cookie.substr(0, res->set_cookie.find(';'));
  if (cookie.empty()) return Fail(Internal("login answer without a session cookie"));
  return cookie;
}

int RunLive(const Options& options, SyncHttps& http, const FeedConfig& feed_config,
            const std::string& cookie) {
  const int clients = static_cast<int>(options.GetInt("clients").value_or(0));
  const int seconds = static_cast<int>(options.GetInt("seconds").value_or(0));
  if (clients < 1 || seconds < 1) {
    spdlog::critical("live needs --clients >= 1 and --seconds >= 1");
    return 2;
  }
  const double load1 = [] {
    double l[1] = {0};
    return getloadavg(l, 1) == 1 ? l[0] : 0.0;
  }();
  Feeder feeder(http, feed_config);
  if (Status s = feeder.Start(); !s.ok()) {
    spdlog::critical("first batch: {}", s.ToString());
    return 1;
  }
  auto signals = http.Request(bhttp::verb::get, "/api/v1/signals", "", "", {{"Cookie", cookie}});
  if (!signals || signals->status != 200) {
    spdlog::critical("GET /api/v1/signals failed");
    return 1;
  }
  std::vector<int64_t> ids;
  for (const auto& s : nlohmann::json::parse(signals->body)) ids.push_back(s["id"].get<int64_t>());
  const size_t per_batch = static_cast<size_t>(feed_config.meters * feed_config.signals);
  if (ids.size() < per_batch) {
    spdlog::critical("the tenant has {} signals, the batches {}", ids.size(), per_batch);
    return 1;
  }

  LiveShared shared;
  shared.host = options.Get("host");
  shared.port = static_cast<uint16_t>(options.GetInt("port").value_or(0));
  shared.cookie = cookie;
  shared.subscribe = nlohmann::json{{"type", "subscribe"}, {"signals", ids}}.dump();
  auto tls = http::MakePinnedClientContext(options.Get("cert"));
  if (!tls) {
    spdlog::critical("{}", tls.error().ToString());
    return 1;
  }
  shared.tls = *tls;
  shared.expected_values = per_batch;
  shared.frames_per_client.assign(static_cast<size_t>(clients), 0);
  shared.delays_ms.reserve(static_cast<size_t>(clients) * static_cast<size_t>(seconds + 2));

  asio::io_context io(1);
  for (int i = 0; i < clients; ++i) {
    asio::co_spawn(io, LiveClient(shared, static_cast<size_t>(i)), asio::detached);
  }
  // Set-up: every client connected and subscribed, then a second for the subscriptions to
  // be handled; frames before that are not counted.
  const auto setup_start = std::chrono::steady_clock::now();
  while (shared.ready + shared.failed < clients) {
    io.run_for(std::chrono::milliseconds(50));
    if (std::chrono::steady_clock::now() - setup_start > std::chrono::seconds(120)) break;
  }
  const double setup_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - setup_start).count();
  if (shared.ready < clients) {
    spdlog::critical("only {} of {} clients connected", shared.ready, clients);
    return 1;
  }
  io.run_for(std::chrono::seconds(1));
  shared.measuring = true;

  std::atomic<bool> feed_stop{false};
  FeedResult fed;
  std::thread feed_thread([&] { fed = FeedLoop(feeder, seconds, feed_stop); });
  const auto feed_end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < feed_end && !g_stop) {
    io.run_for(std::chrono::milliseconds(100));
  }
  feed_thread.join();
  // Frames of the last batch still on their way.
  io.run_for(std::chrono::seconds(2));
  shared.measuring = false;
  io.stop();

  const uint64_t expected = static_cast<uint64_t>(fed.batches) * static_cast<uint64_t>(clients);
  uint64_t received = 0;
  uint64_t min_client = UINT64_MAX;
  for (uint64_t n : shared.frames_per_client) {
    received += n;
    min_client = std::min(min_client, n);
  }
  std::vector<double>& d = shared.delays_ms;
  std::sort(d.begin(), d.end());
  const double p99 = Percentile(d, 0.99);
  const bool complete = received == expected && shared.short_frames == 0 && fed.failures == 0;
  fmt::print("| WebSocket clients (one session, each subscribed to all {} signals) | {} | | |\n",
             per_batch, clients);
  fmt::print("| Set-up: TLS + WebSocket handshakes and subscribe of all clients | {:.1f} s | | |\n",
             setup_s);
  fmt::print(
      "| Batches posted at 1 Hz (acknowledged / failed), slowest POST | {} / {}, {:.0f} ms "
      "| | |\n",
      fed.batches, fed.failures, fed.worst_post_ms);
  fmt::print(
      "| Frames expected / received / missing (fewest for one client) | {} / {} / {} ({}) "
      "| none missing | {} |\n",
      expected, received, expected > received ? expected - received : 0, min_client,
      Verdict(complete));
  if (shared.short_frames || shared.error_frames) {
    fmt::print("| Frames with values missing / error frames | {} / {} | 0 | MISSED |\n",
               shared.short_frames, shared.error_frames);
  }
  fmt::print("| Delay sample time -> frame received, p50 / p90 | {:.1f} / {:.1f} ms | | |\n",
             Percentile(d, 0.5), Percentile(d, 0.9));
  fmt::print("| Delay p99 | {:.1f} ms | < 100 ms | {} |\n", p99, Verdict(p99 < 100));
  fmt::print("| Delay max | {:.1f} ms | | |\n", d.empty() ? 0.0 : d.back());
  std::string notes = BuildNotes(load1);
  if (!notes.empty()) fmt::print("{}\n", notes);
  return complete ? 0 : 1;
}

int Main(int argc, char** argv) {
  Options options(
      "wattline-web-bench",
      "Client of the web benchmark: login | get | feed | live (see bench/web_bench.sh).");
  options.Add("host", "127.0.0.1", "server address (an IP address of its certificate)");
  options.Add("port", "0", "server port");
  options.Add("cert", "", "the server's certificate (PEM), trusted exactly");
  options.Add("password_file", "", "login: file with the admin password");
  options.Add("cookie", "", "get/live: the session cookie (wl_session=...); live logs in if empty");
  options.Add("path", "/api/v1/latest", "get: the path to GET");
  options.Add("out", "", "get: file to write the body to");
  options.Add("connector", "bench-1", "feed/live: the connector's name");
  options.Add("token", "", "feed/live: the connector's bearer token");
  options.Add("meters", "20", "feed/live: meters per batch");
  options.Add("signals", "50", "feed/live: signals per meter");
  options.Add("seconds", "60", "feed/live: batches to send at 1 Hz (feed: 0 = until SIGTERM)");
  options.Add("clients", "1000", "live: WebSocket clients");
  std::vector<std::string> positional;
  if (auto exit_code = StartProgram(options, argc, argv, "web-bench", &positional)) {
    return *exit_code;
  }
  if (positional.size() != 1) {
    std::cerr << options.Help();
    return 2;
  }
  const std::string command = positional[0];
  auto tls = http::MakePinnedClientContext(options.Get("cert"));
  if (!tls) {
    spdlog::critical("{}", tls.error().ToString());
    return 2;
  }
  auto port = options.GetInt("port");
  if (!port || *port < 1 || *port > 65535) {
    spdlog::critical("--port must be a port number");
    return 2;
  }
  SyncHttps http(*tls, options.Get("host"), static_cast<uint16_t>(*port));
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });

  FeedConfig feed_config;
  feed_config.connector = options.Get("connector");
  feed_config.token = options.Get("token");
  feed_config.meters = static_cast<int>(options.GetInt("meters").value_or(0));
  feed_config.signals = static_cast<int>(options.GetInt("signals").value_or(0));
  if (feed_config.meters < 1 || feed_config.meters > 1000 || feed_config.signals < 1 ||
      feed_config.signals > 100) {
    spdlog::critical("--meters must be 1..1000 and --signals 1..100");
    return 2;
  }

  if (command == "login") {
    auto cookie = Login(http, options.Get("password_file"));
    if (!cookie) {
      spdlog::critical("{}", cookie.error().ToString());
      return 1;
    }
    std::cout << *cookie << std::endl;
    return 0;
  }
  if (command == "get") {
    auto res = http.Request(bhttp::verb::get, options.Get("path"), "", "",
                            {{"Cookie", options.Get("cookie")}});
    if (!res || res->status != 200) {
      spdlog::critical(
          "GET {} failed: {}", options.Get("path"),
          res ? fmt::format("status {}: {}", res->status, res->body) : res.error().ToString());
      return 1;
    }
    std::ofstream(options.Get("out"), std::ios::binary) << res->body;
    return 0;
  }
  if (command == "feed") {
    Feeder feeder(http, feed_config);
    if (Status s = feeder.Start(); !s.ok()) {
      spdlog::critical("first batch: {}", s.ToString());
      return 1;
    }
    std::atomic<bool> never{false};
    FeedResult r = FeedLoop(feeder, static_cast<int>(options.GetInt("seconds").value_or(0)), never);
    spdlog::info("fed {} batches, {} failed, slowest POST {:.0f} ms", r.batches, r.failures,
                 r.worst_post_ms);
    return r.failures == 0 ? 0 : 1;
  }
  if (command == "live") {
    std::string cookie = options.Get("cookie");
    if (cookie.empty()) {
      auto c = Login(http, options.Get("password_file"));
      if (!c) {
        spdlog::critical("{}", c.error().ToString());
        return 1;
      }
      cookie = *c;
    }
    return RunLive(options, http, feed_config, cookie);
  }
  spdlog::critical("unknown command '{}': login, get, feed or live", command);
  return 2;
}

}  // namespace
}  // namespace wattline::bench

int main(int argc, char** argv) { return wattline::bench::Main(argc, argv); }
