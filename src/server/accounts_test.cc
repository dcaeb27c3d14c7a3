// Accounts: the store, the password policy, TOTP against Debian's oathtool, and the account
// endpoints driven through the router as the web app drives them (login with two-factor codes,
// the forced steps, lockout, user management across tenants, the audit log).
#include "server/accounts.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "server/accounts_api.h"
#include "server/password.h"
#include "server/test_dir.h"
#include "server/totp.h"

namespace wattline::server {
namespace {
namespace bhttp = boost::beast::http;
using nlohmann::json;

class FakeTime : public TimeSource {
 public:
  SystemTime SystemNow() override { return SystemTime(std::chrono::seconds(1796000000)) + offset; }
  MonotonicTime MonotonicNow() override { return MonotonicTime() + offset; }
  std::chrono::milliseconds offset{0};
};

// Runs a command and returns its standard output without the trailing newline; nullopt when
// it failed.
std::optional<std::string> Output(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return std::nullopt;
  std::string out;
  char buf[256];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  if (::pclose(p) != 0) return std::nullopt;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

bool HaveOathtool() { return Output("command -v oathtool").has_value(); }

TEST(TotpTest, CodesOfOathtoolAreAcceptedOnceAndOthersRefused) {
  if (!HaveOathtool()) GTEST_SKIP() << "oathtool (Debian package oathtool) is not installed";
  const std::string secret = NewTotpSecret();
  EXPECT_EQ(secret.size(), 32u);  // 160 bits in base32
  // A fixed moment, so that oathtool and the check see the same 30 s step.
  const int64_t t = 1796000000;
  auto code = Output("oathtool --totp -b --now '@" + std::to_string(t) + "' " + secret);
  ASSERT_TRUE(code);
  ASSERT_EQ(code->size(), 6u);
  auto step = VerifyTotp(secret, *code, t, 0);
  ASSERT_TRUE(step) << step.error().ToString();
  EXPECT_EQ(*step, t / 30);
  EXPECT_EQ(*TotpCode(secret, t), *code);
  // Once only.
  auto again = VerifyTotp(secret, *code, t, *step);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Code::kUnauthenticated);
  EXPECT_EQ(again.error().reason(), "totp_invalid");
  // One step late still works (clock drift); three steps late no longer.
  EXPECT_TRUE(VerifyTotp(secret, *code, t + 30, 0));
  EXPECT_FALSE(VerifyTotp(secret, *code, t + 90, 0));
  // A changed digit, letters and the wrong length are refused.
  std::string wrong = *code;
  wrong[5] = wrong[5] == '9' ? '0' : static_cast<char>(wrong[5] + 1);
  EXPECT_FALSE(VerifyTotp(secret, wrong, t, 0));
  EXPECT_FALSE(VerifyTotp(secret, "12a456", t, 0));
  EXPECT_FALSE(VerifyTotp(secret, "1234567", t, 0));
  EXPECT_EQ(VerifyTotp("not base32!", "123456", t, 0).error().code(), Code::kInvalidArgument);
}

TEST(TotpTest, EnrolmentUriAndQrCode) {
  const std::string uri = TotpUri("Wattline", "anna@acme", "JBSWY3DPEHPK3PXP");
  EXPECT_EQ(uri,
            "otpauth://totp/Wattline:anna%40acme?secret=JBSWY3DPEHPK3PXP&issuer=Wattline"
            "&algorithm=SHA1&digits=6&period=30");
  auto svg = QrSvg(uri);
  ASSERT_TRUE(svg);
  EXPECT_EQ(svg->rfind("<svg ", 0), 0u);
  EXPECT_NE(svg->find("h1v1h-1z"), std::string::npos);  // dark modules
  EXPECT_EQ(QrSvg(std::string(8000, 'x')).error().code(), Code::kInvalidArgument);
}

TEST(PasswordPolicyTest, ListsEveryBrokenRule) {
  PasswordPolicy p;  // 12 characters, 3 classes
  EXPECT_TRUE(CheckPasswordPolicy(p, "Correct-Horse-7", "anna").ok());
  Status s = CheckPasswordPolicy(p, "short", "anna");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("at least 12 characters"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("3 kinds"), std::string::npos) << s.message();
  EXPECT_FALSE(CheckPasswordPolicy(p, "anna-Was-Here-1", "anna").ok());
  // Umlauts count as characters, not bytes: 11 characters are too few.
  EXPECT_FALSE(CheckPasswordPolicy(p, "Äöüäöüäöü-1", "x").ok());
  p.min_length = 8;
  p.min_classes = 1;
  EXPECT_TRUE(CheckPasswordPolicy(p, "abcdefgh", "x").ok());
}

TEST(PasswordPolicyTest, SettingsAreValidated) {
  auto ok = ParseSecurity(json::parse(
      R"({"password": {"min_length": 14, "history": 3}, "totp_required_roles": ["engineer", "engineer", "system"]})"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->password.min_length, 14);
  EXPECT_EQ(ok->password.min_classes, 3);
  EXPECT_EQ(ok->totp_required_roles, (std::vector<std::string>{"engineer", "system"}));
  EXPECT_FALSE(ParseSecurity(json::parse(R"({"password": {"min_length": 4}})")));
  EXPECT_FALSE(ParseSecurity(json::parse(R"({"password": {"history": "3"}})")));
  EXPECT_FALSE(ParseSecurity(json::parse(R"({"password": {}, "totp_required_roles": ["boss"]})")));
  EXPECT_FALSE(ParseSecurity(json::parse(R"([1, 2])")));
}

// The account endpoints through a router, with their real store on a temporary config.db.
class AccountsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTestDir("wl-accounts");
    auto c = Catalog::Open((dir_ / "config.db").string());
    ASSERT_TRUE(c) << c.error().ToString();
    catalog_ = std::move(*c);
    accounts_ = std::make_unique<Accounts>(catalog_->db());
    tenant_a_ = *catalog_->EnsureTenant("a");
    tenant_b_ = *catalog_->EnsureTenant("b");
    sessions_ = std::make_unique<SessionStore>(time_);
    guard_ = std::make_unique<Guard>(*sessions_);
    audit_ = std::make_unique<AuditTrail>(*accounts_, time_);
    api_ = std::make_unique<AccountsApi>(*catalog_, *accounts_, *guard_, *audit_, time_);
    api_->Register(router_);
    ASSERT_TRUE(
        accounts_->Create(tenant_a_, "root", *HashPassword(kRootPassword), "system", false, 0));
    ASSERT_TRUE(accounts_->Create(tenant_b_, "boss-b", *HashPassword(kRootPassword),
                                  "administrator", false, 0));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  struct Answer {
    unsigned status = 0;
    json body;
    std::string cookie;  // the session token set, if any
  };

  Answer Call(bhttp::verb method, const std::string& target, const json& body = nullptr,
              const std::string& cookie = "") {
    http::Request req;
    req.raw.method(method);
    req.raw.target(target);
    const size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) {
      std::string rest = target.substr(q + 1);
      const size_t eq = rest.find('=');
      req.query[rest.substr(0, eq)] = rest.substr(eq + 1);
    }
    if (!body.is_null()) req.raw.body() = body.dump();
    if (!cookie.empty())
      req.raw.set(bhttp::field::cookie, std::string(kSessionCookie) + "=" + cookie);
    req.raw.set("X-Requested-With", "wattline");
    req.remote = "127.0.0.1:5000";
    bool mismatch = false;
    const http::RouteHandler* h = router_.Match(req, &mismatch);
    EXPECT_TRUE(h && h->handler) << target;
    if (!h || !h->handler) return {};
    http::Response r = h->handler(req);
    Answer a;
    a.status = r.status;
    if (!r.body.empty()) a.body = json::parse(r.body);
    for (const auto& [k, v] : r.headers) {
      if (k == "Set-Cookie" && v.rfind(std::string(kSessionCookie) + "=", 0) == 0) {
        a.cookie = v.substr(std::strlen(kSessionCookie) + 1,
                            v.find(';') - std::strlen(kSessionCookie) - 1);
      }
    }
    return a;
  }
  Answer Login(const std::string& user, const std::string& password, const json& extra = {}) {
    json body = {{"username", user}, {"password", password}};
    for (const auto& [k, v] : extra.items()) body[k] = v;
    return Call(bhttp::verb::post, "/api/v1/login", body);
  }
  std::string Code() { return *TotpCode(secret_, ToUnixMs(time_.SystemNow()) / 1000); }
  std::vector<AuditEntry> AuditEntries() {
    auto log = accounts_->AuditLog(std::nullopt, 0, 1000);
    EXPECT_TRUE(log.has_value());
    return log.has_value() ? std::move(*log) : std::vector<AuditEntry>{};
  }
  std::vector<std::string> AuditActions() {
    std::vector<std::string> out;
    for (const auto& e : AuditEntries()) out.push_back(e.action);
    return out;
  }

  static constexpr char kRootPassword[] = "Root-Password-123";
  std::filesystem::path dir_;
  FakeTime time_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<Accounts> accounts_;
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<Guard> guard_;
  std::unique_ptr<AuditTrail> audit_;
  std::unique_ptr<AccountsApi> api_;
  http::Router router_;
  int64_t tenant_a_ = 0, tenant_b_ = 0;
  std::string secret_;
};

TEST_F(AccountsApiTest, ANewEngineerChangesThePasswordEnrolsTwoFactorAndLogsInWithIt) {
  Answer root = Login("root", kRootPassword);
  ASSERT_EQ(root.status, 200u) << root.body;
  EXPECT_TRUE(root.body["system"]);
  // The administrator's initial password must meet the policy.
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/users",
                 {{"username", "erik"}, {"password", "short"}, {"role", "engineer"}}, root.cookie)
                .status,
            400u);
  Answer created = Call(
      bhttp::verb::post, "/api/v1/users",
      {{"username", "erik"}, {"password", "Initial-Pass-42"}, {"role", "engineer"}}, root.cookie);
  ASSERT_EQ(created.status, 201u) << created.body;
  EXPECT_TRUE(created.body["must_change_password"]);

  Answer erik = Login("erik", "Initial-Pass-42");
  ASSERT_EQ(erik.status, 200u);
  EXPECT_TRUE(erik.body["must_change_password"]);
  // Nothing else until the password is changed.
  Answer blocked = Call(bhttp::verb::get, "/api/v1/settings/security", nullptr, erik.cookie);
  EXPECT_EQ(blocked.status, 403u);
  EXPECT_EQ(blocked.body["error"]["reason"], "password_change_required");
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/me/password",
                 {{"current", "Initial-Pass-42"}, {"new", "Initial-Pass-42"}}, erik.cookie)
                .status,
            400u);  // the same password again
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/me/password",
                 {{"current", "wrong"}, {"new", "Brand-New-Pass-7"}}, erik.cookie)
                .status,
            403u);
  ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/me/password",
                 {{"current", "Initial-Pass-42"}, {"new", "Brand-New-Pass-7"}}, erik.cookie)
                .status,
            204u);
  // Now only the role limits: an engineer does not see the security settings.
  Answer role = Call(bhttp::verb::get, "/api/v1/settings/security", nullptr, erik.cookie);
  EXPECT_EQ(role.status, 403u);
  EXPECT_FALSE(role.body["error"].contains("reason"));

  Answer enrol = Call(bhttp::verb::post, "/api/v1/me/totp/enrol", json::object(), erik.cookie);
  ASSERT_EQ(enrol.status, 200u);
  secret_ = enrol.body["secret"];
  EXPECT_EQ(enrol.body["qr_svg"].get<std::string>().rfind("<svg", 0), 0u);
  EXPECT_EQ(
      Call(bhttp::verb::post, "/api/v1/me/totp/confirm", {{"code", "000000x"}}, erik.cookie).status,
      400u);
  Answer confirmed =
      Call(bhttp::verb::post, "/api/v1/me/totp/confirm", {{"code", Code()}}, erik.cookie);
  ASSERT_EQ(confirmed.status, 200u) << confirmed.body;
  const auto recovery = confirmed.body["recovery_codes"].get<std::vector<std::string>>();
  ASSERT_EQ(recovery.size(), 10u);
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/logout", json::object(), erik.cookie).status, 204u);

  Answer need = Login("erik", "Brand-New-Pass-7");
  EXPECT_EQ(need.status, 401u);
  EXPECT_EQ(need.body["error"]["reason"], "totp_required");
  // The code used for the enrolment does not work a second time.
  EXPECT_EQ(Login("erik", "Brand-New-Pass-7", {{"totp", Code()}}).body["error"]["reason"],
            "totp_invalid");
  time_.offset += std::chrono::seconds(30);
  Answer in = Login("erik", "Brand-New-Pass-7", {{"totp", Code()}});
  ASSERT_EQ(in.status, 200u) << in.body;
  EXPECT_TRUE(in.body["totp_enabled"]);
  // A recovery code works once, typed in any case.
  std::string upper = recovery[3];
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_EQ(Login("erik", "Brand-New-Pass-7", {{"recovery_code", upper}}).status, 200u);
  EXPECT_EQ(Login("erik", "Brand-New-Pass-7", {{"recovery_code", recovery[3]}}).status, 401u);

  const auto actions = AuditActions();
  for (const char* a :
       {"user_created", "login", "password_changed", "totp_enabled", "logout", "login_failed"}) {
    EXPECT_NE(std::find(actions.begin(), actions.end(), a), actions.end()) << a;
  }
  // No password hash or secret in the audit log.
  for (const auto& e : AuditEntries()) {
    EXPECT_EQ(e.after.dump().find("argon2"), std::string::npos);
    EXPECT_EQ(e.after.dump().find(secret_), std::string::npos);
  }
}

TEST_F(AccountsApiTest, ARoleThatRequiresTwoFactorLoginMustEnrolFirst) {
  Answer root = Login("root", kRootPassword);
  json security = Call(bhttp::verb::get, "/api/v1/settings/security", nullptr, root.cookie).body;
  security["totp_required_roles"] = {"operator"};
  ASSERT_EQ(Call(bhttp::verb::put, "/api/v1/settings/security", security, root.cookie).status,
            200u);
  ASSERT_TRUE(
      accounts_->Create(tenant_a_, "otto", *HashPassword("Otto-Password-1"), "operator", false, 0));
  Answer otto = Login("otto", "Otto-Password-1");
  ASSERT_EQ(otto.status, 200u);
  EXPECT_TRUE(otto.body["must_enrol_totp"]);
  EXPECT_EQ(Call(bhttp::verb::put, "/api/v1/me/preferences", {{"locale", "de"}}, otto.cookie)
                .body["error"]["reason"],
            "totp_enrolment_required");
  secret_ =
      Call(bhttp::verb::post, "/api/v1/me/totp/enrol", json::object(), otto.cookie).body["secret"];
  ASSERT_EQ(
      Call(bhttp::verb::post, "/api/v1/me/totp/confirm", {{"code", Code()}}, otto.cookie).status,
      200u);
  Answer de = Call(bhttp::verb::put, "/api/v1/me/preferences", {{"locale", "de"}}, otto.cookie);
  ASSERT_EQ(de.status, 200u);
  EXPECT_EQ(de.body["locale"], "de");
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/me/totp/disable", {{"password", "Otto-Password-1"}},
                 otto.cookie)
                .status,
            403u);
  // The settings change is in the audit log with before and after.
  auto log = *accounts_->AuditLog(tenant_a_, 0, 100);
  auto it = std::find_if(log.begin(), log.end(),
                         [](const AuditEntry& e) { return e.action == "settings_changed"; });
  ASSERT_NE(it, log.end());
  EXPECT_EQ(it->before["totp_required_roles"], json::array());
  EXPECT_EQ(it->after["totp_required_roles"], json::array({"operator"}));
  EXPECT_EQ(it->username, "root");
}

TEST_F(AccountsApiTest, RepeatedWrongPasswordsLockTheNameAndAreAudited) {
  for (int i = 0; i < SessionStore::kMaxFailures; ++i) {
    EXPECT_EQ(Login("root", "wrong").status, 401u);
  }
  Answer locked = Login("root", kRootPassword);
  EXPECT_EQ(locked.status, 429u);
  const auto actions = AuditActions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "login_failed"), SessionStore::kMaxFailures);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "login_locked"), 1);
  time_.offset += SessionStore::kLockout + std::chrono::seconds(1);
  EXPECT_EQ(Login("root", kRootPassword).status, 200u);
}

TEST_F(AccountsApiTest, AdministratorsManageOnlyTheirTenantAndNoSystemAdministrators) {
  Answer boss = Login("boss-b", kRootPassword);
  ASSERT_EQ(boss.status, 200u);
  auto root_id = accounts_->FindByName("root")->id;
  // Another tenant's user is not there for them.
  EXPECT_EQ(Call(bhttp::verb::put, "/api/v1/users/" + std::to_string(root_id), {{"role", "viewer"}},
                 boss.cookie)
                .status,
            404u);
  EXPECT_EQ(
      Call(bhttp::verb::delete_, "/api/v1/users/" + std::to_string(root_id), nullptr, boss.cookie)
          .status,
      404u);
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/users",
                 {{"username", "x"},
                  {"password", "Some-Password-9"},
                  {"role", "viewer"},
                  {"tenant_id", tenant_a_}},
                 boss.cookie)
                .status,
            403u);
  EXPECT_EQ(
      Call(bhttp::verb::post, "/api/v1/users",
           {{"username", "x"}, {"password", "Some-Password-9"}, {"role", "system"}}, boss.cookie)
          .status,
      403u);
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/tenants", nullptr, boss.cookie).status, 403u);
  Answer users = Call(bhttp::verb::get, "/api/v1/users", nullptr, boss.cookie);
  ASSERT_EQ(users.status, 200u);
  ASSERT_EQ(users.body.size(), 1u);
  EXPECT_EQ(users.body[0]["username"], "boss-b");
  // Its audit log holds only its tenant's entries.
  for (const auto& e : Call(bhttp::verb::get, "/api/v1/audit", nullptr, boss.cookie).body) {
    EXPECT_EQ(e["tenant_id"], tenant_b_) << e;
  }
  EXPECT_EQ(Call(bhttp::verb::delete_,
                 "/api/v1/users/" + std::to_string(accounts_->FindByName("boss-b")->id), nullptr,
                 boss.cookie)
                .status,
            409u);  // not oneself
}

TEST_F(AccountsApiTest, TheSystemAdministratorCreatesATenantWithAnAdministratorAndActsInIt) {
  Answer root = Login("root", kRootPassword);
  Answer tenant = Call(bhttp::verb::post, "/api/v1/tenants", {{"name", "Acme"}}, root.cookie);
  ASSERT_EQ(tenant.status, 201u);
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/tenants", {{"name", "Acme"}}, root.cookie).status,
            409u);
  const int64_t acme = tenant.body["id"];
  ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/users",
                 {{"username", "ada"},
                  {"password", "Acme-Admin-Pass-1"},
                  {"role", "administrator"},
                  {"tenant_id", acme}},
                 root.cookie)
                .status,
            201u);
  Answer switched =
      Call(bhttp::verb::post, "/api/v1/me/tenant", {{"tenant_id", acme}}, root.cookie);
  ASSERT_EQ(switched.status, 200u);
  EXPECT_EQ(switched.body["tenant"]["name"], "Acme");
  Answer users = Call(bhttp::verb::get, "/api/v1/users", nullptr, root.cookie);
  ASSERT_EQ(users.body.size(), 1u);
  EXPECT_EQ(users.body[0]["username"], "ada");
  // A role change ends the user's sessions.
  Answer ada = Login("ada", "Acme-Admin-Pass-1");
  ASSERT_EQ(ada.status, 200u);
  ASSERT_EQ(
      Call(bhttp::verb::put, "/api/v1/users/" + std::to_string(users.body[0]["id"].get<int64_t>()),
           {{"role", "viewer"}}, root.cookie)
          .status,
      200u);
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/me", nullptr, ada.cookie).status, 401u);
}

TEST(AccountsStoreTest, HistoryKeepsTheLastPasswordsAndRecoveryCodesWorkOnce) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("wl-accounts-store-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto catalog = Catalog::Open((dir / "config.db").string());
  ASSERT_TRUE(catalog);
  Accounts accounts((*catalog)->db());
  const int64_t t = *(*catalog)->EnsureTenant("a");
  auto id = accounts.Create(t, "u", "h0", "viewer", false, 0);
  ASSERT_TRUE(id);
  EXPECT_EQ(accounts.Create(t, "u", "h", "viewer", false, 0).error().code(), Code::kAlreadyExists);
  for (int i = 1; i <= 30; ++i) {
    ASSERT_TRUE(accounts.SetPassword(*id, "h" + std::to_string(i), false, i).ok());
  }
  auto recent = accounts.RecentPasswordHashes(*id, 3);
  EXPECT_EQ(*recent, (std::vector<std::string>{"h30", "h29", "h28"}));
  EXPECT_EQ(accounts.RecentPasswordHashes(*id, 100)->size(), 24u);
  ASSERT_TRUE(accounts.SetTotpPending(*id, "SECRET").ok());
  ASSERT_TRUE(accounts.EnableTotp(*id, {"r1", "r2"}).ok());
  EXPECT_EQ(accounts.Get(*id)->totp_secret, "SECRET");
  EXPECT_TRUE(accounts.Get(*id)->totp_pending.empty());
  EXPECT_TRUE(*accounts.UseRecoveryCode(*id, "r1", 5));
  EXPECT_FALSE(*accounts.UseRecoveryCode(*id, "r1", 6));
  EXPECT_FALSE(*accounts.UseRecoveryCode(*id, "r9", 6));
  ASSERT_TRUE(accounts.DisableTotp(*id).ok());
  EXPECT_FALSE(*accounts.UseRecoveryCode(*id, "r2", 7));
  // Deleting the user removes its history (foreign keys on).
  ASSERT_TRUE(accounts.Delete(*id).ok());
  EXPECT_TRUE(accounts.RecentPasswordHashes(*id, 5)->empty());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace wattline::server
