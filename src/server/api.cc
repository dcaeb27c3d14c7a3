#include "server/api.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <nlohmann/json.hpp>

#include "server/export.h"
#include "server/site_tree_api.h"

namespace wattline::server {
namespace bhttp = boost::beast::http;
using http::Request;
using http::Response;
using nlohmann::json;

namespace {

Result<int64_t> IntParam(const std::map<std::string, std::string>& params, const std::string& name,
                         std::optional<int64_t> fallback = std::nullopt) {
  auto it = params.find(name);
  if (it == params.end()) {
    if (fallback) return *fallback;
    return Fail(InvalidArgument("parameter '" + name + "' is required"));
  }
  int64_t v = 0;
  const std::string& s = it->second;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    return Fail(InvalidArgument("parameter '" + name + "' must be an integer, got '" + s + "'"));
  }
  return v;
}

const char* KindName(SignalKind k) { return k == SignalKind::kCounter ? "counter" : "instant"; }

json SignalJson(const SignalInfo& s) {
  return {{"id", s.id},
          {"meter_id", s.device_id},
          {"name", s.name},
          {"unit", s.unit},
          {"kind", KindName(s.kind)}};
}

json Num(double v) { return std::isfinite(v) ? json(v) : json(); }

// The body of history and chart: points as [ts_ms, value] pairs, and beside them the samples
// whose quality is not good as [ts_ms, "manual" | "invalid"], so that a chart can mark manual
// readings while clients that read pairs keep working.
json PointsBody(const SignalInfo& signal, const std::vector<historian::StoredSample>& points) {
  json pts = json::array();
  json qualities = json::array();
  for (const auto& p : points) {
    pts.push_back(json::array({p.ts_ms, Num(p.value)}));
    if (p.quality != Quality::kGood)
      qualities.push_back(json::array({p.ts_ms, QualityName(p.quality)}));
  }
  return {{"signal", SignalJson(signal)},
          {"points", std::move(pts)},
          {"qualities", std::move(qualities)}};
}
}  // namespace

void Api::Register(http::Router& router) {
  // The API document (src/server/openapi.json, compiled in, parsed once here); openapi_test
  // checks it against the routes.
  router.Add(bhttp::verb::get, "/api/v1/openapi.json",
             [doc = nlohmann::json::parse(kOpenApiJson)](Request&) { return Response::Json(doc); });
  router.Add(bhttp::verb::get, "/api/v1/meters", [this](Request& r) { return Meters(r); });
  router.Add(bhttp::verb::get, "/api/v1/signals", [this](Request& r) { return Signals(r); });
  router.Add(bhttp::verb::get, "/api/v1/latest", [this](Request& r) { return Latest(r); });
  router.Add(bhttp::verb::get, "/api/v1/signals/{id}/chart",
             [this](Request& r) { return Chart(r); });
  router.Add(bhttp::verb::get, "/api/v1/signals/{id}/aggregates",
             [this](Request& r) { return Aggregates(r); });
  router.Add(bhttp::verb::get, "/api/v1/signals/{id}/history",
             [this](Request& r) { return History(r); });
  router.AddAsync(bhttp::verb::post, "/api/v1/export", [this](Request& r) { return Export(r); });
}

Result<std::vector<SignalInfo>> Api::SignalsOfQuery(const Session& session, const Request& req) {
  std::optional<int64_t> meter;
  if (req.query.count("meter")) {
    auto m = IntParam(req.query, "meter");
    if (!m) return Fail(m.error());
    meter = *m;
  }
  return catalog_.ListSignals(session.tenant_id, meter);
}

Response Api::Meters(Request& req) {
  auto s = guard_.Check(req, Role::kViewer, Access::kRead);
  if (!s) return Response::Error(s.error());
  auto devices = catalog_.ListDevices(s->tenant_id);
  if (!devices) return Response::Error(devices.error());
  json out = json::array();
  for (const auto& d : *devices) {
    json signals = json::array();
    for (const auto& sig : d.signals) signals.push_back(SignalJson(sig));
    out.push_back({{"id", d.id},
                   {"name", d.name},
                   {"model", d.model},
                   {"site", {{"id", d.site_id}, {"name", d.site_name}}},
                   {"connector", d.connector},
                   {"last_seen_ms", d.last_seen_ms},
                   {"signals", signals}});
  }
  return Response::Json(out);
}

Response Api::Signals(Request& req) {
  auto s = guard_.Check(req, Role::kViewer, Access::kRead);
  if (!s) return Response::Error(s.error());
  auto signals = SignalsOfQuery(*s, req);
  if (!signals) return Response::Error(signals.error());
  json out = json::array();
  for (const auto& sig : *signals) out.push_back(SignalJson(sig));
  return Response::Json(out);
}

Response Api::Latest(Request& req) {
  auto s = guard_.Check(req, Role::kViewer, Access::kRead);
  if (!s) return Response::Error(s.error());
  // The whole tenant's answer is kept until the tenant's next ingested batch: pollers ask far
  // more often than data arrives, and building it is most of a request's cost.
  const bool whole_tenant = req.query.empty();
  const uint64_t version = hub_.stored_batches(s->tenant_id);
  if (auto it = latest_cache_.find(s->tenant_id);
      whole_tenant && it != latest_cache_.end() && it->second.version == version) {
    Response r;
    r.body = it->second.body;
    return r;
  }
  auto signals = SignalsOfQuery(*s, req);
  if (!signals) return Response::Error(signals.error());
  std::vector<int64_t> ids;
  std::map<int64_t, int64_t> meter_of;
  for (const auto& sig : *signals) {
    ids.push_back(sig.id);
    meter_of[sig.id] = sig.device_id;
  }
  auto latest = store_.Latest(ids);
  if (!latest) return Response::Error(latest.error());
  json out = json::array();
  for (const auto& v : *latest) {
    out.push_back({{"signal_id", v.signal_id},
                   {"meter_id", meter_of[v.signal_id]},
                   {"ts_ms", v.ts_ms},
                   {"value", Num(v.value)},
                   {"quality", QualityName(v.quality)}});
  }
  Response r = Response::Json(out);
  if (whole_tenant) latest_cache_[s->tenant_id] = {version, r.body};
  return r;
}

Response Api::History(Request& req) {
  auto s = guard_.Check(req, Role::kViewer, Access::kRead);
  if (!s) return Response::Error(s.error());
  auto id = IntParam(req.path_params, "id");
  auto from = IntParam(req.query, "from");
  auto to = IntParam(req.query, "to");
  auto max_points = IntParam(req.query, "max_points", 0);
  for (const auto* r : {&id, &from, &to, &max_points}) {
    if (!*r) return Response::Error(r->error());
  }
  if (*to <= *from) return Response::Error(InvalidArgument("'to' must be after 'from'"));
  if (*max_points < 0 || *max_points > 100000) {
    return Response::Error(InvalidArgument("max_points must be between 0 and 100000"));
  }
  auto signal = catalog_.GetSignal(s->tenant_id, *id);
  if (!signal) return Response::Error(signal.error());
  constexpr size_t kMaxRaw = 500000;
  auto points = store_.Range(*id, *from, *to, kMaxRaw);
  if (!points) return Response::Error(points.error());
  if (*max_points > 0) {
    *points = historian::DownsampleMinMax(*points, *from, *to, static_cast<size_t>(*max_points));
  }
  return Response::Json(PointsBody(*signal, *points));
}

Response Api::Chart(Request& req) {
  auto s = guard_.Check(req, Role::kViewer, Access::kRead);
  if (!s) return Response::Error(s.error());
  auto id = IntParam(req.path_params, "id");
  auto from = IntParam(req.query, "from");
  auto to = IntParam(req.query, "to");
  auto points = IntParam(req.query, "points", 1000);
  for (const auto* r : {&id, &from, &to, &points}) {
    if (!*r) return Response::Error(r->error());
  }
  if (*to <= *from) return Response::Error(InvalidArgument("'to' must be after 'from'"));
  if (*points < 2 || *points > 20000) {
    return Response::Error(InvalidArgument("points must be between 2 and 20000"));
  }
  auto signal = catalog_.GetSignal(s->tenant_id, *id);
  if (!signal) return Response::Error(signal.error());
  auto chart = store_.Chart(*id, *from, *to, static_cast<size_t>(*points));
  if (!chart) return Response::Error(chart.error());
  return Response::Json(PointsBody(*signal, *chart));
}

Response Api::Aggregates(Request& req) {
  auto s = guard_.Check(req, Role::kViewer, Access::kRead);
  if (!s) return Response::Error(s.error());
  auto id = IntParam(req.path_params, "id");
  auto from = IntParam(req.query, "from");
  auto to = IntParam(req.query, "to");
  for (const auto* r : {&id, &from, &to}) {
    if (!*r) return Response::Error(r->error());
  }
  if (*to <= *from) return Response::Error(InvalidArgument("'to' must be after 'from'"));
  auto it = req.query.find("interval");
  if (it == req.query.end()) {
    return Response::Error(InvalidArgument(
        "parameter 'interval' is required: 15min, hour, 2h, day, week, month, quarter or year"));
  }
  auto interval = historian::ParseInterval(it->second);
  if (!interval) return Response::Error(interval.error());
  std::optional<historian::Interval> minmax;
  if (auto m = req.query.find("minmax_from"); m != req.query.end()) {
    auto ref = historian::ParseInterval(m->second);
    if (!ref) return Response::Error(ref.error());
    minmax = *ref;
  }
  auto signal = catalog_.GetSignal(s->tenant_id, *id);
  if (!signal) return Response::Error(signal.error());
  auto aggs = store_.Aggregates(*id, *interval, *from, *to, minmax);
  if (!aggs) return Response::Error(aggs.error());
  json out = json::array();
  const bool counter = signal->kind == SignalKind::kCounter;
  for (const auto& a : *aggs) {
    json j = {{"start_ms", a.start_ms},   {"end_ms", a.end_ms},       {"count", a.count},
              {"min", Num(a.min)},        {"min_ts_ms", a.min_ts_ms}, {"max", Num(a.max)},
              {"max_ts_ms", a.max_ts_ms}, {"mean", Num(a.mean)},      {"first", Num(a.first)},
              {"last", Num(a.last)}};
    if (counter) j["consumption"] = a.consumption ? Num(*a.consumption) : json();
    out.push_back(std::move(j));
  }
  return Response::Json({{"signal", SignalJson(*signal)},
                         {"interval", std::string(historian::IntervalName(*interval))},
                         {"zone", store_.calendar().zone()},
                         {"aggregates", std::move(out)}});
}

Result<http::WebSocketOpen> Api::OpenLive(Request& req) {
  auto s = guard_.Check(req, Role::kViewer, Access::kRead);
  if (!s) return Fail(s.error());
  int64_t tenant = s->tenant_id;
  return http::WebSocketOpen([this, tenant](std::shared_ptr<http::WebSocketSession> ws) {
    std::weak_ptr<http::WebSocketSession> weak = ws;
    const uint64_t client = hub_.Join(tenant, [weak](LiveHub::Frame frame) {
      if (auto sp = weak.lock()) sp->Send(std::move(frame));
    });
    // The ids of a subscription that are not the tenant's signals: looked up one by one for a
    // few, from the tenant's list (one query) for many.
    LiveHub::SignalCheck check =
        [this, tenant](std::span<const int64_t> ids) -> Result<std::vector<int64_t>> {
      std::vector<int64_t> unknown;
      if (ids.size() <= 16) {
        for (int64_t id : ids) {
          auto signal = catalog_.GetSignal(tenant, id);
          if (signal) continue;
          if (signal.error().code() != Code::kNotFound) return Fail(signal.error());
          unknown.push_back(id);
        }
        return unknown;
      }
      auto signals = catalog_.ListSignals(tenant, std::nullopt);
      if (!signals) return Fail(signals.error());
      std::set<int64_t> known;
      for (const SignalInfo& info : *signals) known.insert(info.id);
      for (int64_t id : ids) {
        if (!known.count(id)) unknown.push_back(id);
      }
      return unknown;
    };
    ws->OnMessage([this, client, check = std::move(check)](const std::string& text) {
      hub_.OnMessage(client, text, check);
    });
    ws->OnClose([this, client] { hub_.Leave(client); });
  });
}

}  // namespace wattline::server

namespace wattline::server {
namespace {

// A coroutine that owns its request (parameters live in the coroutine frame).
boost::asio::awaitable<Result<ExportFile>> RenderOnPool(ExportRequest r) {
  co_return RenderExport(r);
}

}  // namespace

boost::asio::awaitable<Response> Api::Export(Request& req) {
  // A viewer's right: the file holds only the values the caller's page already shows (the
  // request carries them), so nothing is read from the store here. CSRF is checked all the same.
  auto s = guard_.Check(req, Role::kViewer, Access::kWrite);
  if (!s) co_return Response::Error(s.error());
  auto parsed = ParseExportRequest(req.body(), store_.calendar().zone());
  if (!parsed) {
    spdlog::warn("export by '{}': {}", s->username, parsed.error().ToString());
    co_return Response::Error(parsed.error());
  }
  const size_t series = parsed->series.size();
  auto file = co_await boost::asio::co_spawn(export_pool_, RenderOnPool(std::move(*parsed)),
                                             boost::asio::use_awaitable);
  if (!file) {
    spdlog::error("export by '{}' failed: {}", s->username, file.error().ToString());
    co_return Response::Error(file.error());
  }
  spdlog::info("export by '{}': {} ({} series, {} bytes)", s->username, file->filename, series,
               file->bytes.size());
  Response r;
  r.content_type = std::move(file->content_type);
  r.body = std::move(file->bytes);
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + file->filename + "\"");
  r.headers.emplace_back("Cache-Control", "no-store");
  co_return r;
}

}  // namespace wattline::server
