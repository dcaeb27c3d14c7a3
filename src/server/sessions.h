// Sessions: logged-in browsers, kept in memory (a restart logs everyone out), with an idle
// and an absolute timeout; and a login throttle per user name.
// Thread-safety: not thread-safe; used from the server's I/O thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/status.h"
#include "core/time.h"

namespace wattline::server {

struct Session {
  int64_t user_id = 0;
  int64_t tenant_id = 0;  // the tenant the session acts in (a system administrator may switch)
  std::string tenant_name;
  std::string username;
  std::string role;
  int64_t home_tenant_id = 0;  // the user's own tenant
  // Steps the user must finish before anything else (server/access.h).
  bool must_change_password = false;
  bool must_enrol_totp = false;
  MonotonicTime created;
  MonotonicTime last_used;
};

class SessionStore {
 public:
  explicit SessionStore(TimeSource& time) : time_(time) {}

  static constexpr std::chrono::minutes kIdleTimeout{60};
  static constexpr std::chrono::hours kAbsoluteTimeout{12};

  // Returns the new session's token (random, 256 bits).
  std::string Create(Session s);
  // kUnauthenticated when the token is unknown or its session expired.
  Result<Session> Find(const std::string& token);
  void Remove(const std::string& token);
  // Changes the live session of `token` (after a password change, a tenant switch);
  // kUnauthenticated when it is gone.
  Status Modify(const std::string& token, const std::function<void(Session&)>& change);
  // Ends every session of the user except the one of `keep_token` (after a role change, a
  // password reset, a deletion).
  void RemoveUser(int64_t user_id, const std::string& keep_token = "");

  // Login throttle: after kMaxFailures failures within kFailureWindow a user name is locked
  // for kLockout, and after kMaxAddressFailures so is the address they came from (guessing
  // across many names). LoginAllowed answers kResourceExhausted while either is locked.
  static constexpr int kMaxFailures = 5;
  static constexpr int kMaxAddressFailures = 20;
  static constexpr std::chrono::minutes kFailureWindow{5};
  static constexpr std::chrono::minutes kLockout{5};
  Status LoginAllowed(const std::string& username, const std::string& remote);
  // True when this failure locked the user name or the address.
  bool LoginFailed(const std::string& username, const std::string& remote);
  void LoginSucceeded(const std::string& username);
  bool Locked(const std::string& username);

 private:
  struct Failures {
    int count = 0;
    MonotonicTime first;
    MonotonicTime locked_until;
  };
  bool CountFailure(const std::string& key, int max);
  bool IsLocked(const std::string& key);

  TimeSource& time_;
  std::map<std::string, Session> sessions_;  // keyed by token hash
  std::map<std::string, Failures> failures_;
};

}  // namespace wattline::server
