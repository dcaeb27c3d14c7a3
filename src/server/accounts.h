// Accounts: the users of every tenant with their password state, two-factor secrets and
// preferences; each tenant's security settings (password policy, roles that must use
// two-factor login); tenants; and the audit log. Stored in config.db (tables of
// server/catalog.cc's third migration).
// Thread-safety: not thread-safe; used from the server's I/O thread.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "historian/sqlite_db.h"

namespace wattline::server {

struct Account {
  int64_t id = 0;
  int64_t tenant_id = 0;
  std::string tenant_name;
  std::string username;
  std::string password_hash;
  std::string role;
  std::string locale;  // "", "en", "de"
  bool must_change_password = false;
  int64_t password_changed_ms = 0;
  std::string totp_secret;   // base32; empty without two-factor login
  std::string totp_pending;  // a secret being enrolled
  int64_t totp_last_step = 0;
  int64_t created_ms = 0;
  int64_t last_login_ms = 0;
};

struct PasswordPolicy {
  int min_length = 12;
  int min_classes = 3;   // of lower case, upper case, digits, others
  int history = 5;       // the last N passwords may not be used again
  int max_age_days = 0;  // 0: passwords do not expire
};

struct SecuritySettings {
  PasswordPolicy password;
  std::vector<std::string> totp_required_roles;
};

// Every broken rule of the policy, in one kInvalidArgument ("at least 12 characters; ...").
Status CheckPasswordPolicy(const PasswordPolicy& policy, const std::string& password,
                           const std::string& username);

nlohmann::json SecurityJson(const SecuritySettings& s);
// kInvalidArgument naming the bad field.
Result<SecuritySettings> ParseSecurity(const nlohmann::json& j);

struct TenantSummary {
  int64_t id = 0;
  std::string name;
  int64_t users = 0;
};

struct AuditEntry {
  int64_t id = 0;
  int64_t ts_ms = 0;
  std::optional<int64_t> tenant_id;
  int64_t user_id = 0;  // 0: nobody logged in (a failed login)
  std::string username;
  std::string action;
  std::string target;
  nlohmann::json before;  // null when nothing was there
  nlohmann::json after;
  std::string remote;
};

class Accounts {
 public:
  explicit Accounts(historian::SqliteDb& db) : db_(db) {}

  // kNotFound when there is no such user.
  Result<Account> FindByName(const std::string& username);
  Result<Account> Get(int64_t user_id);
  Result<std::vector<Account>> List(int64_t tenant_id);
  // kAlreadyExists when the name is taken. Records the hash in the password history.
  Result<int64_t> Create(int64_t tenant_id, const std::string& username,
                         const std::string& password_hash, const std::string& role,
                         bool must_change_password, int64_t now_ms);
  Status SetRole(int64_t user_id, const std::string& role);
  // Sets the password and records it in the history (pruned to the last 24).
  Status SetPassword(int64_t user_id, const std::string& password_hash, bool must_change,
                     int64_t now_ms);
  // The user's last `n` password hashes, newest first (the current one included).
  Result<std::vector<std::string>> RecentPasswordHashes(int64_t user_id, int n);
  Status Delete(int64_t user_id);
  Status SetLocale(int64_t user_id, const std::string& locale);
  Status SetLastLogin(int64_t user_id, int64_t now_ms);

  Status SetTotpPending(int64_t user_id, const std::string& secret);
  // Moves the pending secret into force and replaces the recovery codes (their hashes).
  Status EnableTotp(int64_t user_id, const std::vector<std::string>& recovery_code_hashes);
  Status DisableTotp(int64_t user_id);
  Status SetTotpLastStep(int64_t user_id, int64_t step);
  // True when an unused recovery code with this hash existed; it is used up.
  Result<bool> UseRecoveryCode(int64_t user_id, const std::string& code_hash, int64_t now_ms);

  // The tenant's settings, the defaults when none were saved.
  Result<SecuritySettings> Security(int64_t tenant_id);
  Status SetSecurity(int64_t tenant_id, const SecuritySettings& s);

  Result<std::vector<TenantSummary>> Tenants();

  Status Audit(const AuditEntry& e);
  // Newest first; `tenant_id` nullopt for every tenant; ids below `before_id` when > 0.
  Result<std::vector<AuditEntry>> AuditLog(std::optional<int64_t> tenant_id, int64_t before_id,
                                           int limit);

 private:
  Result<std::vector<Account>> Query(const std::string& where,
                                     const std::function<void(historian::Statement&)>& bind);
  Status Update(const std::string& sql, const std::function<void(historian::Statement&)>& bind);

  historian::SqliteDb& db_;
};

}  // namespace wattline::server
