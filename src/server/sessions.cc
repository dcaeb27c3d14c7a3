#include "server/sessions.h"

#include "server/password.h"

namespace wattline::server {

std::string SessionStore::Create(Session s) {
  std::string token = RandomHex(32);
  s.created = s.last_used = time_.MonotonicNow();
  // Only the token's hash is kept, so a memory dump does not hand out live sessions.
  sessions_[TokenHash(token)] = std::move(s);
  return token;
}

Result<Session> SessionStore::Find(const std::string& token) {
  if (token.empty()) return Fail(Unauthenticated("not logged in"));
  auto it = sessions_.find(TokenHash(token));
  if (it == sessions_.end())
    return Fail(Unauthenticated("session unknown or expired; log in again"));
  auto now = time_.MonotonicNow();
  if (now - it->second.last_used > kIdleTimeout || now - it->second.created > kAbsoluteTimeout) {
    sessions_.erase(it);
    return Fail(Unauthenticated("session expired; log in again"));
  }
  it->second.last_used = now;
  return it->second;
}

void SessionStore::Remove(const std::string& token) { sessions_.erase(TokenHash(token)); }

Status SessionStore::LoginAllowed(const std::string& username) {
  auto it = failures_.find(username);
  if (it != failures_.end() && time_.MonotonicNow() < it->second.locked_until) {
    return ResourceExhausted("too many failed logins; try again in a few minutes");
  }
  return Status::Ok();
}

void SessionStore::LoginFailed(const std::string& username) {
  auto now = time_.MonotonicNow();
  Failures& f = failures_[username];
  if (f.count == 0 || now - f.first > kFailureWindow) {
    f.count = 0;
    f.first = now;
  }
  if (++f.count >= kMaxFailures) {
    f.locked_until = now + kLockout;
    f.count = 0;
  }
}

void SessionStore::LoginSucceeded(const std::string& username) { failures_.erase(username); }

}  // namespace wattline::server
