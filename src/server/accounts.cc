#include "server/accounts.h"

#include <algorithm>
#include <cctype>

#include "server/access.h"

namespace wattline::server {
using historian::Statement;
using nlohmann::json;

namespace {
const char kSelectAccount[] =
    "SELECT u.id, u.tenant_id, t.name, u.username, u.password_hash, u.role, u.locale,"
    " u.must_change_password, u.password_changed_ms, coalesce(u.totp_secret, ''),"
    " coalesce(u.totp_pending, ''), u.totp_last_step, u.created_ms, u.last_login_ms"
    " FROM users u JOIN tenants t ON t.id = u.tenant_id ";

Account ReadAccount(const Statement& st) {
  Account a;
  a.id = st.Int(0);
  a.tenant_id = st.Int(1);
  a.tenant_name = st.Text(2);
  a.username = st.Text(3);
  a.password_hash = st.Text(4);
  a.role = st.Text(5);
  a.locale = st.Text(6);
  a.must_change_password = st.Int(7) != 0;
  a.password_changed_ms = st.Int(8);
  a.totp_secret = st.Text(9);
  a.totp_pending = st.Text(10);
  a.totp_last_step = st.Int(11);
  a.created_ms = st.Int(12);
  a.last_login_ms = st.Int(13);
  return a;
}

json TextJson(const std::string& s) {
  if (s.empty()) return nullptr;
  json j = json::parse(s, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? json(s) : j;
}
}  // namespace

Status CheckPasswordPolicy(const PasswordPolicy& policy, const std::string& password,
                           const std::string& username) {
  std::vector<std::string> broken;
  // Characters, not bytes: a multi-byte UTF-8 sequence counts once.
  size_t chars = 0;
  bool lower = false, upper = false, digit = false, other = false;
  for (unsigned char c : password) {
    if ((c & 0xC0) != 0x80) ++chars;
    if (std::islower(c)) {
      lower = true;
    } else if (std::isupper(c)) {
      upper = true;
    } else if (std::isdigit(c)) {
      digit = true;
    } else {
      other = true;
    }
  }
  if (static_cast<int>(chars) < policy.min_length) {
    broken.push_back("at least " + std::to_string(policy.min_length) + " characters");
  }
  const int classes = lower + upper + digit + other;
  if (classes < policy.min_classes) {
    broken.push_back("characters of at least " + std::to_string(policy.min_classes) +
                     " kinds (lower case, upper case, digits, others)");
  }
  if (password.size() > 1024) broken.push_back("at most 1024 bytes");
  if (!username.empty() && password.find(username) != std::string::npos) {
    broken.push_back("not containing the user name");
  }
  if (broken.empty()) return Status::Ok();
  std::string msg = "the password must have ";
  for (size_t i = 0; i < broken.size(); ++i) msg += (i ? "; " : "") + broken[i];
  return InvalidArgument(msg);
}

json SecurityJson(const SecuritySettings& s) {
  return {{"password",
           {{"min_length", s.password.min_length},
            {"min_classes", s.password.min_classes},
            {"history", s.password.history},
            {"max_age_days", s.password.max_age_days}}},
          {"totp_required_roles", s.totp_required_roles}};
}

Result<SecuritySettings> ParseSecurity(const json& j) {
  if (!j.is_object() || !j.contains("password") || !j["password"].is_object()) {
    return Fail(InvalidArgument("expected {\"password\": {...}, \"totp_required_roles\": [...]}"));
  }
  SecuritySettings s;
  const json& p = j["password"];
  struct Field {
    const char* name;
    int* target;
    int min, max;
  };
  for (const Field& f : {Field{"min_length", &s.password.min_length, 8, 128},
                         Field{"min_classes", &s.password.min_classes, 0, 4},
                         Field{"history", &s.password.history, 0, 24},
                         Field{"max_age_days", &s.password.max_age_days, 0, 3650}}) {
    if (!p.contains(f.name)) continue;
    if (!p[f.name].is_number_integer() || p[f.name].get<int64_t>() < f.min ||
        p[f.name].get<int64_t>() > f.max) {
      return Fail(InvalidArgument("password." + std::string(f.name) + " must be an integer from " +
                                  std::to_string(f.min) + " to " + std::to_string(f.max)));
    }
    *f.target = p[f.name].get<int>();
  }
  if (j.contains("totp_required_roles")) {
    if (!j["totp_required_roles"].is_array()) {
      return Fail(InvalidArgument("totp_required_roles must be a list of roles"));
    }
    for (const auto& r : j["totp_required_roles"]) {
      if (!r.is_string())
        return Fail(InvalidArgument("totp_required_roles must be a list of roles"));
      auto role = ParseRole(r.get<std::string>());
      if (!role) return Fail(role.error());
      s.totp_required_roles.emplace_back(RoleName(*role));
    }
    std::sort(s.totp_required_roles.begin(), s.totp_required_roles.end());
    s.totp_required_roles.erase(
        std::unique(s.totp_required_roles.begin(), s.totp_required_roles.end()),
        s.totp_required_roles.end());
  }
  return s;
}

Result<std::vector<Account>> Accounts::Query(const std::string& where,
                                             const std::function<void(Statement&)>& bind) {
  auto st = db_.Prepare(kSelectAccount + where);
  if (!st) return Fail(st.error());
  bind(*st);
  std::vector<Account> out;
  while (true) {
    auto row = st->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    out.push_back(ReadAccount(*st));
  }
  return out;
}

Status Accounts::Update(const std::string& sql, const std::function<void(Statement&)>& bind) {
  auto st = db_.Prepare(sql);
  if (!st) return st.error();
  bind(*st);
  if (Status s = st->Run(); !s.ok()) return s;
  if (db_.Changes() == 0) return NotFound("no such user");
  return Status::Ok();
}

Result<Account> Accounts::FindByName(const std::string& username) {
  auto r = Query("WHERE u.username = ?1", [&](Statement& st) { st.Bind(1, username); });
  if (!r) return Fail(r.error());
  if (r->empty()) return Fail(NotFound("no user " + username));
  return std::move(r->front());
}

Result<Account> Accounts::Get(int64_t user_id) {
  auto r = Query("WHERE u.id = ?1", [&](Statement& st) { st.Bind(1, user_id); });
  if (!r) return Fail(r.error());
  if (r->empty()) return Fail(NotFound("no user " + std::to_string(user_id)));
  return std::move(r->front());
}

Result<std::vector<Account>> Accounts::List(int64_t tenant_id) {
  return Query("WHERE u.tenant_id = ?1 ORDER BY u.username",
               [&](Statement& st) { st.Bind(1, tenant_id); });
}

Result<int64_t> Accounts::Create(int64_t tenant_id, const std::string& username,
                                 const std::string& password_hash, const std::string& role,
                                 bool must_change_password, int64_t now_ms) {
  if (FindByName(username)) {
    return Fail(Status(Code::kAlreadyExists, "the user name " + username + " is taken"));
  }
  int64_t id = 0;
  Status s = historian::InTransaction(db_, [&]() -> Status {
    auto st = db_.Prepare(
        "INSERT INTO users (tenant_id, username, password_hash, role, must_change_password,"
        " password_changed_ms, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)");
    if (!st) return st.error();
    st->Bind(1, tenant_id)
        .Bind(2, username)
        .Bind(3, password_hash)
        .Bind(4, role)
        .Bind(5, int64_t{must_change_password})
        .Bind(6, now_ms);
    if (Status e = st->Run(); !e.ok()) return e;
    id = db_.LastInsertId();
    auto h = db_.Prepare(
        "INSERT INTO password_history (user_id, password_hash, changed_ms) VALUES (?1, ?2, ?3)");
    if (!h) return h.error();
    h->Bind(1, id).Bind(2, password_hash).Bind(3, now_ms);
    return h->Run();
  });
  if (!s.ok()) return Fail(s);
  return id;
}

Status Accounts::SetRole(int64_t user_id, const std::string& role) {
  return Update("UPDATE users SET role = ?2 WHERE id = ?1",
                [&](Statement& st) { st.Bind(1, user_id).Bind(2, role); });
}

Status Accounts::SetPassword(int64_t user_id, const std::string& password_hash, bool must_change,
                             int64_t now_ms) {
  return historian::InTransaction(db_, [&]() -> Status {
    if (Status s = Update("UPDATE users SET password_hash = ?2, must_change_password = ?3,"
                          " password_changed_ms = ?4 WHERE id = ?1",
                          [&](Statement& st) {
                            st.Bind(1, user_id)
                                .Bind(2, password_hash)
                                .Bind(3, int64_t{must_change})
                                .Bind(4, now_ms);
                          });
        !s.ok())
      return s;
    auto h = db_.Prepare(
        "INSERT INTO password_history (user_id, password_hash, changed_ms) VALUES (?1, ?2, ?3)");
    if (!h) return h.error();
    h->Bind(1, user_id).Bind(2, password_hash).Bind(3, now_ms);
    if (Status s = h->Run(); !s.ok()) return s;
    auto prune = db_.Prepare(
        "DELETE FROM password_history WHERE user_id = ?1 AND rowid NOT IN (SELECT rowid FROM"
        " password_history WHERE user_id = ?1 ORDER BY changed_ms DESC, rowid DESC LIMIT 24)");
    if (!prune) return prune.error();
    prune->Bind(1, user_id);
    return prune->Run();
  });
}

Result<std::vector<std::string>> Accounts::RecentPasswordHashes(int64_t user_id, int n) {
  auto st = db_.Prepare(
      "SELECT password_hash FROM password_history WHERE user_id = ?1"
      " ORDER BY changed_ms DESC, rowid DESC LIMIT ?2");
  if (!st) return Fail(st.error());
  st->Bind(1, user_id).Bind(2, int64_t{n});
  std::vector<std::string> out;
  while (true) {
    auto row = st->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    out.push_back(st->Text(0));
  }
  return out;
}

Status Accounts::Delete(int64_t user_id) {
  return Update("DELETE FROM users WHERE id = ?1", [&](Statement& st) { st.Bind(1, user_id); });
}

Status Accounts::SetLocale(int64_t user_id, const std::string& locale) {
  return Update("UPDATE users SET locale = ?2 WHERE id = ?1",
                [&](Statement& st) { st.Bind(1, user_id).Bind(2, locale); });
}

Status Accounts::SetLastLogin(int64_t user_id, int64_t now_ms) {
  return Update("UPDATE users SET last_login_ms = ?2 WHERE id = ?1",
                [&](Statement& st) { st.Bind(1, user_id).Bind(2, now_ms); });
}

Status Accounts::SetTotpPending(int64_t user_id, const std::string& secret) {
  return Update("UPDATE users SET totp_pending = ?2 WHERE id = ?1",
                [&](Statement& st) { st.Bind(1, user_id).Bind(2, secret); });
}

Status Accounts::EnableTotp(int64_t user_id, const std::vector<std::string>& recovery_code_hashes) {
  return historian::InTransaction(db_, [&]() -> Status {
    if (Status s =
            Update("UPDATE users SET totp_secret = totp_pending, totp_pending = NULL WHERE id = ?1"
                   " AND totp_pending IS NOT NULL",
                   [&](Statement& st) { st.Bind(1, user_id); });
        !s.ok())
      return s;
    auto del = db_.Prepare("DELETE FROM recovery_codes WHERE user_id = ?1");
    if (!del) return del.error();
    del->Bind(1, user_id);
    if (Status s = del->Run(); !s.ok()) return s;
    auto ins = db_.Prepare("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?1, ?2)");
    if (!ins) return ins.error();
    for (const auto& h : recovery_code_hashes) {
      ins->Reset();
      ins->Bind(1, user_id).Bind(2, h);
      if (Status s = ins->Run(); !s.ok()) return s;
    }
    return Status::Ok();
  });
}

Status Accounts::DisableTotp(int64_t user_id) {
  return historian::InTransaction(db_, [&]() -> Status {
    if (Status s = Update("UPDATE users SET totp_secret = NULL, totp_pending = NULL WHERE id = ?1",
                          [&](Statement& st) { st.Bind(1, user_id); });
        !s.ok())
      return s;
    auto del = db_.Prepare("DELETE FROM recovery_codes WHERE user_id = ?1");
    if (!del) return del.error();
    del->Bind(1, user_id);
    return del->Run();
  });
}

Status Accounts::SetTotpLastStep(int64_t user_id, int64_t step) {
  return Update("UPDATE users SET totp_last_step = ?2 WHERE id = ?1",
                [&](Statement& st) { st.Bind(1, user_id).Bind(2, step); });
}

Result<bool> Accounts::UseRecoveryCode(int64_t user_id, const std::string& code_hash,
                                       int64_t now_ms) {
  auto st = db_.Prepare(
      "UPDATE recovery_codes SET used_ms = ?3 WHERE user_id = ?1 AND code_hash = ?2"
      " AND used_ms IS NULL");
  if (!st) return Fail(st.error());
  st->Bind(1, user_id).Bind(2, code_hash).Bind(3, now_ms);
  if (Status s = st->Run(); !s.ok()) return Fail(s);
  return db_.Changes() > 0;
}

Result<SecuritySettings> Accounts::Security(int64_t tenant_id) {
  auto st = db_.Prepare("SELECT security FROM tenant_settings WHERE tenant_id = ?1");
  if (!st) return Fail(st.error());
  st->Bind(1, tenant_id);
  auto row = st->Step();
  if (!row) return Fail(row.error());
  if (!*row) return SecuritySettings{};
  json j = json::parse(st->Text(0), nullptr, /*allow_exceptions=*/false);
  auto s = ParseSecurity(j);
  if (!s)
    return Fail(DataLoss("stored security settings of tenant " + std::to_string(tenant_id) +
                         " are damaged: " + s.error().message()));
  return s;
}

Status Accounts::SetSecurity(int64_t tenant_id, const SecuritySettings& s) {
  auto st = db_.Prepare(
      "INSERT INTO tenant_settings (tenant_id, security) VALUES (?1, ?2)"
      " ON CONFLICT (tenant_id) DO UPDATE SET security = excluded.security");
  if (!st) return st.error();
  st->Bind(1, tenant_id).Bind(2, SecurityJson(s).dump());
  return st->Run();
}

Result<std::vector<TenantSummary>> Accounts::Tenants() {
  auto st = db_.Prepare(
      "SELECT t.id, t.name, (SELECT count(*) FROM users u WHERE u.tenant_id = t.id)"
      " FROM tenants t ORDER BY t.name");
  if (!st) return Fail(st.error());
  std::vector<TenantSummary> out;
  while (true) {
    auto row = st->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    out.push_back({st->Int(0), st->Text(1), st->Int(2)});
  }
  return out;
}

Status Accounts::Audit(const AuditEntry& e) {
  auto st = db_.Prepare(
      "INSERT INTO audit_log (ts_ms, tenant_id, user_id, username, action, target, before,"
      " after, remote) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (!st) return st.error();
  st->Bind(1, e.ts_ms);
  if (e.tenant_id) {
    st->Bind(2, *e.tenant_id);
  } else {
    st->BindNull(2);
  }
  st->Bind(3, e.user_id).Bind(4, e.username).Bind(5, e.action).Bind(6, e.target);
  if (e.before.is_null()) {
    st->BindNull(7);
  } else {
    st->Bind(7, e.before.dump());
  }
  if (e.after.is_null()) {
    st->BindNull(8);
  } else {
    st->Bind(8, e.after.dump());
  }
  st->Bind(9, e.remote);
  return st->Run();
}

Result<std::vector<AuditEntry>> Accounts::AuditLog(std::optional<int64_t> tenant_id,
                                                   int64_t before_id, int limit) {
  auto st = db_.Prepare(
      "SELECT id, ts_ms, tenant_id, coalesce(user_id, 0), username, action, target,"
      " coalesce(before, ''), coalesce(after, ''), remote FROM audit_log"
      " WHERE (?1 IS NULL OR tenant_id = ?1) AND (?2 <= 0 OR id < ?2) ORDER BY id DESC LIMIT ?3");
  if (!st) return Fail(st.error());
  if (tenant_id) {
    st->Bind(1, *tenant_id);
  } else {
    st->BindNull(1);
  }
  st->Bind(2, before_id).Bind(3, int64_t{limit});
  std::vector<AuditEntry> out;
  while (true) {
    auto row = st->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    AuditEntry e;
    e.id = st->Int(0);
    e.ts_ms = st->Int(1);
    if (!st->IsNull(2)) e.tenant_id = st->Int(2);
    e.user_id = st->Int(3);
    e.username = st->Text(4);
    e.action = st->Text(5);
    e.target = st->Text(6);
    e.before = TextJson(st->Text(7));
    e.after = TextJson(st->Text(8));
    e.remote = st->Text(9);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace wattline::server
