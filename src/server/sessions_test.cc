#include "server/sessions.h"

#include <gtest/gtest.h>

namespace wattline::server {
namespace {

class FakeTime : public TimeSource {
 public:
  SystemTime SystemNow() override { return SystemTime(mono_.time_since_epoch()); }
  MonotonicTime MonotonicNow() override { return mono_; }
  void Advance(std::chrono::seconds s) { mono_ += s; }

 private:
  MonotonicTime mono_{std::chrono::hours(1000)};
};

Session SessionOf(int64_t user_id, std::string username, int64_t tenant_id = 1) {
  Session s;
  s.user_id = user_id;
  s.username = std::move(username);
  s.tenant_id = tenant_id;
  s.role = "administrator";
  return s;
}

TEST(SessionStoreTest, FindsSessionByTokenAndForgetsAfterRemove) {
  FakeTime t;
  SessionStore store(t);
  std::string token = store.Create(SessionOf(1, "admin", 2));
  auto s = store.Find(token);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->tenant_id, 2);
  EXPECT_FALSE(store.Find("wrong"));
  store.Remove(token);
  EXPECT_EQ(store.Find(token).error().code(), Code::kUnauthenticated);
}

TEST(SessionStoreTest, IdleSessionExpires) {
  FakeTime t;
  SessionStore store(t);
  std::string token = store.Create(Session{});
  t.Advance(std::chrono::minutes(59));
  EXPECT_TRUE(store.Find(token));
  t.Advance(std::chrono::minutes(61));
  EXPECT_FALSE(store.Find(token));
}

TEST(SessionStoreTest, AbsoluteTimeoutEndsBusySession) {
  FakeTime t;
  SessionStore store(t);
  std::string token = store.Create(Session{});
  for (int i = 0; i < 13; ++i) {
    t.Advance(std::chrono::minutes(59));
    (void)store.Find(token);
  }
  EXPECT_FALSE(store.Find(token));
}

TEST(SessionStoreTest, RepeatedFailuresLockTheUserForAWhile) {
  FakeTime t;
  SessionStore store(t);
  for (int i = 0; i < SessionStore::kMaxFailures; ++i) {
    EXPECT_TRUE(store.LoginAllowed("bob", "10.0.0.1").ok());
    EXPECT_EQ(store.LoginFailed("bob", "10.0.0.1"), i + 1 == SessionStore::kMaxFailures);
  }
  EXPECT_EQ(store.LoginAllowed("bob", "10.0.0.2").code(), Code::kResourceExhausted);
  EXPECT_TRUE(store.Locked("bob"));
  EXPECT_TRUE(store.LoginAllowed("alice", "10.0.0.1").ok());
  t.Advance(std::chrono::minutes(6));
  EXPECT_TRUE(store.LoginAllowed("bob", "10.0.0.1").ok());
}

TEST(SessionStoreTest, ManyFailuresFromOneAddressLockTheAddressForEveryName) {
  FakeTime t;
  SessionStore store(t);
  for (int i = 0; i < SessionStore::kMaxAddressFailures; ++i) {
    const std::string name = "user" + std::to_string(i);
    EXPECT_TRUE(store.LoginAllowed(name, "10.0.0.9").ok());
    store.LoginFailed(name, "10.0.0.9");
  }
  EXPECT_EQ(store.LoginAllowed("somebody", "10.0.0.9").code(), Code::kResourceExhausted);
  EXPECT_TRUE(store.LoginAllowed("somebody", "10.0.0.10").ok());
}

TEST(SessionStoreTest, ModifyAndRemoveUserChangeOnlyTheirSessions) {
  FakeTime t;
  SessionStore store(t);
  const std::string a1 = store.Create(SessionOf(1, "a"));
  const std::string a2 = store.Create(SessionOf(1, "a"));
  const std::string b = store.Create(SessionOf(2, "b"));
  ASSERT_TRUE(store.Modify(a1, [](Session& s) { s.must_change_password = true; }).ok());
  EXPECT_TRUE(store.Find(a1)->must_change_password);
  EXPECT_FALSE(store.Find(a2)->must_change_password);
  store.RemoveUser(1, a1);
  EXPECT_TRUE(store.Find(a1));
  EXPECT_FALSE(store.Find(a2));
  EXPECT_TRUE(store.Find(b));
  EXPECT_EQ(store.Modify(a2, [](Session&) {}).code(), Code::kUnauthenticated);
}

}  // namespace
}  // namespace wattline::server
