#include "edge/claiming.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "http/tls.h"

namespace wattline::edge {
namespace {
namespace fs = std::filesystem;

// `text` has the shape of `pattern`: 'X' any upper-case hex digit, 'x' any lower-case one,
// 'C' any claim code character; every other pattern character stands for itself.
bool Matches(const std::string& text, const std::string& pattern) {
  if (text.size() != pattern.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const std::string_view upper = "0123456789ABCDEF", lower = "0123456789abcdef",
                           code = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    bool ok = pattern[i] == 'X'   ? upper.find(c) != upper.npos
              : pattern[i] == 'x' ? lower.find(c) != lower.npos
              : pattern[i] == 'C' ? code.find(c) != code.npos
                                  : c == pattern[i];
    if (!ok) return false;
  }
  return true;
}

class IdentityStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("wl-identity-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string File(const std::string& name) const { return (dir_ / name).string(); }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(File(name), std::ios::trunc) << text;
  }
  std::string Read(const std::string& name) const {
    std::ifstream f(File(name));
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  ConnectorIdentity Claimed(IdentityStore& store) {
    auto id = store.LoadOrCreate();
    EXPECT_TRUE(id) << id.error().ToString();
    id->server_fingerprint = std::string(95, 'A');
    for (size_t i = 2; i < 95; i += 3) id->server_fingerprint[i] = ':';
    id->name = "edge-7";
    id->token = "a-credential-from-the-server-0123456789";
    id->claimed_at_ms = 1763766000000;
    EXPECT_TRUE(store.Save(*id).ok());
    return *id;
  }

  fs::path dir_;
};

TEST(ClaimCodeTest, HasEightCharactersFromTheUnambiguousAlphabet) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto code = GenerateClaimCode();
    ASSERT_TRUE(code) << code.error().ToString();
    EXPECT_TRUE(Matches(*code, "CCCC-CCCC")) << *code;
    seen.insert(*code);
  }
  EXPECT_GT(seen.size(), 195u);  // 2^40 codes: repeats in 200 would mean a broken generator
}

TEST(ClaimCodeTest, NewIdentitiesAreRandomVersion4Uuids) {
  auto a = NewIdentity();
  auto b = NewIdentity();
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(Matches(a->uuid, "xxxxxxxx-xxxx-4xxx-xxxx-xxxxxxxxxxxx")) << a->uuid;
  EXPECT_NE(std::string_view("89ab").find(a->uuid[19]), std::string_view::npos) << a->uuid;
  EXPECT_NE(a->uuid, b->uuid);
  EXPECT_EQ(a->secret.size(), 64u);
  EXPECT_NE(a->secret, b->secret);
  EXPECT_FALSE(a->claimed());
}

TEST_F(IdentityStoreTest, CreatesTheFileWithMode0600AndReusesIt) {
  IdentityStore store(dir_.string());
  auto first = store.LoadOrCreate();
  ASSERT_TRUE(first) << first.error().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(store.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(fs::exists(File("identity.claimed")));

  IdentityStore again(dir_.string());  // a restart
  auto second = again.LoadOrCreate();
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(second->uuid, first->uuid);
  EXPECT_EQ(second->secret, first->secret);
  EXPECT_EQ(second->claim_code, first->claim_code);
}

TEST_F(IdentityStoreTest, KeepsTheCredentialAcrossRestarts) {
  IdentityStore store(dir_.string());
  ConnectorIdentity claimed = Claimed(store);
  EXPECT_TRUE(fs::exists(File("identity.claimed")));
  EXPECT_EQ(Read("identity.claimed").find(claimed.token), std::string::npos);  // no secrets
  auto loaded = IdentityStore(dir_.string()).LoadOrCreate();
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_TRUE(loaded->claimed());
  EXPECT_EQ(loaded->token, claimed.token);
  EXPECT_EQ(loaded->name, "edge-7");
  EXPECT_EQ(loaded->server_fingerprint, claimed.server_fingerprint);
}

TEST_F(IdentityStoreTest, TightensLoosePermissions) {
  IdentityStore store(dir_.string());
  ASSERT_TRUE(store.LoadOrCreate());
  ASSERT_EQ(::chmod(store.path().c_str(), 0644), 0);
  ASSERT_TRUE(store.LoadOrCreate());
  struct stat st {};
  ASSERT_EQ(::stat(store.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(IdentityStoreTest, DamagedUnclaimedIdentityIsReplacedByAFreshOne) {
  IdentityStore store(dir_.string());
  auto first = store.LoadOrCreate();
  ASSERT_TRUE(first);
  Write("identity.json", "{\"version\": 1, \"uuid\": \"trunc");
  auto second = store.LoadOrCreate();
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_NE(second->uuid, first->uuid);
  EXPECT_FALSE(second->claimed());
  EXPECT_TRUE(fs::exists(File("identity.json.damaged")));  // kept for inspection
}

TEST_F(IdentityStoreTest, DamagedFieldsCountAsDamage) {
  IdentityStore store(dir_.string());
  auto first = store.LoadOrCreate();
  ASSERT_TRUE(first);
  std::string text = Read("identity.json");
  text.replace(text.find(first->claim_code), first->claim_code.size(), "OOOO-IIII");
  Write("identity.json", text);
  auto second = store.LoadOrCreate();
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_NE(second->uuid, first->uuid);
}

TEST_F(IdentityStoreTest, DamagedClaimedIdentityIsRefused) {
  IdentityStore store(dir_.string());
  Claimed(store);
  Write("identity.json", "garbage");
  auto loaded = store.LoadOrCreate();
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), Code::kDataLoss);
  EXPECT_NE(loaded.error().message().find("claimed"), std::string::npos);
  EXPECT_EQ(Read("identity.json"), "garbage");  // nothing was replaced
  EXPECT_FALSE(fs::exists(File("identity.json.damaged")));
}

TEST_F(IdentityStoreTest, MissingIdentityOfAClaimedConnectorIsRefused) {
  IdentityStore store(dir_.string());
  Claimed(store);
  fs::remove(File("identity.json"));
  auto loaded = store.LoadOrCreate();
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), Code::kDataLoss);
  EXPECT_FALSE(fs::exists(File("identity.json")));
}

TEST(FingerprintTest, PinnedContextRejectsMalformedFingerprints) {
  EXPECT_FALSE(http::MakeFingerprintPinnedClientContext("AB:CD"));
  std::string fp(95, 'a');
  for (size_t i = 2; i < 95; i += 3) fp[i] = ':';
  EXPECT_TRUE(http::MakeFingerprintPinnedClientContext(fp));
  fp[0] = 'x';
  EXPECT_FALSE(http::MakeFingerprintPinnedClientContext(fp));
}

TEST(FingerprintTest, MatchesOpenSslsFormat) {
  const fs::path dir = fs::temp_directory_path() / ("wl-fp-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string cert = (dir / "c.crt").string(), key = (dir / "c.key").string();
  ASSERT_TRUE(http::EnsureSelfSignedCertificate(cert, key, {"127.0.0.1"}).ok());
  auto fp = http::CertificateFingerprintFromFile(cert);
  ASSERT_TRUE(fp) << fp.error().ToString();
  std::string pattern = "XX";
  for (int i = 0; i < 31; ++i) pattern += ":XX";
  EXPECT_TRUE(Matches(*fp, pattern)) << *fp;
  EXPECT_EQ(http::CertificateFingerprintFromFile(cert).value_or(""), *fp);
  EXPECT_FALSE(http::CertificateFingerprintFromFile(key));  // a key is not a certificate
  fs::remove_all(dir);
}

}  // namespace
}  // namespace wattline::edge
