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

TEST(SessionStoreTest, FindsSessionByTokenAndForgetsAfterRemove) {
  FakeTime t;
  SessionStore store(t);
  std::string token = store.Create(Session{1, 2, "default", "admin", "administrator", {}, {}});
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
    EXPECT_TRUE(store.LoginAllowed("bob").ok());
    store.LoginFailed("bob");
  }
  EXPECT_EQ(store.LoginAllowed("bob").code(), Code::kResourceExhausted);
  EXPECT_TRUE(store.LoginAllowed("alice").ok());
  t.Advance(std::chrono::minutes(6));
  EXPECT_TRUE(store.LoginAllowed("bob").ok());
}

}  // namespace
}  // namespace wattline::server
