#include "server/dashboards.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "server/json_body.h"

namespace wattline::server {
namespace bhttp = boost::beast::http;
using historian::Statement;
using http::Request;
using http::Response;
using nlohmann::json;

namespace {
const char* const kWidgetTypes[] = {"value", "gauge", "trend", "bar", "pie", "table", "alarms"};

struct Dashboard {
  int64_t id = 0;
  int64_t owner_id = 0;
  std::string owner;
  std::string name;
  bool shared = false;
  std::string layout;
};

// The parts of a body of POST/PUT: name, shared and a layout of a known shape.
struct DashboardInput {
  std::string name;
  bool shared = false;
  std::string layout;
};

Result<DashboardInput> ParseInput(const Request& req) {
  if (req.body().size() > Dashboards::kMaxLayoutBytes + 4096) {
    return Fail(InvalidArgument("a dashboard has at most 256 KiB"));
  }
  auto body = ObjectBody(req, R"({"name", "shared", "layout": {"widgets": [...]}})");
  if (!body) return Fail(body.error());
  auto name = RequiredString(*body, "name");
  if (!name) return Fail(name.error());
  if (name->empty() || name->size() > 100) {
    return Fail(InvalidArgument("a dashboard's name has 1 to 100 characters"));
  }
  DashboardInput in;
  in.name = *name;
  if (body->contains("shared")) {
    if (!(*body)["shared"].is_boolean())
      return Fail(InvalidArgument("shared must be true or false"));
    in.shared = (*body)["shared"].get<bool>();
  }
  const json& layout = body->value("layout", json());
  if (!layout.is_object() || !layout.contains("widgets") || !layout["widgets"].is_array()) {
    return Fail(InvalidArgument("layout must be an object with a list \"widgets\""));
  }
  if (layout["widgets"].size() > Dashboards::kMaxWidgets) {
    return Fail(InvalidArgument("a dashboard has at most 100 widgets"));
  }
  for (const json& w : layout["widgets"]) {
    if (!w.is_object()) return Fail(InvalidArgument("every widget must be an object"));
    const std::string type = w.value("type", "");
    if (std::find(std::begin(kWidgetTypes), std::end(kWidgetTypes), type) ==
        std::end(kWidgetTypes)) {
      return Fail(InvalidArgument("unknown widget type '" + type +
                                  "': expected value, gauge, trend, bar, pie, table or alarms"));
    }
    for (const char* k : {"x", "y", "w", "h"}) {
      if (!w.contains(k) || !w[k].is_number_integer() || w[k].get<int64_t>() < 0 ||
          w[k].get<int64_t>() > 1000) {
        return Fail(InvalidArgument("widget field '" + std::string(k) +
                                    "' must be an integer from 0 to 1000"));
      }
    }
    if (w.contains("signals")) {
      if (!w["signals"].is_array()) return Fail(InvalidArgument("widget signals must be a list"));
      for (const json& s : w["signals"]) {
        if (!s.is_number_integer()) return Fail(InvalidArgument("signal ids are integers"));
      }
    }
  }
  in.layout = layout.dump();
  if (in.layout.size() > Dashboards::kMaxLayoutBytes) {
    return Fail(InvalidArgument("a dashboard has at most 256 KiB"));
  }
  return in;
}

Dashboard Read(const Statement& st) {
  return {st.Int(0), st.Int(1), st.Text(2), st.Text(3), st.Int(4) != 0, st.Text(5)};
}

const char kSelect[] =
    "SELECT d.id, d.owner_id, coalesce(u.username, ''), d.name, d.shared, d.layout"
    " FROM dashboards d LEFT JOIN users u ON u.id = d.owner_id ";

json Summary(const Dashboard& d, const Session& s) {
  return {{"id", d.id},
          {"name", d.name},
          {"owner", d.owner},
          {"shared", d.shared},
          {"mine", d.owner_id == s.user_id}};
}

json Full(const Dashboard& d, const Session& s) {
  json j = Summary(d, s);
  j["layout"] = json::parse(d.layout, nullptr, /*allow_exceptions=*/false);
  return j;
}

// The tenant's dashboard `id` as the session may see it: own or shared; kNotFound otherwise.
Result<Dashboard> Visible(historian::SqliteDb& db, const Session& s, const Request& req) {
  const std::string& text = req.path_params.at("id");
  int64_t id = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || p != text.data() + text.size()) {
    return Fail(InvalidArgument("id must be an integer, got '" + text + "'"));
  }
  auto st = db.Prepare(std::string(kSelect) +
                       "WHERE d.id = ?1 AND d.tenant_id = ?2 AND (d.owner_id = ?3 OR d.shared)");
  if (!st) return Fail(st.error());
  st->Bind(1, id).Bind(2, s.tenant_id).Bind(3, s.user_id);
  auto row = st->Step();
  if (!row) return Fail(row.error());
  if (!*row) return Fail(NotFound("no dashboard " + text));
  return Read(*st);
}

// Owners change their dashboards; administrators any of the tenant's.
Status MayChange(const Session& s, const Dashboard& d) {
  if (d.owner_id == s.user_id || RoleOf(s.role) >= Role::kAdministrator) return Status::Ok();
  return PermissionDenied("only its owner or an administrator changes this dashboard");
}

Status MayShare(const Session& s, bool shared) {
  if (!shared || RoleOf(s.role) >= Role::kEngineer) return Status::Ok();
  return PermissionDenied("sharing a dashboard needs the role engineer or higher");
}
}  // namespace

void Dashboards::Register(http::Router& router) {
  router.Add(bhttp::verb::get, "/api/v1/dashboards", [this](Request& r) { return List(r); });
  router.Add(bhttp::verb::post, "/api/v1/dashboards", [this](Request& r) { return Create(r); });
  router.Add(bhttp::verb::get, "/api/v1/dashboards/{id}", [this](Request& r) { return Get(r); });
  router.Add(bhttp::verb::put, "/api/v1/dashboards/{id}", [this](Request& r) { return Update(r); });
  router.Add(bhttp::verb::delete_, "/api/v1/dashboards/{id}",
             [this](Request& r) { return Delete(r); });
}

Response Dashboards::List(Request& req) {
  auto s = guard_.Check(req, Role::kViewer, Access::kRead);
  if (!s) return Response::Error(s.error());
  auto st = catalog_.db().Prepare(std::string(kSelect) +
                                  "WHERE d.tenant_id = ?1 AND (d.owner_id = ?2 OR d.shared)"
                                  " ORDER BY d.name, d.id");
  if (!st) return Response::Error(st.error());
  st->Bind(1, s->tenant_id).Bind(2, s->user_id);
  json out = json::array();
  while (true) {
    auto row = st->Step();
    if (!row) return Response::Error(row.error());
    if (!*row) break;
    out.push_back(Summary(Read(*st), *s));
  }
  return Response::Json(out);
}

Response Dashboards::Get(Request& req) {
  auto s = guard_.Check(req, Role::kViewer, Access::kRead);
  if (!s) return Response::Error(s.error());
  auto d = Visible(catalog_.db(), *s, req);
  if (!d) return Response::Error(d.error());
  return Response::Json(Full(*d, *s));
}

Response Dashboards::Create(Request& req) {
  auto s = guard_.Check(req, Role::kViewer, Access::kWrite);
  if (!s) return Response::Error(s.error());
  auto in = ParseInput(req);
  if (!in) return Response::Error(in.error());
  if (Status st = MayShare(*s, in->shared); !st.ok()) return Response::Error(st);
  auto st = catalog_.db().Prepare(
      "INSERT INTO dashboards (tenant_id, owner_id, name, shared, layout, updated_ms)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!st) return Response::Error(st.error());
  st->Bind(1, s->tenant_id)
      .Bind(2, s->user_id)
      .Bind(3, in->name)
      .Bind(4, int64_t{in->shared})
      .Bind(5, in->layout)
      .Bind(6, audit_.NowMs());
  if (Status e = st->Run(); !e.ok()) return Response::Error(e);
  Dashboard d{
      catalog_.db().LastInsertId(), s->user_id, s->username, in->name, in->shared, in->layout};
  json out = Full(d, *s);
  audit_.Record(*s, req, "dashboard_created", "dashboard " + d.name, nullptr, out);
  return Response::Json(out, 201);
}

Response Dashboards::Update(Request& req) {
  auto s = guard_.Check(req, Role::kViewer, Access::kWrite);
  if (!s) return Response::Error(s.error());
  auto d = Visible(catalog_.db(), *s, req);
  if (!d) return Response::Error(d.error());
  if (Status e = MayChange(*s, *d); !e.ok()) return Response::Error(e);
  auto in = ParseInput(req);
  if (!in) return Response::Error(in.error());
  if (in->shared != d->shared) {
    if (Status e = MayShare(*s, true); !e.ok()) return Response::Error(e);
  }
  auto st = catalog_.db().Prepare(
      "UPDATE dashboards SET name = ?2, shared = ?3, layout = ?4, updated_ms = ?5 WHERE id = ?1");
  if (!st) return Response::Error(st.error());
  st->Bind(1, d->id)
      .Bind(2, in->name)
      .Bind(3, int64_t{in->shared})
      .Bind(4, in->layout)
      .Bind(5, audit_.NowMs());
  if (Status e = st->Run(); !e.ok()) return Response::Error(e);
  const json before = Full(*d, *s);
  Dashboard after = *d;
  after.name = in->name;
  after.shared = in->shared;
  after.layout = in->layout;
  json out = Full(after, *s);
  audit_.Record(*s, req, "dashboard_changed", "dashboard " + after.name, before, out);
  return Response::Json(out);
}

Response Dashboards::Delete(Request& req) {
  auto s = guard_.Check(req, Role::kViewer, Access::kWrite);
  if (!s) return Response::Error(s.error());
  auto d = Visible(catalog_.db(), *s, req);
  if (!d) return Response::Error(d.error());
  if (Status e = MayChange(*s, *d); !e.ok()) return Response::Error(e);
  auto st = catalog_.db().Prepare("DELETE FROM dashboards WHERE id = ?1");
  if (!st) return Response::Error(st.error());
  st->Bind(1, d->id);
  if (Status e = st->Run(); !e.ok()) return Response::Error(e);
  audit_.Record(*s, req, "dashboard_deleted", "dashboard " + d->name, Full(*d, *s), nullptr);
  return Response::NoContent();
}

}  // namespace wattline::server
