#include "server/claims.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "server/password.h"
#include "server/test_dir.h"

namespace wattline::server {
namespace {
using nlohmann::json;

class FakeTime : public TimeSource {
 public:
  SystemTime SystemNow() override { return SystemTime(std::chrono::hours(24 * 20000)) + offset; }
  MonotonicTime MonotonicNow() override { return MonotonicTime() + offset; }
  std::chrono::milliseconds offset{0};
};

constexpr char kUuid[] = "0f8fad5b-d9cb-469f-a165-70867728950e";
constexpr char kSecret[] = "the-connectors-secret-0123456789abcdef";

class ClaimsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTestDir("wl-claims");
    auto c = Catalog::Open((dir_ / "config.db").string());
    ASSERT_TRUE(c) << c.error().ToString();
    catalog_ = std::move(*c);
    tenant_a_ = *catalog_->EnsureTenant("a");
    tenant_b_ = *catalog_->EnsureTenant("b");
    site_a_ = *catalog_->EnsureSite(tenant_a_, "Plant A");
    site_b_ = *catalog_->EnsureSite(tenant_b_, "Plant B");
    MakeClaims(ClaimsOptions{});
  }
  void TearDown() override {
    claims_.reset();
    catalog_.reset();
    std::filesystem::remove_all(dir_);
  }

  void MakeClaims(ClaimsOptions options) {
    // Sessions are named by a test header: "admin-a", "viewer-a", "admin-b"; no header = none.
    auto auth = [this](const http::Request& r, Role min_role, Access) -> Result<Session> {
      std::string who = r.Header("X-Test-User");
      if (who.empty()) return Fail(Unauthenticated("not logged in"));
      Session s;
      s.user_id = who == "admin-a" ? 1 : who == "viewer-a" ? 2 : 3;
      s.username = who;
      s.role = who.rfind("admin", 0) == 0 ? "administrator" : "viewer";
      s.tenant_id = who.back() == 'a' ? tenant_a_ : tenant_b_;
      s.tenant_name = who.back() == 'a' ? "a" : "b";
      if (RoleOf(s.role) < min_role) return Fail(PermissionDenied("role"));
      return s;
    };
    claims_ = std::make_unique<Claims>(*catalog_, auth, time_, "AB:CD", options);
  }

  static http::Request Req(boost::beast::http::verb verb, const json& body,
                           const std::string& remote = "127.0.0.1:40000") {
    http::Request r;
    r.raw.method(verb);
    r.raw.body() = body.is_null() ? "" : body.dump();
    r.remote = remote;
    return r;
  }

  http::Response Announce(const std::string& code, const std::string& secret = kSecret,
                          const std::string& uuid = kUuid,
                          const std::string& remote = "127.0.0.1:40000") {
    auto r = Req(boost::beast::http::verb::post,
                 {{"uuid", uuid},
                  {"code", code},
                  {"secret_hash", TokenHash(secret)},
                  {"name", "edge-x"},
                  {"version", "0.1.0"}},
                 remote);
    return claims_->Announce(r);
  }
  http::Response Poll(const std::string& secret = kSecret, const std::string& uuid = kUuid) {
    auto r = Req(boost::beast::http::verb::get, nullptr);
    r.path_params["uuid"] = uuid;
    if (!secret.empty()) r.raw.set("X-Claim-Secret", secret);
    return claims_->Poll(r);
  }
  http::Response Claim(const std::string& user, const json& body) {
    auto r = Req(boost::beast::http::verb::post, body);
    if (!user.empty()) r.raw.set("X-Test-User", user);
    return claims_->Claim(r);
  }
  http::Response List(const std::string& user) {
    auto r = Req(boost::beast::http::verb::get, nullptr);
    r.raw.set("X-Test-User", user);
    return claims_->List(r);
  }
  static json Body(const http::Response& r) { return json::parse(r.body); }

  std::filesystem::path dir_;
  std::unique_ptr<Catalog> catalog_;
  FakeTime time_;
  std::unique_ptr<Claims> claims_;
  int64_t tenant_a_ = 0, tenant_b_ = 0, site_a_ = 0, site_b_ = 0;
};

TEST(ClaimCodeTest, NormalizesSeparatorsAndCase) {
  EXPECT_EQ(NormalizeClaimCode("abcd-efgh"), "ABCDEFGH");
  EXPECT_EQ(NormalizeClaimCode("ABCD EFGH"), "ABCDEFGH");
  EXPECT_EQ(NormalizeClaimCode("ABCD-EFG"), std::nullopt);     // too short
  EXPECT_EQ(NormalizeClaimCode("ABCD-EFGO"), std::nullopt);    // O is not in the alphabet
  EXPECT_EQ(NormalizeClaimCode("ABCD-EFGH-2"), std::nullopt);  // too long
  EXPECT_EQ(NormalizeClaimCode("ABCD\xC3\x84"
                               "EFG"),
            std::nullopt);  // non-ASCII
}

TEST(RateLimiterTest, AllowsBurstThenRefills) {
  FakeTime t;
  RateLimiter limit(t, 3, std::chrono::seconds(1));
  EXPECT_TRUE(limit.Allow("x"));
  EXPECT_TRUE(limit.Allow("x"));
  EXPECT_TRUE(limit.Allow("x"));
  EXPECT_FALSE(limit.Allow("x"));
  EXPECT_TRUE(limit.Allow("y"));  // per key
  t.offset += std::chrono::milliseconds(1100);
  EXPECT_TRUE(limit.WouldAllow("x"));
  EXPECT_TRUE(limit.Allow("x"));
  EXPECT_FALSE(limit.Allow("x"));
}

TEST_F(ClaimsTest, ClaimDeliversCredentialOnlyToTheSecretsHolder) {
  ASSERT_EQ(Announce("ABCD-EFGH").status, 200);
  auto pending = Poll();
  ASSERT_EQ(pending.status, 200) << pending.body;
  EXPECT_EQ(Body(pending)["status"], "pending");

  auto claimed = Claim("admin-a", {{"code", "abcd efgh"}, {"name", "edge-7"}});
  ASSERT_EQ(claimed.status, 201) << claimed.body;
  EXPECT_EQ(Body(claimed)["name"], "edge-7");
  EXPECT_EQ(Body(claimed)["site"]["id"], site_a_);
  EXPECT_EQ(Body(claimed)["server_fingerprint"], "AB:CD");
  EXPECT_FALSE(Body(claimed).contains("token"));

  auto wrong = Poll("not-the-secret");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(wrong.body.find("token"), std::string::npos);
  EXPECT_EQ(Poll("").status, 401);

  auto got = Poll();
  ASSERT_EQ(got.status, 200) << got.body;
  json body = Body(got);
  ASSERT_EQ(body["status"], "claimed");
  EXPECT_EQ(body["name"], "edge-7");
  const std::string token = body["token"];
  auto c = catalog_->FindConnectorByTokenHash(TokenHash(token));
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->tenant_id, tenant_a_);
  EXPECT_EQ(c->name, "edge-7");

  // A second poll (its answer to the first was lost, say) gets a new credential; the old one
  // stops working, so no credential is ever valid in two hands.
  auto again = Poll();
  ASSERT_EQ(again.status, 200);
  const std::string token2 = Body(again)["token"];
  EXPECT_NE(token2, token);
  EXPECT_FALSE(catalog_->FindConnectorByTokenHash(TokenHash(token)));
  EXPECT_TRUE(catalog_->FindConnectorByTokenHash(TokenHash(token2)));
  EXPECT_EQ(Poll("not-the-secret").status, 403);
  EXPECT_TRUE(catalog_->FindConnectorByTokenHash(TokenHash(token2)));

  auto list = List("viewer-a");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(Body(list).size(), 1u);
  EXPECT_EQ(Body(list)[0]["name"], "edge-7");
  EXPECT_EQ(Body(list)[0]["uuid"], kUuid);
  EXPECT_EQ(Body(List("admin-b")).size(), 0u);
}

TEST_F(ClaimsTest, WrongCodeIsNotFound) {
  ASSERT_EQ(Announce("ABCD-EFGH").status, 200);
  EXPECT_EQ(Claim("admin-a", {{"code", "ABCD-EFGJ"}, {"name", "edge-7"}}).status, 404);
  EXPECT_EQ(Claim("admin-a", {{"code", "nonsense"}, {"name", "edge-7"}}).status, 404);
  EXPECT_EQ(Claim("admin-a", {{"name", "edge-7"}}).status, 400);
  EXPECT_EQ(Body(Poll())["status"], "pending");
}

TEST_F(ClaimsTest, RepeatedWrongCodesAreRateLimited) {
  ClaimsOptions o;
  o.claim_failures = 2;
  MakeClaims(o);
  ASSERT_EQ(Announce("ABCD-EFGH").status, 200);
  EXPECT_EQ(Claim("admin-a", {{"code", "ABCD-EFGJ"}}).status, 404);
  EXPECT_EQ(Claim("admin-a", {{"code", "ABCD-EFGK"}}).status, 404);
  // Even the right code is refused while locked out.
  EXPECT_EQ(Claim("admin-a", {{"code", "ABCD-EFGH"}}).status, 429);
  time_.offset += o.claim_failure_refill;
  EXPECT_EQ(Claim("admin-a", {{"code", "ABCD-EFGH"}}).status, 201);
}

TEST_F(ClaimsTest, OnlyAdministratorsClaim) {
  ASSERT_EQ(Announce("ABCD-EFGH").status, 200);
  EXPECT_EQ(Claim("", {{"code", "ABCD-EFGH"}, {"name", "edge-7"}}).status, 401);
  EXPECT_EQ(Claim("viewer-a", {{"code", "ABCD-EFGH"}, {"name", "edge-7"}}).status, 403);
  EXPECT_EQ(Body(Poll())["status"], "pending");
}

TEST_F(ClaimsTest, AnotherTenantsSiteIsNotFound) {
  ASSERT_EQ(Announce("ABCD-EFGH").status, 200);
  EXPECT_EQ(
      Claim("admin-a", {{"code", "ABCD-EFGH"}, {"name", "edge-7"}, {"site_id", site_b_}}).status,
      404);
  EXPECT_EQ(Body(Poll())["status"], "pending");
  auto ok = Claim("admin-b", {{"code", "ABCD-EFGH"}, {"name", "edge-7"}, {"site_id", site_b_}});
  ASSERT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(Body(ok)["tenant"]["id"], tenant_b_);
}

TEST_F(ClaimsTest, TakenNameIsRefusedAndTheClaimStaysPending) {
  ASSERT_TRUE(catalog_->UpsertConnector(tenant_b_, site_b_, "edge-7", "some-hash").ok());
  ASSERT_EQ(Announce("ABCD-EFGH").status, 200);
  EXPECT_EQ(Claim("admin-a", {{"code", "ABCD-EFGH"}, {"name", "edge-7"}}).status, 409);
  EXPECT_EQ(Claim("admin-a", {{"code", "ABCD-EFGH"}, {"name", "bad/name"}}).status, 400);
  EXPECT_EQ(Claim("admin-a", {{"code", "ABCD-EFGH"}, {"name", 7}}).status, 400);
  EXPECT_EQ(Claim("admin-a", {{"code", "ABCD-EFGH"}, {"site_id", "1"}}).status, 400);
  EXPECT_EQ(Body(Poll())["status"], "pending");
  auto ok = Claim("admin-a", {{"code", "ABCD-EFGH"}});  // the connector's own name
  ASSERT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(Body(ok)["name"], "edge-x");
}

TEST_F(ClaimsTest, PendingClaimExpiresUnlessAnnouncedAgain) {
  ClaimsOptions o;
  o.ttl = std::chrono::minutes(10);
  MakeClaims(o);
  ASSERT_EQ(Announce("ABCD-EFGH").status, 200);
  time_.offset += std::chrono::minutes(9);
  ASSERT_EQ(Announce("ABCD-EFGH").status, 200);  // refreshes the expiry
  time_.offset += std::chrono::minutes(9);
  EXPECT_EQ(Body(Poll())["status"], "pending");
  time_.offset += std::chrono::minutes(2);
  EXPECT_EQ(Poll().status, 404);
  EXPECT_EQ(Claim("admin-a", {{"code", "ABCD-EFGH"}, {"name", "edge-7"}}).status, 404);
  // Announced again (a restarted server, or the connector's periodic announcement): claimable.
  ASSERT_EQ(Announce("ABCD-EFGH").status, 200);
  EXPECT_EQ(Claim("admin-a", {{"code", "ABCD-EFGH"}, {"name", "edge-7"}}).status, 201);
}

TEST_F(ClaimsTest, AnnouncementsAreRateLimitedPerAddress) {
  ClaimsOptions o;
  o.announce_burst = 3;
  MakeClaims(o);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Announce("ABCD-EFGH").status, 200);
  EXPECT_EQ(Announce("ABCD-EFGH").status, 429);
  EXPECT_EQ(Announce("ABCD-EFGH", kSecret, kUuid, "127.0.0.2:1234").status, 200);
  time_.offset += o.announce_refill;
  EXPECT_EQ(Announce("ABCD-EFGH").status, 200);
}

TEST_F(ClaimsTest, PollsAreRateLimitedPerAddress) {
  ClaimsOptions o;
  o.poll_burst = 2;
  MakeClaims(o);
  ASSERT_EQ(Announce("ABCD-EFGH").status, 200);
  EXPECT_EQ(Poll().status, 200);
  EXPECT_EQ(Poll().status, 200);
  EXPECT_EQ(Poll().status, 429);
}

TEST_F(ClaimsTest, AnotherSecretCannotTakeOverAConnectorIdOrCode) {
  ASSERT_EQ(Announce("ABCD-EFGH").status, 200);
  EXPECT_EQ(Announce("ABCD-EFGH", "an-attackers-secret").status, 409);
  EXPECT_EQ(Announce("ABCD-EFGH", kSecret, "11111111-2222-4333-8444-555555555555").status, 409);
  ASSERT_EQ(Claim("admin-a", {{"code", "ABCD-EFGH"}, {"name", "edge-7"}}).status, 201);
  EXPECT_EQ(Body(Poll())["status"], "claimed");
}

TEST_F(ClaimsTest, MalformedAnnouncementsAreRejected) {
  auto bad = [&](const json& body) {
    auto r = Req(boost::beast::http::verb::post, body);
    return claims_->Announce(r).status;
  };
  json good = {{"uuid", kUuid},
               {"code", "ABCD-EFGH"},
               {"secret_hash", TokenHash(kSecret)},
               {"name", "edge-x"},
               {"version", "1"}};
  for (const char* field : {"uuid", "code", "secret_hash"}) {
    json b = good;
    b[field] = "x";
    EXPECT_EQ(bad(b), 400) << field;
    b[field] = 7;
    EXPECT_EQ(bad(b), 400) << field;
  }
  json b = good;
  b["name"] = std::string(65, 'n');
  EXPECT_EQ(bad(b), 400);
  EXPECT_EQ(bad(json::array()), 400);
  http::Request r = Req(boost::beast::http::verb::post, nullptr);
  r.raw.body() = "{not json";
  EXPECT_EQ(claims_->Announce(r).status, 400);
  EXPECT_EQ(bad(good), 200);
}

}  // namespace
}  // namespace wattline::server
