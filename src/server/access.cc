#include "server/access.h"

#include <array>

namespace wattline::server {
namespace {
constexpr std::array<std::string_view, 5> kRoleNames = {"viewer", "operator", "engineer",
                                                        "administrator", "system"};
}  // namespace

std::string_view RoleName(Role r) { return kRoleNames[static_cast<size_t>(r)]; }

Result<Role> ParseRole(std::string_view name) {
  for (size_t i = 0; i < kRoleNames.size(); ++i) {
    if (kRoleNames[i] == name) return static_cast<Role>(i);
  }
  return Fail(InvalidArgument("unknown role '" + std::string(name) +
                              "': expected viewer, operator, engineer, administrator or system"));
}

Role RoleOf(std::string_view name) { return ParseRole(name).value_or(Role::kViewer); }

Result<Session> Guard::CheckUnfinished(const http::Request& req, Access access) {
  auto s = sessions_.Find(req.Cookie(kSessionCookie));
  if (!s) return s;
  // SameSite=Strict already keeps cross-site requests cookie-less; the custom header is a
  // second line that a cross-site form cannot send.
  if (access == Access::kWrite && req.Header("X-Requested-With") != "wattline") {
    return Fail(PermissionDenied("missing X-Requested-With header"));
  }
  return s;
}

Result<Session> Guard::Check(const http::Request& req, Role min_role, Access access) {
  auto s = CheckUnfinished(req, access);
  if (!s) return s;
  if (s->must_change_password) {
    return Fail(
        PermissionDenied("change your password first").WithReason("password_change_required"));
  }
  if (s->must_enrol_totp) {
    return Fail(PermissionDenied("your role requires two-factor login: enrol first")
                    .WithReason("totp_enrolment_required"));
  }
  if (RoleOf(s->role) < min_role) {
    return Fail(PermissionDenied("this needs the role " + std::string(RoleName(min_role)) +
                                 " or higher; you are " + s->role));
  }
  return s;
}

}  // namespace wattline::server
