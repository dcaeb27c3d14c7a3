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

Status SessionStore::Modify(const std::string& token, const std::function<void(Session&)>& change) {
  auto it = sessions_.find(TokenHash(token));
  if (it == sessions_.end()) return Unauthenticated("session unknown or expired; log in again");
  change(it->second);
  return Status::Ok();
}

void SessionStore::RemoveUser(int64_t user_id, const std::string& keep_token) {
  const std::string keep = keep_token.empty() ? "" : TokenHash(keep_token);
  std::erase_if(sessions_,
                [&](const auto& kv) { return kv.second.user_id == user_id && kv.first != keep; });
}

bool SessionStore::IsLocked(const std::string& key) {
  auto it = failures_.find(key);
  return it != failures_.end() && time_.MonotonicNow() < it->second.locked_until;
}

bool SessionStore::Locked(const std::string& username) { return IsLocked("user:" + username); }

Status SessionStore::LoginAllowed(const std::string& username, const std::string& remote) {
  if (IsLocked("user:" + username) || IsLocked("addr:" + remote)) {
    return ResourceExhausted("too many failed logins; try again in a few minutes");
  }
  return Status::Ok();
}

bool SessionStore::CountFailure(const std::string& key, int max) {
  auto now = time_.MonotonicNow();
  Failures& f = failures_[key];
  if (f.count == 0 || now - f.first > kFailureWindow) {
    f.count = 0;
    f.first = now;
  }
  if (++f.count >= max) {
    f.locked_until = now + kLockout;
    f.count = 0;
    return true;
  }
  return false;
}

bool SessionStore::LoginFailed(const std::string& username, const std::string& remote) {
  const bool user_locked = CountFailure("user:" + username, kMaxFailures);
  const bool addr_locked = CountFailure("addr:" + remote, kMaxAddressFailures);
  return user_locked || addr_locked;
}

void SessionStore::LoginSucceeded(const std::string& username) {
  failures_.erase("user:" + username);
}

}  // namespace wattline::server
