// Sessions: logged-in browsers, kept in memory (a restart logs everyone out), with an idle
// and an absolute timeout; and a login throttle per user name.
// Thread-safety: not thread-safe; used from the server's I/O thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "core/status.h"
#include "core/time.h"

namespace wattline::server {

struct Session {
  int64_t user_id = 0;
  int64_t tenant_id = 0;
  std::string tenant_name;
  std::string username;
  std::string role;
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

  // Login throttle: after kMaxFailures failures within kFailureWindow a user name is locked
  // for kLockout. LoginAllowed answers kResourceExhausted while locked.
  static constexpr int kMaxFailures = 5;
  static constexpr std::chrono::minutes kFailureWindow{5};
  static constexpr std::chrono::minutes kLockout{5};
  Status LoginAllowed(const std::string& username);
  void LoginFailed(const std::string& username);
  void LoginSucceeded(const std::string& username);

 private:
  struct Failures {
    int count = 0;
    MonotonicTime first;
    MonotonicTime locked_until;
  };
  TimeSource& time_;
  std::map<std::string, Session> sessions_;  // keyed by token hash
  std::map<std::string, Failures> failures_;
};

}  // namespace wattline::server
