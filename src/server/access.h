// Access control: the roles of docs/api.md ("Roles, tenants, users, audit log") and the Guard
// every handler asks first. A Guard checks, in this order: a live session (401), the CSRF header
// on state-changing requests (403), the steps a user must finish before anything else (a
// password change, two-factor enrolment: 403 with a reason) and the role (403).
// Thread-safety: not thread-safe; used from the server's I/O thread.
#pragma once

#include <string>
#include <string_view>

#include "http/message.h"
#include "server/sessions.h"

namespace wattline::server {

// Ordered: each role has the rights of those before it.
enum class Role { kViewer = 0, kOperator = 1, kEngineer = 2, kAdministrator = 3, kSystem = 4 };

std::string_view RoleName(Role r);
// kInvalidArgument naming the valid roles.
Result<Role> ParseRole(std::string_view name);
// The role of a session or user record; viewer for anything unknown (least right).
Role RoleOf(std::string_view name);

// The session cookie's name.
inline constexpr char kSessionCookie[] = "wl_session";

enum class Access {
  kRead,   // GET: session and role
  kWrite,  // POST/PUT/DELETE: also the CSRF header
};

class Guard {
 public:
  explicit Guard(SessionStore& sessions) : sessions_(sessions) {}

  // The caller's session when it may do this with `min_role`; otherwise the refusal.
  Result<Session> Check(const http::Request& req, Role min_role, Access access);
  // For the calls a user may make before finishing the forced steps (me, logout, password
  // change, two-factor enrolment): session and CSRF only.
  Result<Session> CheckUnfinished(const http::Request& req, Access access);

  SessionStore& sessions() { return sessions_; }

 private:
  SessionStore& sessions_;
};

}  // namespace wattline::server
