#include "edge/web/web_api.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "discovery/discoverer.h"
#include "sim/fleet.h"

namespace wattline::edge::web {
namespace {
namespace fs = std::filesystem;
namespace bhttp = boost::beast::http;
using nlohmann::json;

class FakeTime : public TimeSource {
 public:
  SystemTime SystemNow() override { return SystemTime(mono_.time_since_epoch()); }
  MonotonicTime MonotonicNow() override { return mono_; }
  void Advance(std::chrono::minutes m) { mono_ += m; }

 private:
  MonotonicTime mono_{std::chrono::hours(1000)};
};

constexpr char kNewPassword[] = "correct-horse-battery";

const char* kGoodDriver = R"(<?xml version="1.0" encoding="UTF-8"?>
<profile vendor="Acme" model="EM 100" max-registers="50" word-order="ABCD" address-base="0">
  <signal name="voltage_l1_n" fc="4" address="0x00" type="float32" unit="V"/>
  <signal name="active_energy_import" fc="4" address="0x48" type="float32" unit="Wh" kind="counter"/>
</profile>
)";

// Line 4 has a signal without an address.
const char* kBadDriver = R"(<?xml version="1.0" encoding="UTF-8"?>
<profile vendor="Acme" model="EM 101" max-registers="50" word-order="ABCD" address-base="0">
  <signal name="voltage_l1_n" fc="4" address="0x00" type="float32" unit="V"/>
  <signal name="current_l1" fc="4" type="float32" unit="A"/>
</profile>
)";

class WebApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("wattline-web-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Reload();
    MakeApi();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Reload() {
    auto r = LoadDrivers(WATTLINE_PROFILES_DIR, dir_ / "drivers");
    ASSERT_TRUE(r) << r.error().ToString();
    registry_ = std::move(*r);
  }

  void MakeApi(std::vector<MeterConfig> config_meters = {}, const ScanConfig* scan = nullptr) {
    WebApiConfig config;
    config.data_dir = dir_;
    config.profiles_dir = WATTLINE_PROFILES_DIR;
    config.connector_id = "edge-test";
    config.version = "0.0.1";
    config.config_meters = std::move(config_meters);
    config.nmcli = (dir_ / "no-nmcli-here").string();
    ConnectorHooks hooks;
    hooks.registry = [this]() -> const profiles::ProfileRegistry& { return *registry_; };
    hooks.reload_drivers = [this] {
      Reload();
      return Status::Ok();
    };
    hooks.apply_meters = [this](const std::vector<MeterConfig>& meters) {
      applied_ = meters;
      ++apply_count_;
      return Status::Ok();
    };
    hooks.set_clock_sync = [this](std::optional<std::chrono::seconds> at) { clock_sync_ = at; };
    hooks.meter_statuses = [this] {
      std::vector<MeterStatus> out;
      for (const auto& m : applied_) {
        MeterStatus s;
        s.key = m.key;
        s.identity["serial_number"] = "SN-" + m.key;
        s.request_count = 7;
        s.last_response_time_ms = 12;
        s.last_success_ts_ms = 1763766000000;
        out.push_back(s);
      }
      return out;
    };
    api_.reset();
    scan_.reset();
    api_ = std::make_unique<WebApi>(config, hooks, time_);
    if (scan) {
      scan_ = std::make_unique<ScanService>(io_.get_executor(), hooks.registry, *scan);
      api_->SetScanService(scan_.get());
    }
    Status s = api_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    token_.clear();
  }

  http::Response Call(bhttp::verb verb, const std::string& path, const json& body = nullptr,
                      bool csrf = true, std::map<std::string, std::string> params = {}) {
    http::Request req;
    req.raw.method(verb);
    req.raw.target(path);
    req.path = path;
    req.remote = "127.0.0.1";
    req.path_params = std::move(params);
    if (!body.is_null()) req.raw.body() = body.dump();
    if (csrf) req.raw.set("X-Requested-With", "wattline");
    if (!token_.empty()) req.raw.set("Cookie", "wl_connector=" + token_);
    if (path == "/api/v1/login") return api_->Login(req);
    if (path == "/api/v1/logout") return api_->Logout(req);
    if (path == "/api/v1/me") return api_->Me(req);
    if (path == "/api/v1/password") return api_->ChangePassword(req);
    if (path == "/api/v1/overview") return api_->Overview(req);
    if (path == "/api/v1/meters" && verb == bhttp::verb::get) return api_->ListMeters(req);
    if (path == "/api/v1/meters") return api_->AddMeter(req);
    if (path == "/api/v1/meters/remove") return api_->RemoveMeters(req);
    if (path == "/api/v1/meters/unignore") return api_->Unignore(req);
    if (path.rfind("/api/v1/meters/", 0) == 0) return api_->EditMeter(req);
    if (path == "/api/v1/drivers" && verb == bhttp::verb::get) return api_->ListDrivers(req);
    if (path == "/api/v1/drivers") return api_->UploadDriver(req);
    if (path.rfind("/api/v1/drivers/", 0) == 0) return api_->DeleteDriver(req);
    if (path == "/api/v1/settings" && verb == bhttp::verb::get) return api_->GetSettings(req);
    if (path == "/api/v1/settings") return api_->PutSettings(req);
    if (path == "/api/v1/settings/network") return api_->PutNetwork(req);
    if (path == "/api/v1/diagnostics") return api_->Diagnostics(req);
    if (path == "/api/v1/scan" && verb == bhttp::verb::get) return api_->Scan(req);
    if (path == "/api/v1/scan") return api_->StartScan(req);
    if (path == "/api/v1/scan/finish") return api_->FinishScan(req);
    ADD_FAILURE() << "no handler for " << path;
    return {};
  }

  http::Response Login(const std::string& password) {
    auto r = Call(bhttp::verb::post, "/api/v1/login",
                  json{{"username", "admin"}, {"password", password}});
    for (const auto& [name, value] : r.headers) {
      if (name == "Set-Cookie" && value.rfind("wl_connector=", 0) == 0) {
        token_ = value.substr(13, value.find(';') - 13);
      }
    }
    return r;
  }

  // Logs in with the default password and changes it.
  void LoginReady() {
    ASSERT_EQ(Login(kDefaultPassword).status, 200u);
    auto r = Call(bhttp::verb::post, "/api/v1/password",
                  json{{"current_password", kDefaultPassword}, {"new_password", kNewPassword}});
    ASSERT_EQ(r.status, 200u) << r.body;
  }

  static json Body(const http::Response& r) { return json::parse(r.body); }
  static std::string ErrorCode(const http::Response& r) { return Body(r)["error"]["code"]; }

  json TcpMeter(const std::string& key, int unit = 1,
                const std::string& profile = "eastron-sdm630") {
    return json{{"key", key},          {"profile", profile}, {"transport", "tcp"},
                {"host", "127.0.0.1"}, {"port", 1502},       {"unit_id", unit}};
  }

  // Runs the io_context until `done` or 20 s passed.
  template <typename Pred>
  bool RunUntil(Pred done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_for(std::chrono::milliseconds(20));
    }
    return done();
  }

  boost::asio::io_context io_;
  fs::path dir_;
  FakeTime time_;
  std::unique_ptr<ScanService> scan_;
  std::unique_ptr<profiles::ProfileRegistry> registry_;
  std::unique_ptr<WebApi> api_;
  std::vector<MeterConfig> applied_;
  int apply_count_ = 0;
  std::optional<std::chrono::seconds> clock_sync_;
  std::string token_;
};

TEST_F(WebApiTest, DefaultPasswordMustBeChangedBeforeAnythingElse) {
  auto login = Login(kDefaultPassword);
  ASSERT_EQ(login.status, 200u);
  EXPECT_TRUE(Body(login)["must_change_password"]);
  for (const char* path : {"/api/v1/overview", "/api/v1/meters", "/api/v1/drivers",
                           "/api/v1/settings", "/api/v1/diagnostics"}) {
    auto r = Call(bhttp::verb::get, path);
    EXPECT_EQ(r.status, 403u) << path;
    EXPECT_EQ(ErrorCode(r), "password_change_required") << path;
  }
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/meters", TcpMeter("m1")).status, 403u);

  auto too_short = Call(bhttp::verb::post, "/api/v1/password",
                        json{{"current_password", kDefaultPassword}, {"new_password", "short"}});
  EXPECT_EQ(too_short.status, 400u);
  EXPECT_EQ(Body(too_short)["error"]["field"], "new_password");
  auto same =
      Call(bhttp::verb::post, "/api/v1/password",
           json{{"current_password", kDefaultPassword}, {"new_password", kDefaultPassword}});
  EXPECT_EQ(same.status, 400u);
  auto wrong = Call(bhttp::verb::post, "/api/v1/password",
                    json{{"current_password", "nope"}, {"new_password", kNewPassword}});
  EXPECT_EQ(wrong.status, 403u);

  auto ok = Call(bhttp::verb::post, "/api/v1/password",
                 json{{"current_password", kDefaultPassword}, {"new_password", kNewPassword}});
  ASSERT_EQ(ok.status, 200u) << ok.body;
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/overview").status, 200u);

  // The hash is stored, and after a restart the default password no longer works.
  std::ifstream in(dir_ / "web" / "password");
  std::string hash;
  std::getline(in, hash);
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u);
  MakeApi();
  EXPECT_EQ(Login(kDefaultPassword).status, 401u);
  auto again = Login(kNewPassword);
  ASSERT_EQ(again.status, 200u);
  EXPECT_FALSE(Body(again)["must_change_password"]);
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/overview").status, 200u);
}

TEST_F(WebApiTest, SessionsExpireWhenIdleAndAfterTheAbsoluteLimit) {
  LoginReady();
  time_.Advance(std::chrono::minutes(59));
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/me").status, 200u);
  time_.Advance(std::chrono::minutes(61));
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/me").status, 401u);

  ASSERT_EQ(Login(kNewPassword).status, 200u);
  for (int i = 0; i < 12; ++i) {
    time_.Advance(std::chrono::minutes(59));
    ASSERT_EQ(Call(bhttp::verb::get, "/api/v1/me").status, 200u) << i;
  }
  time_.Advance(std::chrono::minutes(59));
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/me").status, 401u);
}

TEST_F(WebApiTest, StateChangingRequestsNeedTheCsrfHeader) {
  auto login = Call(bhttp::verb::post, "/api/v1/login",
                    json{{"username", "admin"}, {"password", kDefaultPassword}}, false);
  EXPECT_EQ(login.status, 403u);
  LoginReady();
  auto add = Call(bhttp::verb::post, "/api/v1/meters", TcpMeter("m1"), /*csrf=*/false);
  EXPECT_EQ(add.status, 403u);
  EXPECT_EQ(ErrorCode(add), "permission_denied");
  EXPECT_EQ(apply_count_, 1);  // only Start's
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/meters", TcpMeter("m1")).status, 201u);
}

TEST_F(WebApiTest, RepeatedWrongPasswordsLockTheLogin) {
  for (int i = 0; i < server::SessionStore::kMaxFailures; ++i) {
    EXPECT_EQ(Login("wrong-password").status, 401u);
  }
  auto locked = Login(kDefaultPassword);
  EXPECT_EQ(locked.status, 429u);
  time_.Advance(std::chrono::minutes(6));
  EXPECT_EQ(Login(kDefaultPassword).status, 200u);
}

TEST_F(WebApiTest, BadMetersAreRefusedNamingTheField) {
  LoginReady();
  struct Case {
    json change;
    std::string field;
  };
  std::vector<Case> cases = {
      {{{"port", 70000}}, "port"},
      {{{"port", "502"}}, "port"},
      {{{"profile", "no-such-driver"}}, "profile"},
      {{{"key", "bad key!"}}, "key"},
      {{{"host", ""}}, "host"},
      {{{"host", "10.0.0.1; rm -rf"}}, "host"},
      {{{"transport", "udp"}}, "transport"},
      {{{"unit_id", 256}}, "unit_id"},
      {{{"cycle_ms", 10}}, "cycle_ms"},
      {{{"transport", "rtu-over-tcp"}, {"unit_id", 0}}, "unit_id"},
      {{{"transport", "rtu-over-tcp"}, {"baud", 1234}}, "baud"},
      {{{"transport", "rtu-over-tcp"}, {"parity", "X"}}, "parity"},
      {{{"transport", "serial"}, {"serial_port", "/etc/passwd"}}, "serial_port"},
      {{{"transport", "serial"}, {"serial_port", "/dev/ttyUSB0"}, {"stop_bits", 3}}, "stop_bits"},
  };
  for (const auto& c : cases) {
    json meter = TcpMeter("m1");
    for (auto& [k, v] : c.change.items()) meter[k] = v;
    auto r = Call(bhttp::verb::post, "/api/v1/meters", meter);
    EXPECT_EQ(r.status, 400u) << meter.dump();
    EXPECT_EQ(Body(r)["error"]["field"], c.field) << meter.dump() << " " << r.body;
  }
  auto not_json = Call(bhttp::verb::post, "/api/v1/meters", json("just a string"));
  EXPECT_EQ(not_json.status, 400u);
  EXPECT_EQ(apply_count_, 1);
  EXPECT_FALSE(fs::exists(dir_ / "meters.toml"));

  json serial = {{"key", "s1"},           {"profile", "eastron-sdm120"},
                 {"transport", "serial"}, {"serial_port", "/dev/ttyUSB0"},
                 {"unit_id", 3},          {"baud", 19200},
                 {"parity", "N"},         {"stop_bits", 2}};
  ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/meters", serial).status, 201u);
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(applied_[0].serial.device, "/dev/ttyUSB0");
  EXPECT_EQ(applied_[0].serial.baud, 19200u);
  EXPECT_EQ(applied_[0].serial.parity, modbus::Parity::kNone);
  EXPECT_EQ(applied_[0].serial.stop_bits, 2);
  auto dup = Call(bhttp::verb::post, "/api/v1/meters", serial);
  EXPECT_EQ(dup.status, 409u);
}

TEST_F(WebApiTest, MetersPersistAcrossRestartsAndConfiguredOnesAreReadOnly) {
  MeterConfig configured;
  configured.key = "cfg-1";
  configured.host = "127.0.0.2";
  configured.profile = "janitza-umg96rm-e";
  MakeApi({configured});
  LoginReady();
  ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/meters", TcpMeter("gw-1", 1)).status, 201u);
  ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/meters", TcpMeter("gw-2", 2)).status, 201u);
  ASSERT_EQ(applied_.size(), 3u);
  EXPECT_EQ(applied_[0].key, "cfg-1");
  EXPECT_FALSE(fs::exists(dir_ / "meters.toml.tmp"));

  auto edit = TcpMeter("gw-2", 5);
  edit["cycle_ms"] = 2000;
  ASSERT_EQ(Call(bhttp::verb::put, "/api/v1/meters/gw-2", edit, true, {{"key", "gw-2"}}).status,
            200u);
  EXPECT_EQ(
      Call(bhttp::verb::put, "/api/v1/meters/cfg-1", TcpMeter("cfg-1"), true, {{"key", "cfg-1"}})
          .status,
      409u);
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/meters/remove", json{{"keys", {"cfg-1"}}}).status,
            409u);

  MakeApi({configured});
  ASSERT_EQ(applied_.size(), 3u);
  EXPECT_EQ(applied_[2].key, "gw-2");
  EXPECT_EQ(applied_[2].unit_id, 5);
  EXPECT_EQ(applied_[2].cycle.count(), 2000);
  ASSERT_EQ(Login(kNewPassword).status, 200u);
  json list = Body(Call(bhttp::verb::get, "/api/v1/meters"));
  ASSERT_EQ(list["meters"].size(), 3u);
  EXPECT_TRUE(list["meters"][0]["read_only"]);
  EXPECT_EQ(list["meters"][1]["connection"], "gateway");  // two unit ids at one host:port
  EXPECT_EQ(list["meters"][1]["status"]["state"], "ok");
  EXPECT_EQ(list["meters"][1]["status"]["requests"], 7);
  EXPECT_EQ(list["meters"][1]["type"], "Eastron SDM630");
}

TEST_F(WebApiTest, RemovedAndIgnoredMetersStayOnTheIgnoreList) {
  LoginReady();
  for (int unit = 1; unit <= 3; ++unit) {
    ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/meters", TcpMeter("m" + std::to_string(unit), unit))
                  .status,
              201u);
  }
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/meters/remove", json{{"keys", {"m1", "nope"}}}).status,
            404u);
  EXPECT_EQ(applied_.size(), 3u);  // all or nothing
  auto r = Call(bhttp::verb::post, "/api/v1/meters/remove",
                json{{"keys", {"m1", "m2"}}, {"ignore", true}});
  ASSERT_EQ(r.status, 200u) << r.body;
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(applied_[0].key, "m3");
  EXPECT_TRUE(api_->IsIgnored("tcp://127.0.0.1:1502/1"));
  EXPECT_TRUE(api_->IsIgnored("tcp://127.0.0.1:1502/2"));
  EXPECT_FALSE(api_->IsIgnored("tcp://127.0.0.1:1502/3"));

  MakeApi();
  EXPECT_TRUE(api_->IsIgnored("tcp://127.0.0.1:1502/2"));
  ASSERT_EQ(Login(kNewPassword).status, 200u);
  ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/meters/unignore",
                 json{{"endpoints", {"tcp://127.0.0.1:1502/2"}}})
                .status,
            200u);
  EXPECT_FALSE(api_->IsIgnored("tcp://127.0.0.1:1502/2"));
  // Adding a meter by hand at an ignored endpoint un-ignores it.
  ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/meters", TcpMeter("again", 1)).status, 201u);
  EXPECT_FALSE(api_->IsIgnored("tcp://127.0.0.1:1502/1"));
}

TEST_F(WebApiTest, DriverUploadReportsErrorsWithLineNumbers) {
  LoginReady();
  auto bad =
      Call(bhttp::verb::post, "/api/v1/drivers", json{{"type", "acme-em101"}, {"xml", kBadDriver}});
  ASSERT_EQ(bad.status, 400u) << bad.body;
  json details = Body(bad)["error"]["details"];
  ASSERT_GE(details.size(), 1u) << bad.body;
  EXPECT_EQ(details[0]["line"], 4) << bad.body;
  EXPECT_FALSE(fs::exists(dir_ / "drivers" / "acme-em101.xml"));

  auto not_xml =
      Call(bhttp::verb::post, "/api/v1/drivers", json{{"type", "junk"}, {"xml", "<profile"}});
  EXPECT_EQ(not_xml.status, 400u);
  EXPECT_EQ(
      Call(bhttp::verb::post, "/api/v1/drivers", json{{"type", "../evil"}, {"xml", kGoodDriver}})
          .status,
      400u);
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/drivers",
                 json{{"type", "eastron-sdm630"}, {"xml", kGoodDriver}})
                .status,
            409u);

  auto good = Call(bhttp::verb::post, "/api/v1/drivers",
                   json{{"type", "acme-em100"}, {"xml", kGoodDriver}});
  ASSERT_EQ(good.status, 201u) << good.body;
  EXPECT_TRUE(fs::exists(dir_ / "drivers" / "acme-em100.xml"));
  json list = Body(Call(bhttp::verb::get, "/api/v1/drivers"));
  bool found = false;
  for (const auto& d : list) {
    if (d["id"] == "acme-em100") {
      found = true;
      EXPECT_FALSE(d["bundled"]);
      EXPECT_EQ(d["name"], "Acme EM 100");
    }
    if (d["id"] == "eastron-sdm630") {
      EXPECT_TRUE(d["bundled"]);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(WebApiTest, DriverInUseOrBundledCannotBeDeleted) {
  LoginReady();
  ASSERT_EQ(
      Call(bhttp::verb::post, "/api/v1/drivers", json{{"type", "acme-em100"}, {"xml", kGoodDriver}})
          .status,
      201u);
  ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/meters", TcpMeter("acme", 1, "acme-em100")).status,
            201u);
  auto in_use = Call(bhttp::verb::delete_, "/api/v1/drivers/acme-em100", nullptr, true,
                     {{"id", "acme-em100"}});
  EXPECT_EQ(in_use.status, 409u);
  EXPECT_EQ(Body(in_use)["error"]["used_by"][0], "acme");
  EXPECT_TRUE(fs::exists(dir_ / "drivers" / "acme-em100.xml"));
  auto bundled = Call(bhttp::verb::delete_, "/api/v1/drivers/eastron-sdm630", nullptr, true,
                      {{"id", "eastron-sdm630"}});
  EXPECT_EQ(bundled.status, 409u);
  EXPECT_EQ(
      Call(bhttp::verb::delete_, "/api/v1/drivers/nope", nullptr, true, {{"id", "nope"}}).status,
      404u);

  ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/meters/remove", json{{"keys", {"acme"}}}).status,
            200u);
  auto ok = Call(bhttp::verb::delete_, "/api/v1/drivers/acme-em100", nullptr, true,
                 {{"id", "acme-em100"}});
  EXPECT_EQ(ok.status, 204u) << ok.body;
  EXPECT_FALSE(fs::exists(dir_ / "drivers" / "acme-em100.xml"));
  EXPECT_EQ(registry_->Find("acme-em100"), nullptr);
}

TEST_F(WebApiTest, MeterWithAMissingDriverDoesNotStopTheConnector) {
  LoginReady();
  json upload = {{"type", "acme-em100"}, {"xml", kGoodDriver}};
  ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/drivers", upload).status, 201u);
  ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/meters", TcpMeter("acme", 1, "acme-em100")).status,
            201u);
  ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/meters", TcpMeter("other", 2)).status, 201u);
  fs::remove(dir_ / "drivers" / "acme-em100.xml");
  Reload();
  MakeApi();
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(applied_[0].key, "other");
  ASSERT_EQ(Login(kNewPassword).status, 200u);
  json list = Body(Call(bhttp::verb::get, "/api/v1/meters"));
  ASSERT_EQ(list["meters"].size(), 2u);
  EXPECT_EQ(list["meters"][0]["status"]["state"], "error");
  // Uploading the driver again brings the meter back into the poll.
  ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/drivers", upload).status, 201u);
  ASSERT_EQ(applied_.size(), 2u);
  EXPECT_EQ(applied_[0].key, "acme");
}

TEST_F(WebApiTest, NetworkIsReadOnlyWithoutNmcliAndInputIsValidated) {
  LoginReady();
  json settings = Body(Call(bhttp::verb::get, "/api/v1/settings"));
  EXPECT_FALSE(settings["network"]["editable"]);
  EXPECT_NE(settings["network"]["reason"].get<std::string>().find("nmcli"), std::string::npos);
  auto bad_mode = Call(bhttp::verb::put, "/api/v1/settings/network", json{{"mode", "auto"}});
  EXPECT_EQ(Body(bad_mode)["error"]["field"], "mode");
  auto bad_addr = Call(bhttp::verb::put, "/api/v1/settings/network",
                       json{{"mode", "static"}, {"address", "192.168.1.300/24"}});
  EXPECT_EQ(bad_addr.status, 400u);
  EXPECT_EQ(Body(bad_addr)["error"]["field"], "address");
  auto no_prefix = Call(bhttp::verb::put, "/api/v1/settings/network",
                        json{{"mode", "static"}, {"address", "192.168.1.20"}});
  EXPECT_EQ(Body(no_prefix)["error"]["field"], "address");
  auto bad_dns = Call(bhttp::verb::put, "/api/v1/settings/network",
                      json{{"mode", "static"}, {"address", "192.168.1.20/24"}, {"dns", "x"}});
  EXPECT_EQ(Body(bad_dns)["error"]["field"], "dns");
  auto valid = Call(bhttp::verb::put, "/api/v1/settings/network",
                    json{{"mode", "static"},
                         {"address", "192.168.1.20/24"},
                         {"gateway", "192.168.1.1"},
                         {"dns", "192.168.1.1, 9.9.9.9"}});
  EXPECT_EQ(valid.status, 409u);
  EXPECT_EQ(ErrorCode(valid), "failed_precondition");
}

TEST_F(WebApiTest, SettingsAreValidatedAndPersisted) {
  LoginReady();
  EXPECT_EQ(
      Call(bhttp::verb::put, "/api/v1/settings", json{{"time_sync", {{"time", "24:00"}}}}).status,
      400u);
  EXPECT_EQ(Call(bhttp::verb::put, "/api/v1/settings", json{{"name", std::string(65, 'x')}}).status,
            400u);
  auto ok = Call(
      bhttp::verb::put, "/api/v1/settings",
      json{{"name", "Plant 3 connector"}, {"time_sync", {{"enabled", false}, {"time", "02:30"}}}});
  ASSERT_EQ(ok.status, 200u) << ok.body;
  MakeApi();
  EXPECT_EQ(api_->settings().name, "Plant 3 connector");
  EXPECT_FALSE(api_->settings().time_sync);
  EXPECT_EQ(api_->settings().time_sync_at, "02:30");
  ASSERT_EQ(Login(kNewPassword).status, 200u);
  json overview = Body(Call(bhttp::verb::get, "/api/v1/overview"));
  EXPECT_EQ(overview["name"], "Plant 3 connector");
  EXPECT_EQ(overview["connector_id"], "edge-test");
  EXPECT_EQ(overview["serial_number"].get<std::string>().rfind("WL-", 0), 0u);
  EXPECT_FALSE(overview["claim"]["available"]);
  json scan = Body(Call(bhttp::verb::get, "/api/v1/scan"));
  EXPECT_FALSE(scan["available"]);
  // The poller gets the time sync from the settings: off here; on at 02:30 after a change.
  EXPECT_FALSE(clock_sync_.has_value());
  const int applied = apply_count_;
  ASSERT_EQ(
      Call(bhttp::verb::put, "/api/v1/settings", json{{"time_sync", {{"enabled", true}}}}).status,
      200u);
  ASSERT_TRUE(clock_sync_.has_value());
  EXPECT_EQ(*clock_sync_, std::chrono::hours(2) + std::chrono::minutes(30));
  EXPECT_EQ(apply_count_, applied + 1);  // the poller restarts with it
  // A name change alone leaves the poller alone.
  ASSERT_EQ(Call(bhttp::verb::put, "/api/v1/settings", json{{"name", "P3"}}).status, 200u);
  EXPECT_EQ(apply_count_, applied + 1);
}

TEST_F(WebApiTest, MeterTableShowsTheSerialNumberAndDiagnosticsTheClock) {
  LoginReady();
  ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/meters", TcpMeter("m1")).status, 201u);
  json meters = Body(Call(bhttp::verb::get, "/api/v1/meters"));
  ASSERT_EQ(meters["meters"].size(), 1u);
  EXPECT_EQ(meters["meters"][0]["serial"], "SN-m1");
  json diag = Body(Call(bhttp::verb::get, "/api/v1/diagnostics"));
  ASSERT_EQ(diag["meters"].size(), 1u);
  EXPECT_EQ(diag["meters"][0]["identity"]["serial_number"], "SN-m1");
  EXPECT_FALSE(diag["meters"][0]["clock"]["known"]);
  EXPECT_TRUE(diag["meters"][0]["clock"]["drift_ms"].is_null());
}

// Simulated meters on 127.0.3.x, one address each, all on one TCP port, as on a LAN.
class WebScanTest : public WebApiTest {
 protected:
  void StartMeter(int host, const std::string& type) {
    if (!profiles_) {
      profiles_ = std::make_unique<profiles::ProfileRegistry>();
      ASSERT_TRUE(profiles_->LoadDirectory(WATTLINE_PROFILES_DIR).ok());
    }
    auto fleet =
        std::make_unique<sim::Fleet>(io_, sim::FleetOptions{.meters = 1,
                                                            .host = fmt::format("127.0.3.{}", host),
                                                            .base_port = port_,
                                                            .seed = static_cast<uint64_t>(host),
                                                            .types = {{type, 1}},
                                                            .profiles = profiles_.get()});
    Status s = fleet->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    port_ = fleet->endpoints()[0].port;  // the first meter picks the port
    fleets_.push_back(std::move(fleet));
  }
  ScanConfig Config() const {
    ScanConfig c;
    c.discoverer.broadcast_interfaces = false;
    c.discoverer.answer_window = std::chrono::milliseconds(50);
    c.discoverer.scan_ranges = {*discovery::ParseRange("127.0.3.1-127.0.3.6")};
    c.discoverer.ports = {port_};
    c.discoverer.connects_per_second = 200;
    c.continuous.broadcast_interval = std::chrono::milliseconds(0);
    c.continuous.scan_interval = std::chrono::milliseconds(300);
    return c;
  }
  json WaitForScan() {
    json scan;
    EXPECT_TRUE(RunUntil([&] {
      scan = Body(Call(bhttp::verb::get, "/api/v1/scan"));
      return scan["phase"] == "done";
    })) << scan.dump();
    return scan;
  }
  void TearDown() override {
    api_.reset();
    scan_.reset();
    for (auto& f : fleets_) f->Stop();
    WebApiTest::TearDown();
  }

  std::unique_ptr<profiles::ProfileRegistry> profiles_;
  std::vector<std::unique_ptr<sim::Fleet>> fleets_;
  uint16_t port_ = 0;
};

TEST_F(WebScanTest, InitialScanShowsProgressAndFinishAddsTheChosenMeters) {
  StartMeter(1, "janitza-umg96rm-e");
  StartMeter(2, "eastron-sdm630");
  StartMeter(3, "abb-b23");
  ScanConfig config = Config();
  MakeApi({}, &config);
  LoginReady();
  json before = Body(Call(bhttp::verb::get, "/api/v1/scan"));
  EXPECT_TRUE(before["available"]);
  EXPECT_FALSE(before["initial_scan_done"]);
  EXPECT_EQ(before["phase"], "idle");
  EXPECT_EQ(before["targets"][0], fmt::format("127.0.3.1-127.0.3.6 port {}", port_));
  // Finishing before a scan ran adds nothing, and a second scan cannot start while one runs.
  auto started = Call(bhttp::verb::post, "/api/v1/scan", json::object());
  ASSERT_EQ(started.status, 200u) << started.body;
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/scan", json::object()).status, 409u);
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/scan/finish", json{{"add", json::array()}}).status,
            409u);
  json scan = WaitForScan();
  EXPECT_EQ(scan["total"], 6);
  EXPECT_EQ(scan["done"], 6);
  ASSERT_EQ(scan["found"].size(), 3u) << scan.dump();
  std::map<std::string, json> by_host;
  for (const auto& d : scan["found"]) by_host[d["host"]] = d;
  EXPECT_EQ(by_host["127.0.3.1"]["profile"], "janitza-umg96rm-e");
  EXPECT_EQ(by_host["127.0.3.2"]["profile"], "eastron-sdm630");
  EXPECT_EQ(by_host["127.0.3.3"]["profile"], "abb-b23");
  for (const auto& [host, d] : by_host) EXPECT_EQ(d["state"], "new") << host;

  // An endpoint the scan did not find is refused; so is a body without a list.
  EXPECT_EQ(
      Call(bhttp::verb::post, "/api/v1/scan/finish", json{{"add", {"tcp://127.0.3.9:1/1"}}}).status,
      404u);
  EXPECT_EQ(Call(bhttp::verb::post, "/api/v1/scan/finish", json::object()).status, 400u);
  EXPECT_FALSE(api_->settings().initial_scan_done);

  // Take two; the third is left unticked and so ignored from now on.
  auto finish =
      Call(bhttp::verb::post, "/api/v1/scan/finish",
           json{{"add", {by_host["127.0.3.1"]["endpoint"], by_host["127.0.3.2"]["endpoint"]}}});
  ASSERT_EQ(finish.status, 200u) << finish.body;
  EXPECT_EQ(Body(finish)["added"].size(), 2u);
  EXPECT_EQ(Body(finish)["ignored"], json::array({by_host["127.0.3.3"]["endpoint"]}));
  ASSERT_EQ(applied_.size(), 2u);
  std::set<std::string> hosts;
  for (const auto& m : applied_) {
    hosts.insert(m.host);
    EXPECT_EQ(m.port, port_);
    EXPECT_EQ(m.transport, Transport::kTcp);
  }
  EXPECT_EQ(hosts, (std::set<std::string>{"127.0.3.1", "127.0.3.2"}));
  EXPECT_TRUE(api_->settings().initial_scan_done);
  EXPECT_TRUE(scan_->continuous_running());
  // The scan list now says what became of each device.
  json after = Body(Call(bhttp::verb::get, "/api/v1/scan"));
  for (const auto& d : after["found"]) {
    EXPECT_EQ(d["state"], d["host"] == "127.0.3.3" ? "ignored" : "polled") << d.dump();
  }

  // Persisted: a restarted connector goes straight to continuous discovery.
  MakeApi({}, &config);
  EXPECT_TRUE(api_->settings().initial_scan_done);
  EXPECT_TRUE(scan_->continuous_running());
  EXPECT_EQ(applied_.size(), 2u);
}

TEST_F(WebScanTest, ContinuousDiscoveryAddsAMeterPluggedInLaterButNotAnIgnoredOne) {
  StartMeter(1, "janitza-umg96rm-e");
  ScanConfig config = Config();
  MakeApi({}, &config);
  LoginReady();
  ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/scan", json::object()).status, 200u);
  WaitForScan();
  // Skipping the choice adds nothing and starts continuous discovery.
  auto skip = Call(bhttp::verb::post, "/api/v1/scan/finish", json{{"skip", true}});
  ASSERT_EQ(skip.status, 200u) << skip.body;
  EXPECT_TRUE(api_->settings().initial_scan_done);
  // The meter found before is added by continuous discovery (it was neither chosen nor ignored).
  ASSERT_TRUE(RunUntil([&] { return applied_.size() == 1; })) << applied_.size();
  EXPECT_EQ(applied_[0].host, "127.0.3.1");
  EXPECT_EQ(applied_[0].profile, "janitza-umg96rm-e");
  // Remove it with "ignore": it is not added again.
  ASSERT_EQ(Call(bhttp::verb::post, "/api/v1/meters/remove",
                 json{{"keys", {applied_[0].key}}, {"ignore", true}})
                .status,
            200u);
  ASSERT_TRUE(applied_.empty());
  // A meter plugged in later appears without anyone asking.
  StartMeter(4, "eastron-sdm630");
  ASSERT_TRUE(RunUntil([&] { return applied_.size() == 1; }));
  EXPECT_EQ(applied_[0].host, "127.0.3.4");
  EXPECT_EQ(applied_[0].profile, "eastron-sdm630");
  io_.restart();
  io_.run_for(std::chrono::milliseconds(1000));  // more rounds: the ignored one stays out
  ASSERT_EQ(applied_.size(), 1u);
  json scan = Body(Call(bhttp::verb::get, "/api/v1/scan"));
  bool noted = false;
  for (const auto& e : scan["events"]) {
    noted |= e["endpoint"] == fmt::format("tcp://127.0.3.4:{}/1", port_) &&
             e["event"].get<std::string>().rfind("added as ", 0) == 0;
  }
  EXPECT_TRUE(noted) << scan["events"].dump();
}

}  // namespace
}  // namespace wattline::edge::web
