#include "server/accounts_api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "server/json_body.h"
#include "server/password.h"
#include "server/totp.h"

namespace wattline::server {
namespace bhttp = boost::beast::http;
using http::Request;
using http::Response;
using nlohmann::json;

namespace {
constexpr int kRecoveryCodes = 10;
constexpr int64_t kDayMs = 24 * 3600 * 1000LL;

#define WL_TRY_SESSION(var, expr) \
  auto var = (expr);              \
  if (!var) return Response::Error(var.error())

bool ValidUsername(const std::string& u) {
  if (u.empty() || u.size() > 64) return false;
  return std::all_of(u.begin(), u.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '@';
  });
}

// A recovery code as typed: case and separators do not matter.
std::string NormalizeRecoveryCode(const std::string& code) {
  std::string out;
  for (unsigned char c : code) {
    if (std::isalnum(c)) out += static_cast<char>(std::tolower(c));
  }
  return out;
}

// 10 characters of the claim-code alphabet (no look-alikes), shown as xxxxx-xxxxx.
std::string NewRecoveryCode() {
  static constexpr std::string_view kAlphabet = "23456789abcdefghjkmnpqrstuvwxyz";
  std::string hex = RandomHex(10);
  std::string out;
  for (size_t i = 0; i < 10; ++i) {
    unsigned v = 0;
    std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, v, 16);
    out += kAlphabet[v % kAlphabet.size()];
    if (i == 4) out += '-';
  }
  return out;
}

Result<int64_t> PathId(const Request& req) {
  const std::string& s = req.path_params.at("id");
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return Fail(InvalidArgument("id must be an integer, got '" + s + "'"));
  }
  return v;
}

bool RoleRequiresTotp(const SecuritySettings& s, const std::string& role) {
  return std::find(s.totp_required_roles.begin(), s.totp_required_roles.end(), role) !=
         s.totp_required_roles.end();
}
}  // namespace

void AuditTrail::Record(const Session& who, const Request& req, const std::string& action,
                        const std::string& target, json before, json after) {
  AuditEntry e;
  e.ts_ms = NowMs();
  e.tenant_id = who.tenant_id;
  e.user_id = who.user_id;
  e.username = who.username;
  e.action = action;
  e.target = target;
  e.before = std::move(before);
  e.after = std::move(after);
  e.remote = req.remote;
  if (Status s = accounts_.Audit(e); !s.ok()) {
    spdlog::error("audit: could not record {} of {} by {}: {}", action, target, who.username,
                  s.ToString());
  }
}

void AuditTrail::RecordAnonymous(std::optional<int64_t> tenant_id, const std::string& username,
                                 const Request& req, const std::string& action) {
  AuditEntry e;
  e.ts_ms = NowMs();
  e.tenant_id = tenant_id;
  e.username = username;
  e.action = action;
  e.target = "user " + username;
  e.remote = req.remote;
  if (Status s = accounts_.Audit(e); !s.ok()) {
    spdlog::error("audit: could not record {} of {}: {}", action, username, s.ToString());
  }
}

json UserJson(const Account& a, bool locked) {
  return {{"id", a.id},
          {"username", a.username},
          {"role", a.role},
          {"tenant_id", a.tenant_id},
          {"totp_enabled", !a.totp_secret.empty()},
          {"must_change_password", a.must_change_password},
          {"locked", locked},
          {"created_ms", a.created_ms},
          {"last_login_ms", a.last_login_ms ? json(a.last_login_ms) : json()}};
}

void AccountsApi::Register(http::Router& router) {
  auto add = [&](bhttp::verb v, const char* path, http::Response (AccountsApi::*fn)(Request&)) {
    router.Add(v, path, [this, fn](Request& r) { return (this->*fn)(r); });
  };
  add(bhttp::verb::post, "/api/v1/login", &AccountsApi::Login);
  add(bhttp::verb::post, "/api/v1/logout", &AccountsApi::Logout);
  add(bhttp::verb::get, "/api/v1/me", &AccountsApi::Me);
  add(bhttp::verb::put, "/api/v1/me/preferences", &AccountsApi::Preferences);
  add(bhttp::verb::post, "/api/v1/me/password", &AccountsApi::ChangePassword);
  add(bhttp::verb::post, "/api/v1/me/totp/enrol", &AccountsApi::EnrolTotp);
  add(bhttp::verb::post, "/api/v1/me/totp/confirm", &AccountsApi::ConfirmTotp);
  add(bhttp::verb::post, "/api/v1/me/totp/disable", &AccountsApi::DisableTotp);
  add(bhttp::verb::post, "/api/v1/me/tenant", &AccountsApi::SwitchTenant);
  add(bhttp::verb::get, "/api/v1/tenants", &AccountsApi::ListTenants);
  add(bhttp::verb::post, "/api/v1/tenants", &AccountsApi::CreateTenant);
  add(bhttp::verb::get, "/api/v1/users", &AccountsApi::ListUsers);
  add(bhttp::verb::post, "/api/v1/users", &AccountsApi::CreateUser);
  add(bhttp::verb::put, "/api/v1/users/{id}", &AccountsApi::ChangeUser);
  add(bhttp::verb::delete_, "/api/v1/users/{id}", &AccountsApi::DeleteUser);
  add(bhttp::verb::get, "/api/v1/settings/security", &AccountsApi::GetSecurity);
  add(bhttp::verb::put, "/api/v1/settings/security", &AccountsApi::PutSecurity);
  add(bhttp::verb::get, "/api/v1/audit", &AccountsApi::ListAudit);
}

Result<json> AccountsApi::MeJson(const Session& s) {
  auto a = accounts_.Get(s.user_id);
  if (!a) {
    if (a.error().code() == Code::kNotFound) return Fail(Unauthenticated("the user was deleted"));
    return Fail(a.error());
  }
  auto security = accounts_.Security(a->tenant_id);
  if (!security) return Fail(security.error());
  const int max_age = security->password.max_age_days;
  return json{{"id", a->id},
              {"username", a->username},
              {"role", a->role},
              {"system", RoleOf(a->role) == Role::kSystem},
              {"tenant", {{"id", s.tenant_id}, {"name", s.tenant_name}}},
              {"home_tenant", {{"id", a->tenant_id}, {"name", a->tenant_name}}},
              {"locale", a->locale},
              {"totp_enabled", !a->totp_secret.empty()},
              {"must_change_password", s.must_change_password},
              {"must_enrol_totp", s.must_enrol_totp},
              {"password_expires_ms",
               max_age > 0 ? json(a->password_changed_ms + max_age * kDayMs) : json()}};
}

Response AccountsApi::Login(Request& req) {
  auto body = ObjectBody(req, R"({"username": ..., "password": ...})");
  if (!body) return Response::Error(body.error());
  auto username = RequiredString(*body, "username");
  auto password = RequiredString(*body, "password");
  auto totp = OptionalString(*body, "totp");
  auto recovery = OptionalString(*body, "recovery_code");
  for (const auto* r : {&totp, &recovery}) {
    if (!*r) return Response::Error(r->error());
  }
  if (!username || !password) {
    return Response::Error(InvalidArgument("expected {\"username\": ..., \"password\": ...}"));
  }
  SessionStore& sessions = guard_.sessions();
  if (Status s = sessions.LoginAllowed(*username, req.remote); !s.ok()) {
    spdlog::warn("login for '{}' from {} refused: locked after repeated failures", *username,
                 req.remote);
    return Response::Error(s);
  }
  auto user = accounts_.FindByName(*username);
  std::optional<int64_t> tenant = user ? std::optional(user->tenant_id) : std::nullopt;
  auto failed = [&](Status why, const char* log) {
    spdlog::warn("failed login for '{}' from {}: {}", *username, req.remote, log);
    audit_.RecordAnonymous(tenant, *username, req, "login_failed");
    if (sessions.LoginFailed(*username, req.remote)) {
      spdlog::warn("login for '{}' locked for {} minutes after repeated failures", *username,
                   SessionStore::kLockout.count());
      audit_.RecordAnonymous(tenant, *username, req, "login_locked");
    }
    return Response::Error(why);
  };
  // Hash even for unknown users so that timing does not reveal which user names exist.
  static const std::string dummy = HashPassword("wattline-dummy").value_or("");
  if (!VerifyPassword(*password, user ? user->password_hash : dummy) || !user) {
    return failed(Unauthenticated("wrong user name or password"), "wrong user name or password");
  }
  const int64_t now = NowMs();
  if (!user->totp_secret.empty()) {
    if (!*totp && !*recovery) {
      return Response::Error(
          Unauthenticated("enter the code of your authenticator app").WithReason("totp_required"));
    }
    if (*totp) {
      auto step = VerifyTotp(user->totp_secret, **totp, now / 1000, user->totp_last_step);
      if (!step) return failed(step.error(), "wrong two-factor code");
      if (Status s = accounts_.SetTotpLastStep(user->id, *step); !s.ok()) {
        return Response::Error(s);
      }
    } else {
      auto used =
          accounts_.UseRecoveryCode(user->id, TokenHash(NormalizeRecoveryCode(**recovery)), now);
      if (!used) return Response::Error(used.error());
      if (!*used) {
        return failed(Unauthenticated("unknown or used recovery code").WithReason("totp_invalid"),
                      "wrong recovery code");
      }
      spdlog::warn("user '{}' logged in with a recovery code", *username);
    }
  }
  sessions.LoginSucceeded(*username);
  auto security = accounts_.Security(user->tenant_id);
  if (!security) return Response::Error(security.error());
  Session s;
  s.user_id = user->id;
  s.tenant_id = s.home_tenant_id = user->tenant_id;
  s.tenant_name = user->tenant_name;
  s.username = user->username;
  s.role = user->role;
  const int max_age = security->password.max_age_days;
  s.must_change_password = user->must_change_password ||
                           (max_age > 0 && now - user->password_changed_ms > max_age * kDayMs);
  s.must_enrol_totp = user->totp_secret.empty() && RoleRequiresTotp(*security, user->role);
  if (Status st = accounts_.SetLastLogin(user->id, now); !st.ok()) return Response::Error(st);
  std::string token = sessions.Create(s);
  spdlog::info("user '{}' logged in from {}", *username, req.remote);
  audit_.Record(s, req, "login", "user " + s.username, nullptr, nullptr);
  auto me = MeJson(s);
  if (!me) return Response::Error(me.error());
  Response r = Response::Json(*me);
  r.SetSessionCookie(kSessionCookie, token);
  return r;
}

Response AccountsApi::Logout(Request& req) {
  WL_TRY_SESSION(s, guard_.CheckUnfinished(req, Access::kWrite));
  guard_.sessions().Remove(req.Cookie(kSessionCookie));
  audit_.Record(*s, req, "logout", "user " + s->username, nullptr, nullptr);
  Response r = Response::NoContent();
  r.SetSessionCookie(kSessionCookie, "");
  return r;
}

Response AccountsApi::Me(Request& req) {
  WL_TRY_SESSION(s, guard_.CheckUnfinished(req, Access::kRead));
  auto me = MeJson(*s);
  if (!me) return Response::Error(me.error());
  return Response::Json(*me);
}

Response AccountsApi::Preferences(Request& req) {
  WL_TRY_SESSION(s, guard_.Check(req, Role::kViewer, Access::kWrite));
  auto body = ObjectBody(req, R"({"locale": "" | "en" | "de"})");
  if (!body) return Response::Error(body.error());
  auto locale = RequiredString(*body, "locale");
  if (!locale) return Response::Error(locale.error());
  if (*locale != "" && *locale != "en" && *locale != "de") {
    return Response::Error(
        InvalidArgument("locale must be \"\" (the browser's), \"en\" or \"de\""));
  }
  if (Status st = accounts_.SetLocale(s->user_id, *locale); !st.ok()) return Response::Error(st);
  auto me = MeJson(*s);
  if (!me) return Response::Error(me.error());
  return Response::Json(*me);
}

Status AccountsApi::CheckNewPassword(int64_t tenant_id, int64_t user_id,
                                     const std::string& username, const std::string& password) {
  auto security = accounts_.Security(tenant_id);
  if (!security) return security.error();
  if (Status s = CheckPasswordPolicy(security->password, password, username); !s.ok()) return s;
  if (user_id == 0 || security->password.history == 0) return Status::Ok();
  auto recent = accounts_.RecentPasswordHashes(user_id, security->password.history);
  if (!recent) return recent.error();
  for (const auto& h : *recent) {
    if (VerifyPassword(password, h)) {
      return InvalidArgument("the password must not be one of the last " +
                             std::to_string(security->password.history) + " passwords");
    }
  }
  return Status::Ok();
}

Response AccountsApi::ChangePassword(Request& req) {
  WL_TRY_SESSION(s, guard_.CheckUnfinished(req, Access::kWrite));
  auto body = ObjectBody(req, R"({"current": ..., "new": ...})");
  if (!body) return Response::Error(body.error());
  auto current = RequiredString(*body, "current");
  auto next = RequiredString(*body, "new");
  for (const auto* r : {&current, &next}) {
    if (!*r) return Response::Error(r->error());
  }
  auto user = accounts_.Get(s->user_id);
  if (!user) return Response::Error(user.error());
  if (Status st = guard_.sessions().LoginAllowed(user->username, req.remote); !st.ok()) {
    return Response::Error(st);
  }
  if (!VerifyPassword(*current, user->password_hash)) {
    // Counts as a failed login: a left-open session must not become a password oracle.
    guard_.sessions().LoginFailed(user->username, req.remote);
    audit_.Record(*s, req, "login_failed", "user " + user->username, nullptr, nullptr);
    return Response::Error(PermissionDenied("the current password is wrong"));
  }
  if (Status st = CheckNewPassword(user->tenant_id, user->id, user->username, *next); !st.ok()) {
    return Response::Error(st);
  }
  auto hash = HashPassword(*next);
  if (!hash) return Response::Error(hash.error());
  if (Status st = accounts_.SetPassword(user->id, *hash, false, NowMs()); !st.ok()) {
    return Response::Error(st);
  }
  const std::string token = req.Cookie(kSessionCookie);
  guard_.sessions().RemoveUser(user->id, token);
  (void)guard_.sessions().Modify(token, [](Session& x) { x.must_change_password = false; });
  audit_.Record(*s, req, "password_changed", "user " + user->username, nullptr, nullptr);
  return Response::NoContent();
}

Response AccountsApi::EnrolTotp(Request& req) {
  WL_TRY_SESSION(s, guard_.CheckUnfinished(req, Access::kWrite));
  auto user = accounts_.Get(s->user_id);
  if (!user) return Response::Error(user.error());
  if (!user->totp_secret.empty()) {
    return Response::Error(
        FailedPrecondition("two-factor login is already on; disable it first to enrol again"));
  }
  const std::string secret = NewTotpSecret();
  if (Status st = accounts_.SetTotpPending(user->id, secret); !st.ok()) return Response::Error(st);
  const std::string uri = TotpUri("Wattline", user->username, secret);
  auto svg = QrSvg(uri);
  if (!svg) return Response::Error(svg.error());
  return Response::Json({{"secret", secret}, {"uri", uri}, {"qr_svg", *svg}});
}

Response AccountsApi::ConfirmTotp(Request& req) {
  WL_TRY_SESSION(s, guard_.CheckUnfinished(req, Access::kWrite));
  auto body = ObjectBody(req, R"({"code": "123456"})");
  if (!body) return Response::Error(body.error());
  auto code = RequiredString(*body, "code");
  if (!code) return Response::Error(code.error());
  auto user = accounts_.Get(s->user_id);
  if (!user) return Response::Error(user.error());
  if (user->totp_pending.empty()) {
    return Response::Error(FailedPrecondition("no enrolment is open; start one first"));
  }
  auto step = VerifyTotp(user->totp_pending, *code, NowMs() / 1000, 0);
  if (!step) {
    return Response::Error(
        InvalidArgument("wrong code: check the time of your phone and enter the current code"));
  }
  std::vector<std::string> codes, hashes;
  for (int i = 0; i < kRecoveryCodes; ++i) {
    codes.push_back(NewRecoveryCode());
    hashes.push_back(TokenHash(NormalizeRecoveryCode(codes.back())));
  }
  if (Status st = accounts_.EnableTotp(user->id, hashes); !st.ok()) return Response::Error(st);
  if (Status st = accounts_.SetTotpLastStep(user->id, *step); !st.ok()) return Response::Error(st);
  (void)guard_.sessions().Modify(req.Cookie(kSessionCookie),
                                 [](Session& x) { x.must_enrol_totp = false; });
  audit_.Record(*s, req, "totp_enabled", "user " + user->username, {{"totp_enabled", false}},
                {{"totp_enabled", true}});
  return Response::Json({{"recovery_codes", codes}});
}

Response AccountsApi::DisableTotp(Request& req) {
  WL_TRY_SESSION(s, guard_.Check(req, Role::kViewer, Access::kWrite));
  auto body = ObjectBody(req, R"({"password": ...})");
  if (!body) return Response::Error(body.error());
  auto password = RequiredString(*body, "password");
  if (!password) return Response::Error(password.error());
  auto user = accounts_.Get(s->user_id);
  if (!user) return Response::Error(user.error());
  auto security = accounts_.Security(user->tenant_id);
  if (!security) return Response::Error(security.error());
  if (RoleRequiresTotp(*security, user->role)) {
    return Response::Error(PermissionDenied("your role requires two-factor login"));
  }
  if (!VerifyPassword(*password, user->password_hash)) {
    guard_.sessions().LoginFailed(user->username, req.remote);
    return Response::Error(PermissionDenied("the password is wrong"));
  }
  if (Status st = accounts_.DisableTotp(user->id); !st.ok()) return Response::Error(st);
  audit_.Record(*s, req, "totp_disabled", "user " + user->username, {{"totp_enabled", true}},
                {{"totp_enabled", false}});
  return Response::NoContent();
}

Response AccountsApi::SwitchTenant(Request& req) {
  WL_TRY_SESSION(s, guard_.Check(req, Role::kSystem, Access::kWrite));
  auto body = ObjectBody(req, R"({"tenant_id": ID})");
  if (!body) return Response::Error(body.error());
  if (!body->contains("tenant_id") || !(*body)["tenant_id"].is_number_integer()) {
    return Response::Error(InvalidArgument("tenant_id must be an integer"));
  }
  const int64_t id = (*body)["tenant_id"].get<int64_t>();
  auto tenants = accounts_.Tenants();
  if (!tenants) return Response::Error(tenants.error());
  auto it = std::find_if(tenants->begin(), tenants->end(),
                         [&](const TenantSummary& t) { return t.id == id; });
  if (it == tenants->end()) return Response::Error(NotFound("no tenant " + std::to_string(id)));
  const std::string name = it->name;
  (void)guard_.sessions().Modify(req.Cookie(kSessionCookie), [&](Session& x) {
    x.tenant_id = id;
    x.tenant_name = name;
  });
  s->tenant_id = id;
  s->tenant_name = name;
  auto me = MeJson(*s);
  if (!me) return Response::Error(me.error());
  return Response::Json(*me);
}

Response AccountsApi::ListTenants(Request& req) {
  WL_TRY_SESSION(s, guard_.Check(req, Role::kSystem, Access::kRead));
  auto tenants = accounts_.Tenants();
  if (!tenants) return Response::Error(tenants.error());
  json out = json::array();
  for (const auto& t : *tenants)
    out.push_back({{"id", t.id}, {"name", t.name}, {"users", t.users}});
  return Response::Json(out);
}

Response AccountsApi::CreateTenant(Request& req) {
  WL_TRY_SESSION(s, guard_.Check(req, Role::kSystem, Access::kWrite));
  auto body = ObjectBody(req, R"({"name": ...})");
  if (!body) return Response::Error(body.error());
  auto name = RequiredString(*body, "name");
  if (!name) return Response::Error(name.error());
  if (name->empty() || name->size() > 100) {
    return Response::Error(InvalidArgument("a tenant's name has 1 to 100 characters"));
  }
  auto tenants = accounts_.Tenants();
  if (!tenants) return Response::Error(tenants.error());
  for (const auto& t : *tenants) {
    if (t.name == *name) {
      return Response::Error(Status(Code::kAlreadyExists, "a tenant " + *name + " exists"));
    }
  }
  auto id = catalog_.EnsureTenant(*name);
  if (!id) return Response::Error(id.error());
  auto site = catalog_.EnsureSite(*id, *name);
  if (!site) return Response::Error(site.error());
  json out = {{"id", *id}, {"name", *name}};
  audit_.Record(*s, req, "tenant_created", "tenant " + *name, nullptr, out);
  return Response::Json(out, 201);
}

Response AccountsApi::ListUsers(Request& req) {
  WL_TRY_SESSION(s, guard_.Check(req, Role::kAdministrator, Access::kRead));
  auto users = accounts_.List(s->tenant_id);
  if (!users) return Response::Error(users.error());
  json out = json::array();
  for (const auto& u : *users) out.push_back(UserJson(u, guard_.sessions().Locked(u.username)));
  return Response::Json(out);
}

Response AccountsApi::CreateUser(Request& req) {
  WL_TRY_SESSION(s, guard_.Check(req, Role::kAdministrator, Access::kWrite));
  auto body = ObjectBody(req, R"({"username", "password", "role", "tenant_id"?})");
  if (!body) return Response::Error(body.error());
  auto username = RequiredString(*body, "username");
  auto password = RequiredString(*body, "password");
  auto role_name = RequiredString(*body, "role");
  for (const auto* r : {&username, &password, &role_name}) {
    if (!*r) return Response::Error(r->error());
  }
  if (!ValidUsername(*username)) {
    return Response::Error(
        InvalidArgument("a user name has 1 to 64 letters, digits and the characters . _ - @"));
  }
  auto role = ParseRole(*role_name);
  if (!role) return Response::Error(role.error());
  const bool caller_system = RoleOf(s->role) == Role::kSystem;
  int64_t tenant_id = s->tenant_id;
  if (body->contains("tenant_id") && !(*body)["tenant_id"].is_null()) {
    if (!(*body)["tenant_id"].is_number_integer()) {
      return Response::Error(InvalidArgument("tenant_id must be an integer"));
    }
    tenant_id = (*body)["tenant_id"].get<int64_t>();
  }
  if (tenant_id != s->tenant_id && !caller_system) {
    return Response::Error(
        PermissionDenied("only a system administrator creates users of another tenant"));
  }
  if (*role == Role::kSystem && !caller_system) {
    return Response::Error(
        PermissionDenied("only a system administrator creates system administrators"));
  }
  if (tenant_id != s->tenant_id) {
    auto tenants = accounts_.Tenants();
    if (!tenants) return Response::Error(tenants.error());
    if (std::none_of(tenants->begin(), tenants->end(),
                     [&](const TenantSummary& t) { return t.id == tenant_id; })) {
      return Response::Error(NotFound("no tenant " + std::to_string(tenant_id)));
    }
  }
  if (Status st = CheckNewPassword(tenant_id, 0, *username, *password); !st.ok()) {
    return Response::Error(st);
  }
  auto hash = HashPassword(*password);
  if (!hash) return Response::Error(hash.error());
  auto id =
      accounts_.Create(tenant_id, *username, *hash, std::string(RoleName(*role)), true, NowMs());
  if (!id) return Response::Error(id.error());
  auto user = accounts_.Get(*id);
  if (!user) return Response::Error(user.error());
  json out = UserJson(*user, false);
  audit_.Record(*s, req, "user_created", "user " + *username, nullptr, out);
  return Response::Json(out, 201);
}

Result<Account> AccountsApi::ManagedUser(const Session& s, const Request& req) {
  auto id = PathId(req);
  if (!id) return Fail(id.error());
  auto user = accounts_.Get(*id);
  if (!user || user->tenant_id != s.tenant_id) {
    return Fail(NotFound("no user " + std::to_string(*id)));
  }
  if (RoleOf(user->role) == Role::kSystem && RoleOf(s.role) != Role::kSystem) {
    return Fail(PermissionDenied("only a system administrator manages system administrators"));
  }
  return user;
}

Response AccountsApi::ChangeUser(Request& req) {
  WL_TRY_SESSION(s, guard_.Check(req, Role::kAdministrator, Access::kWrite));
  auto user = ManagedUser(*s, req);
  if (!user) return Response::Error(user.error());
  auto body = ObjectBody(req, R"({"role"?, "password"?, "reset_totp"?})");
  if (!body) return Response::Error(body.error());
  auto role_name = OptionalString(*body, "role");
  auto password = OptionalString(*body, "password");
  for (const auto* r : {&role_name, &password}) {
    if (!*r) return Response::Error(r->error());
  }
  const bool reset_totp = body->value("reset_totp", false) == true;
  const json before = UserJson(*user, false);
  bool end_sessions = false;
  if (*role_name && **role_name != user->role) {
    auto role = ParseRole(**role_name);
    if (!role) return Response::Error(role.error());
    if (*role == Role::kSystem && RoleOf(s->role) != Role::kSystem) {
      return Response::Error(
          PermissionDenied("only a system administrator appoints system administrators"));
    }
    if (user->id == s->user_id) {
      return Response::Error(FailedPrecondition("you cannot change your own role"));
    }
    if (Status st = accounts_.SetRole(user->id, std::string(RoleName(*role))); !st.ok()) {
      return Response::Error(st);
    }
    end_sessions = true;
  }
  if (*password) {
    if (Status st = CheckNewPassword(user->tenant_id, 0, user->username, **password); !st.ok()) {
      return Response::Error(st);
    }
    auto hash = HashPassword(**password);
    if (!hash) return Response::Error(hash.error());
    if (Status st = accounts_.SetPassword(user->id, *hash, true, NowMs()); !st.ok()) {
      return Response::Error(st);
    }
    guard_.sessions().LoginSucceeded(user->username);  // an administrator's reset unlocks
    end_sessions = true;
  }
  if (reset_totp) {
    if (Status st = accounts_.DisableTotp(user->id); !st.ok()) return Response::Error(st);
    end_sessions = true;
  }
  if (end_sessions) guard_.sessions().RemoveUser(user->id, req.Cookie(kSessionCookie));
  auto after_user = accounts_.Get(user->id);
  if (!after_user) return Response::Error(after_user.error());
  json after = UserJson(*after_user, guard_.sessions().Locked(user->username));
  json logged_after = after;
  if (*password) logged_after["password"] = "reset";
  audit_.Record(*s, req, "user_changed", "user " + user->username, before, logged_after);
  return Response::Json(after);
}

Response AccountsApi::DeleteUser(Request& req) {
  WL_TRY_SESSION(s, guard_.Check(req, Role::kAdministrator, Access::kWrite));
  auto user = ManagedUser(*s, req);
  if (!user) return Response::Error(user.error());
  if (user->id == s->user_id) {
    return Response::Error(FailedPrecondition("you cannot delete yourself"));
  }
  if (Status st = accounts_.Delete(user->id); !st.ok()) return Response::Error(st);
  guard_.sessions().RemoveUser(user->id);
  audit_.Record(*s, req, "user_deleted", "user " + user->username, UserJson(*user, false), nullptr);
  return Response::NoContent();
}

Response AccountsApi::GetSecurity(Request& req) {
  WL_TRY_SESSION(s, guard_.Check(req, Role::kAdministrator, Access::kRead));
  auto security = accounts_.Security(s->tenant_id);
  if (!security) return Response::Error(security.error());
  return Response::Json(SecurityJson(*security));
}

Response AccountsApi::PutSecurity(Request& req) {
  WL_TRY_SESSION(s, guard_.Check(req, Role::kAdministrator, Access::kWrite));
  auto body = ObjectBody(req, R"({"password": {...}, "totp_required_roles": [...]})");
  if (!body) return Response::Error(body.error());
  auto next = ParseSecurity(*body);
  if (!next) return Response::Error(next.error());
  auto before = accounts_.Security(s->tenant_id);
  if (!before) return Response::Error(before.error());
  if (Status st = accounts_.SetSecurity(s->tenant_id, *next); !st.ok()) return Response::Error(st);
  json after = SecurityJson(*next);
  audit_.Record(*s, req, "settings_changed", "security settings", SecurityJson(*before), after);
  return Response::Json(after);
}

Response AccountsApi::ListAudit(Request& req) {
  WL_TRY_SESSION(s, guard_.Check(req, Role::kAdministrator, Access::kRead));
  int64_t limit = 100, before_id = 0;
  for (auto [name, target, max] : {std::tuple{"limit", &limit, int64_t{1000}},
                                   std::tuple{"before_id", &before_id, INT64_MAX}}) {
    auto it = req.query.find(name);
    if (it == req.query.end()) continue;
    const std::string& v = it->second;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *target);
    if (ec != std::errc() || p != v.data() + v.size() || *target < 0 || *target > max) {
      return Response::Error(InvalidArgument(std::string(name) + " must be an integer from 0 to " +
                                             std::to_string(max)));
    }
  }
  // A system administrator sees every tenant's entries (failed logins of unknown names too).
  std::optional<int64_t> tenant;
  if (RoleOf(s->role) != Role::kSystem) tenant = s->tenant_id;
  auto entries = accounts_.AuditLog(tenant, before_id, static_cast<int>(limit));
  if (!entries) return Response::Error(entries.error());
  json out = json::array();
  for (const auto& e : *entries) {
    out.push_back({{"id", e.id},
                   {"ts_ms", e.ts_ms},
                   {"tenant_id", e.tenant_id ? json(*e.tenant_id) : json()},
                   {"username", e.username},
                   {"action", e.action},
                   {"target", e.target},
                   {"before", e.before},
                   {"after", e.after},
                   {"remote", e.remote}});
  }
  return Response::Json(out);
}

}  // namespace wattline::server
