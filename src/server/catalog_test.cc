#include "server/catalog.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "server/test_dir.h"

namespace wattline::server {
namespace {

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTestDir("wl-catalog");
    auto c = Catalog::Open((dir_ / "config.db").string());
    ASSERT_TRUE(c) << c.error().ToString();
    catalog_ = std::move(*c);
  }
  void TearDown() override {
    catalog_.reset();
    std::filesystem::remove_all(dir_);
  }
  Connector AddConnector(const std::string& tenant, const std::string& name) {
    auto t = catalog_->EnsureTenant(tenant);
    auto s = catalog_->EnsureSite(*t, "site");
    EXPECT_TRUE(catalog_->UpsertConnector(*t, *s, name, "hash-" + name).ok());
    return *catalog_->FindConnectorByTokenHash("hash-" + name);
  }
  std::filesystem::path dir_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(CatalogTest, TenantsNeverSeeEachOthersMeters) {
  Connector a = AddConnector("a", "edge-a");
  Connector b = AddConnector("b", "edge-b");
  auto da = catalog_->ResolveDevice(a, "meter-01", "UMG", 1000);
  auto db = catalog_->ResolveDevice(b, "meter-01", "UMG", 1000);
  ASSERT_TRUE(da && db);
  EXPECT_NE(*da, *db);
  auto sa =
      catalog_->ResolveSignal(a.tenant_id, *da, "active_power_total", "W", SignalKind::kInstant);
  ASSERT_TRUE(sa);
  auto list_b = catalog_->ListDevices(b.tenant_id);
  ASSERT_TRUE(list_b);
  ASSERT_EQ(list_b->size(), 1u);
  EXPECT_EQ((*list_b)[0].id, *db);
  EXPECT_EQ(catalog_->GetSignal(b.tenant_id, *sa).error().code(), Code::kNotFound);
  EXPECT_TRUE(catalog_->GetSignal(a.tenant_id, *sa));
}

TEST_F(CatalogTest, ResolveIsStableAcrossCalls) {
  Connector a = AddConnector("a", "edge-a");
  auto d1 = catalog_->ResolveDevice(a, "meter-01", "UMG", 1000);
  auto d2 = catalog_->ResolveDevice(a, "meter-01", "UMG", 2000);
  ASSERT_TRUE(d1 && d2);
  EXPECT_EQ(*d1, *d2);
  auto s1 = catalog_->ResolveSignal(a.tenant_id, *d1, "frequency", "Hz", SignalKind::kInstant);
  auto s2 = catalog_->ResolveSignal(a.tenant_id, *d1, "frequency", "Hz", SignalKind::kInstant);
  EXPECT_EQ(*s1, *s2);
}

TEST_F(CatalogTest, UnknownConnectorTokenIsUnauthenticated) {
  EXPECT_EQ(catalog_->FindConnectorByTokenHash("nope").error().code(), Code::kUnauthenticated);
}

TEST_F(CatalogTest, ConnectorAckPersistsAcrossReopen) {
  Connector a = AddConnector("a", "edge-a");
  ASSERT_TRUE(catalog_->SetConnectorAck(a.id, 42, 5).ok());
  catalog_.reset();
  auto c = Catalog::Open((dir_ / "config.db").string());
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)->FindConnectorByTokenHash("hash-edge-a")->acked_seq, 42u);
}

}  // namespace
}  // namespace wattline::server
