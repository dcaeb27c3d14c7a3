// AccountsApi: the REST endpoints of docs/api.md "Sessions and accounts" and "Roles, tenants,
// users, audit log": login with two-factor codes, the forced steps (password change,
// two-factor enrolment), the account page, tenants, users, security settings and the audit log.
// Every configuration change is written to the audit log with its before and after.
// Thread-safety: used from the server's I/O thread.
#pragma once

#include <nlohmann/json.hpp>

#include "core/time.h"
#include "http/router.h"
#include "server/access.h"
#include "server/accounts.h"
#include "server/catalog.h"

namespace wattline::server {

// Writes audit entries in the name of a session (or of a user name that failed to log in).
// A failure to write is logged, never hidden.
class AuditTrail {
 public:
  AuditTrail(Accounts& accounts, TimeSource& time) : accounts_(accounts), time_(time) {}
  void Record(const Session& who, const http::Request& req, const std::string& action,
              const std::string& target, nlohmann::json before, nlohmann::json after);
  void RecordAnonymous(std::optional<int64_t> tenant_id, const std::string& username,
                       const http::Request& req, const std::string& action);
  int64_t NowMs() { return ToUnixMs(time_.SystemNow()); }

 private:
  Accounts& accounts_;
  TimeSource& time_;
};

class AccountsApi {
 public:
  AccountsApi(Catalog& catalog, Accounts& accounts, Guard& guard, AuditTrail& audit,
              TimeSource& time)
      : catalog_(catalog), accounts_(accounts), guard_(guard), audit_(audit), time_(time) {}

  void Register(http::Router& router);

 private:
  http::Response Login(http::Request& req);
  http::Response Logout(http::Request& req);
  http::Response Me(http::Request& req);
  http::Response Preferences(http::Request& req);
  http::Response ChangePassword(http::Request& req);
  http::Response EnrolTotp(http::Request& req);
  http::Response ConfirmTotp(http::Request& req);
  http::Response DisableTotp(http::Request& req);
  http::Response SwitchTenant(http::Request& req);
  http::Response ListTenants(http::Request& req);
  http::Response CreateTenant(http::Request& req);
  http::Response ListUsers(http::Request& req);
  http::Response CreateUser(http::Request& req);
  http::Response ChangeUser(http::Request& req);
  http::Response DeleteUser(http::Request& req);
  http::Response GetSecurity(http::Request& req);
  http::Response PutSecurity(http::Request& req);
  http::Response ListAudit(http::Request& req);

  // The body of `me` for the session's user.
  Result<nlohmann::json> MeJson(const Session& s);
  // A user of the session's tenant (kNotFound for another tenant's) that the caller may
  // manage (kPermissionDenied for a system administrator managed by a lesser role).
  Result<Account> ManagedUser(const Session& s, const http::Request& req);
  // kInvalidArgument when the new password breaks the tenant's policy or repeats one of the
  // user's last passwords.
  Status CheckNewPassword(int64_t tenant_id, int64_t user_id, const std::string& username,
                          const std::string& password);
  int64_t NowMs() { return ToUnixMs(time_.SystemNow()); }

  Catalog& catalog_;
  Accounts& accounts_;
  Guard& guard_;
  AuditTrail& audit_;
  TimeSource& time_;
};

// A user as the API shows it (never a hash or secret).
nlohmann::json UserJson(const Account& a, bool locked);

}  // namespace wattline::server
