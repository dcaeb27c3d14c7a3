#include "server/site_tree_api.h"

#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "server/json_body.h"

namespace wattline::server {
namespace bhttp = boost::beast::http;
using http::Request;
using http::Response;
using nlohmann::json;

namespace {
Result<int64_t> ParseInt(const std::string& text, const std::string& what) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) {
    return Fail(InvalidArgument(what + " must be an integer, got '" + text + "'"));
  }
  return v;
}

Result<int64_t> PathId(const Request& req) { return ParseInt(req.path_params.at("id"), "id"); }

Result<std::optional<int64_t>> QueryInt(const Request& req, const std::string& name) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return std::optional<int64_t>();
  auto v = ParseInt(it->second, "parameter '" + name + "'");
  if (!v) return Fail(v.error());
  return std::optional<int64_t>(*v);
}

// Field `name` as an integer: nullopt when absent or null.
Result<std::optional<int64_t>> OptionalInt(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer())
    return Fail(InvalidArgument(std::string(name) + " must be an integer"));
  return std::optional<int64_t>(it->get<int64_t>());
}

Result<std::vector<VirtualTerm>> ParseTerms(const json& j) {
  if (!j.is_array()) {
    return Fail(InvalidArgument("terms must be a list of {\"node_id\", \"sign\": 1 | -1}"));
  }
  std::vector<VirtualTerm> out;
  for (const json& t : j) {
    if (!t.is_object() || !t.contains("node_id") || !t["node_id"].is_number_integer()) {
      return Fail(InvalidArgument("every term needs an integer node_id"));
    }
    VirtualTerm term{t["node_id"].get<int64_t>(), 1};
    if (t.contains("sign")) {
      if (!t["sign"].is_number_integer() || std::abs(t["sign"].get<int64_t>()) != 1) {
        return Fail(InvalidArgument("a term's sign is 1 or -1"));
      }
      term.sign = static_cast<int>(t["sign"].get<int64_t>());
    }
    out.push_back(term);
  }
  return out;
}

json SignalJson(const SignalInfo& s) {
  return {{"id", s.id},
          {"meter_id", s.device_id},
          {"name", s.name},
          {"unit", s.unit},
          {"kind", s.kind == SignalKind::kCounter ? "counter" : "instant"}};
}

json Num(double v) { return std::isfinite(v) ? json(v) : json(); }

json ReadingJson(const Reading& r) {
  return {{"ts_ms", r.ts_ms}, {"value", Num(r.value)}, {"quality", QualityName(r.quality)}};
}

// The tenant's devices by id, for the links of meter nodes.
Result<std::map<int64_t, DeviceInfo>> DevicesById(Catalog& catalog, int64_t tenant_id) {
  auto devices = catalog.ListDevices(tenant_id);
  if (!devices) return Fail(devices.error());
  std::map<int64_t, DeviceInfo> out;
  for (auto& d : *devices) out.emplace(d.id, std::move(d));
  return out;
}

json NodeJsonWith(const TreeNode& n, const std::map<int64_t, DeviceInfo>& devices) {
  json terms = json::array();
  for (const VirtualTerm& t : n.terms)
    terms.push_back({{"node_id", t.member_id}, {"sign", t.sign}});
  json j = {{"id", n.id},
            {"parent_id", n.parent_id ? json(*n.parent_id) : json()},
            {"kind", std::string(NodeKindName(n.kind))},
            {"name", n.name},
            {"position", n.position},
            {"device_id", n.device_id ? json(*n.device_id) : json()},
            {"manual", n.manual},
            {"terms", terms},
            {"meter", json()},
            {"energy_signal", json()},
            {"signals", json::array()}};
  if (n.device_id) {
    if (auto it = devices.find(*n.device_id); it != devices.end()) {
      const DeviceInfo& d = it->second;
      j["meter"] = {{"id", d.id}, {"name", d.name}, {"model", d.model}, {"connector", d.connector}};
      for (const SignalInfo& s : d.signals) j["signals"].push_back(SignalJson(s));
      if (auto e = PickEnergySignal(d.signals)) j["energy_signal"] = SignalJson(*e);
    }
  }
  return j;
}
}  // namespace

void SiteTreeApi::Register(http::Router& router) {
  auto add = [&](bhttp::verb v, const char* path, Response (SiteTreeApi::*fn)(Request&)) {
    router.Add(v, path, [this, fn](Request& r) { return (this->*fn)(r); });
  };
  add(bhttp::verb::get, "/api/v1/tree", &SiteTreeApi::Tree);
  add(bhttp::verb::post, "/api/v1/tree/nodes", &SiteTreeApi::Create);
  add(bhttp::verb::put, "/api/v1/tree/nodes/{id}", &SiteTreeApi::Update);
  add(bhttp::verb::delete_, "/api/v1/tree/nodes/{id}", &SiteTreeApi::Delete);
  add(bhttp::verb::get, "/api/v1/tree/nodes/{id}/consumption", &SiteTreeApi::Consumption);
  add(bhttp::verb::post, "/api/v1/tree/nodes/{id}/readings", &SiteTreeApi::AddReading);
  add(bhttp::verb::get, "/api/v1/tree/nodes/{id}/readings", &SiteTreeApi::Readings);
}

Result<json> SiteTreeApi::NodeJson(int64_t tenant_id, const TreeNode& n) {
  auto devices = DevicesById(catalog_, tenant_id);
  if (!devices) return Fail(devices.error());
  return NodeJsonWith(n, *devices);
}

Response SiteTreeApi::Tree(Request& req) {
  auto s = guard_.Check(req, Role::kViewer, Access::kRead);
  if (!s) return Response::Error(s.error());
  auto nodes = tree_.List(s->tenant_id);
  if (!nodes) return Response::Error(nodes.error());
  auto devices = DevicesById(catalog_, s->tenant_id);
  if (!devices) return Response::Error(devices.error());
  // Nested: each node with its children in order (List orders siblings by position, id).
  std::map<std::optional<int64_t>, std::vector<const TreeNode*>> children;
  std::set<int64_t> ids;
  for (const TreeNode& n : *nodes) ids.insert(n.id);
  for (const TreeNode& n : *nodes) {
    // A node whose parent is gone would be unreachable; show it as a root instead.
    auto parent = n.parent_id && ids.count(*n.parent_id) ? n.parent_id : std::nullopt;
    children[parent].push_back(&n);
  }
  std::function<json(std::optional<int64_t>)> level = [&](std::optional<int64_t> parent) {
    json out = json::array();
    for (const TreeNode* n : children[parent]) {
      json j = NodeJsonWith(*n, *devices);
      j["children"] = level(n->id);
      out.push_back(std::move(j));
    }
    return out;
  };
  return Response::Json({{"nodes", level(std::nullopt)}});
}

Response SiteTreeApi::Create(Request& req) {
  auto s = guard_.Check(req, Role::kEngineer, Access::kWrite);
  if (!s) return Response::Error(s.error());
  auto body = ObjectBody(req, R"({"parent_id", "kind", "name", "position", "device_id", "manual", )"
                              R"("terms": [{"node_id", "sign"}]})");
  if (!body) return Response::Error(body.error());
  NodeInput in;
  auto kind = RequiredString(*body, "kind");
  if (!kind) return Response::Error(kind.error());
  auto parsed_kind = ParseNodeKind(*kind);
  if (!parsed_kind) return Response::Error(parsed_kind.error());
  in.kind = *parsed_kind;
  auto name = RequiredString(*body, "name");
  if (!name) return Response::Error(name.error());
  in.name = *name;
  for (auto [field, target] :
       {std::pair{"parent_id", &in.parent_id}, std::pair{"position", &in.position},
        std::pair{"device_id", &in.device_id}}) {
    auto v = OptionalInt(*body, field);
    if (!v) return Response::Error(v.error());
    *target = *v;
  }
  if (body->contains("manual")) {
    if (!(*body)["manual"].is_boolean()) {
      return Response::Error(InvalidArgument("manual must be true or false"));
    }
    in.manual = (*body)["manual"].get<bool>();
  }
  if (body->contains("terms") && !(*body)["terms"].is_null()) {
    auto terms = ParseTerms((*body)["terms"]);
    if (!terms) return Response::Error(terms.error());
    in.terms = std::move(*terms);
  }
  auto node = tree_.Create(s->tenant_id, in);
  if (!node) return Response::Error(node.error());
  auto out = NodeJson(s->tenant_id, *node);
  if (!out) return Response::Error(out.error());
  audit_.Record(*s, req, "node_created", "node " + node->name, nullptr, *out);
  return Response::Json(*out, 201);
}

Response SiteTreeApi::Update(Request& req) {
  auto s = guard_.Check(req, Role::kEngineer, Access::kWrite);
  if (!s) return Response::Error(s.error());
  auto id = PathId(req);
  if (!id) return Response::Error(id.error());
  auto node = tree_.Get(s->tenant_id, *id);
  if (!node) return Response::Error(node.error());
  auto body = ObjectBody(
      req, R"({"name", "parent_id", "position", "device_id", "terms": [{"node_id", "sign"}]})");
  if (!body) return Response::Error(body.error());
  NodeChange change;
  auto name = OptionalString(*body, "name");
  if (!name) return Response::Error(name.error());
  change.name = *name;
  if (body->contains("parent_id")) {
    change.move = true;
    auto parent = OptionalInt(*body, "parent_id");
    if (!parent) return Response::Error(parent.error());
    change.parent_id = *parent;
  }
  for (auto [field, target] :
       {std::pair{"position", &change.position}, std::pair{"device_id", &change.device_id}}) {
    auto v = OptionalInt(*body, field);
    if (!v) return Response::Error(v.error());
    *target = *v;
  }
  if (body->contains("terms")) {
    auto terms = ParseTerms((*body)["terms"]);
    if (!terms) return Response::Error(terms.error());
    change.terms = std::move(*terms);
  }
  auto before = NodeJson(s->tenant_id, *node);
  if (!before) return Response::Error(before.error());
  auto changed = tree_.Update(s->tenant_id, *id, change);
  if (!changed) return Response::Error(changed.error());
  auto after = NodeJson(s->tenant_id, *changed);
  if (!after) return Response::Error(after.error());
  audit_.Record(*s, req, "node_changed", "node " + changed->name, *before, *after);
  return Response::Json(*after);
}

Response SiteTreeApi::Delete(Request& req) {
  auto s = guard_.Check(req, Role::kEngineer, Access::kWrite);
  if (!s) return Response::Error(s.error());
  auto id = PathId(req);
  if (!id) return Response::Error(id.error());
  auto node = tree_.Get(s->tenant_id, *id);
  if (!node) return Response::Error(node.error());
  auto recursive = QueryInt(req, "recursive");
  if (!recursive) return Response::Error(recursive.error());
  auto devices = DevicesById(catalog_, s->tenant_id);
  if (!devices) return Response::Error(devices.error());
  auto deleted = tree_.Delete(s->tenant_id, *id, recursive->value_or(0) != 0);
  if (!deleted) return Response::Error(deleted.error());
  json before = json::array();
  for (const TreeNode& n : *deleted) before.push_back(NodeJsonWith(n, *devices));
  audit_.Record(*s, req, "node_deleted", "node " + node->name, before, nullptr);
  return Response::NoContent();
}

Response SiteTreeApi::Consumption(Request& req) {
  auto s = guard_.Check(req, Role::kViewer, Access::kRead);
  if (!s) return Response::Error(s.error());
  auto id = PathId(req);
  if (!id) return Response::Error(id.error());
  auto node = tree_.Get(s->tenant_id, *id);
  if (!node) return Response::Error(node.error());
  auto from = QueryInt(req, "from");
  auto to = QueryInt(req, "to");
  for (const auto* r : {&from, &to}) {
    if (!*r) return Response::Error(r->error());
    if (!**r) {
      return Response::Error(InvalidArgument("parameters 'from' and 'to' (Unix ms) are required"));
    }
  }
  if (**to <= **from) return Response::Error(InvalidArgument("'to' must be after 'from'"));
  auto it = req.query.find("interval");
  auto interval = historian::ParseInterval(it == req.query.end() ? "day" : it->second);
  if (!interval) return Response::Error(interval.error());
  auto c = tree_.NodeConsumption(s->tenant_id, *id, *interval, **from, **to);
  if (!c) return Response::Error(c.error());
  json points = json::array();
  for (auto [start, kwh] : c->points) points.push_back(json::array({start, kwh}));
  json members = json::array();
  for (const ConsumptionMember& m : c->members) {
    members.push_back({{"node_id", m.node_id},
                       {"name", m.name},
                       {"kind", std::string(NodeKindName(m.kind))},
                       {"sign", m.sign},
                       {"total", m.total_kwh}});
  }
  return Response::Json({{"node_id", c->node_id},
                         {"name", node->name},
                         {"kind", std::string(NodeKindName(node->kind))},
                         {"unit", "kWh"},
                         {"interval", std::string(historian::IntervalName(*interval))},
                         {"signal", c->signal ? SignalJson(*c->signal) : json()},
                         {"points", std::move(points)},
                         {"total", c->total_kwh},
                         {"members", std::move(members)}});
}

Response SiteTreeApi::AddReading(Request& req) {
  auto s = guard_.Check(req, Role::kOperator, Access::kWrite);
  if (!s) return Response::Error(s.error());
  auto id = PathId(req);
  if (!id) return Response::Error(id.error());
  auto node = tree_.Get(s->tenant_id, *id);
  if (!node) return Response::Error(node.error());
  auto body = ObjectBody(req, R"({"ts_ms", "value"})");
  if (!body) return Response::Error(body.error());
  if (!body->contains("ts_ms") || !(*body)["ts_ms"].is_number_integer()) {
    return Response::Error(InvalidArgument("ts_ms (Unix ms) is required as an integer"));
  }
  // JSON has no NaN or infinity; a number too large for a double arrives as infinity.
  if (!body->contains("value") || !(*body)["value"].is_number()) {
    return Response::Error(InvalidArgument("value (kWh) is required as a number"));
  }
  auto reading = tree_.AddReading(s->tenant_id, *id, (*body)["ts_ms"].get<int64_t>(),
                                  (*body)["value"].get<double>());
  if (!reading) return Response::Error(reading.error());
  hub_.Stored(s->tenant_id);
  json out = ReadingJson(*reading);
  json after = out;
  after["node_id"] = node->id;
  audit_.Record(*s, req, "reading_entered", "node " + node->name, nullptr, after);
  return Response::Json(out, 201);
}

Response SiteTreeApi::Readings(Request& req) {
  auto s = guard_.Check(req, Role::kViewer, Access::kRead);
  if (!s) return Response::Error(s.error());
  auto id = PathId(req);
  if (!id) return Response::Error(id.error());
  auto from = QueryInt(req, "from");
  auto to = QueryInt(req, "to");
  for (const auto* r : {&from, &to}) {
    if (!*r) return Response::Error(r->error());
  }
  auto readings =
      tree_.Readings(s->tenant_id, *id, from->value_or(INT64_MIN), to->value_or(INT64_MAX));
  if (!readings) return Response::Error(readings.error());
  json out = json::array();
  for (const Reading& r : *readings) out.push_back(ReadingJson(r));
  return Response::Json(out);
}

}  // namespace wattline::server
