#include "server/password.h"

#include <gtest/gtest.h>

namespace wattline::server {
namespace {

TEST(PasswordTest, HashIsArgon2idAndVerifies) {
  auto hash = HashPassword("correct horse battery staple");
  ASSERT_TRUE(hash);
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_TRUE(VerifyPassword("correct horse battery staple", *hash));
  EXPECT_FALSE(VerifyPassword("correct horse battery stapler", *hash));
}

TEST(PasswordTest, SamePasswordGetsDifferentSalts) {
  auto a = HashPassword("secret");
  auto b = HashPassword("secret");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
}

TEST(PasswordTest, GarbageHashNeverVerifies) {
  EXPECT_FALSE(VerifyPassword("x", ""));
  EXPECT_FALSE(VerifyPassword("x", "$argon2id$v=19$garbage"));
  EXPECT_FALSE(VerifyPassword("x", std::string(500, 'a')));
}

TEST(PasswordTest, GeneratedPasswordsAreLongAndDistinct) {
  std::string a = GeneratePassword(), b = GeneratePassword();
  EXPECT_EQ(a.size(), 16u);
  EXPECT_NE(a, b);
  EXPECT_EQ(RandomHex(32).size(), 64u);
}

}  // namespace
}  // namespace wattline::server
