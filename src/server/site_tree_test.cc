#include "server/site_tree.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "core/env.h"
#include "server/test_dir.h"

namespace wattline::server {
namespace {
namespace fs = std::filesystem;

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kDayMs = 24 * kHourMs;

class FakeTime : public TimeSource {
 public:
  SystemTime SystemNow() override { return FromUnixMs(now_ms); }
  MonotonicTime MonotonicNow() override { return MonotonicTime(); }
  int64_t now_ms = 1'796'000'000'000;
};

class SiteTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTestDir("wl-tree");
    auto c = Catalog::Open((dir_ / "config.db").string());
    ASSERT_TRUE(c) << c.error().ToString();
    catalog_ = std::move(*c);
    historian::EngineOptions o;
    o.dir = (dir_ / "historian").string();
    auto e = historian::Engine::Open(PosixEnv(), o);
    ASSERT_TRUE(e) << e.error().ToString();
    store_ = std::move(*e);
    tree_ = std::make_unique<SiteTree>(*catalog_, *store_, time_);
    tenant_a_ = *catalog_->EnsureTenant("a");
    tenant_b_ = *catalog_->EnsureTenant("b");
    day0_ = (time_.now_ms - 10 * kDayMs) / kDayMs * kDayMs;
  }
  void TearDown() override {
    tree_.reset();
    store_.reset();
    catalog_.reset();
    fs::remove_all(dir_);
  }

  // A connector's meter with a power signal, then import and export energy counters in Wh.
  // Returns the device id; *import_signal gets the import counter's id.
  int64_t AddDevice(int64_t tenant, const std::string& key, int64_t* import_signal = nullptr) {
    auto site = catalog_->EnsureSite(tenant, "site");
    const std::string connector = "edge-" + std::to_string(tenant);
    EXPECT_TRUE(catalog_->UpsertConnector(tenant, *site, connector, "hash-" + connector).ok());
    auto c = catalog_->FindConnectorByTokenHash("hash-" + connector);
    auto device = catalog_->ResolveDevice(*c, key, "UMG", 0);
    EXPECT_TRUE(device);
    EXPECT_TRUE(
        catalog_->ResolveSignal(tenant, *device, "active_power_total", "W", SignalKind::kInstant));
    auto import = catalog_->ResolveSignal(tenant, *device, "active_energy_import", "Wh",
                                          SignalKind::kCounter);
    EXPECT_TRUE(catalog_->ResolveSignal(tenant, *device, "active_energy_export", "Wh",
                                        SignalKind::kCounter));
    if (import_signal) *import_signal = *import;
    return *device;
  }

  TreeNode Node(int64_t tenant, std::optional<int64_t> parent, NodeKind kind,
                const std::string& name, std::optional<int64_t> device = std::nullopt,
                bool manual = false, std::vector<VirtualTerm> terms = {}) {
    NodeInput in;
    in.parent_id = parent;
    in.kind = kind;
    in.name = name;
    in.device_id = device;
    in.manual = manual;
    in.terms = std::move(terms);
    auto n = tree_->Create(tenant, in);
    EXPECT_TRUE(n) << n.error().ToString();
    return n ? *n : TreeNode{};
  }

  double Total(int64_t node, historian::Interval interval = historian::Interval::kDay) {
    auto c = tree_->NodeConsumption(tenant_a_, node, interval, day0_, day0_ + 3 * kDayMs);
    EXPECT_TRUE(c) << c.error().ToString();
    return c ? c->total_kwh : std::numeric_limits<double>::quiet_NaN();
  }

  FakeTime time_;
  fs::path dir_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<historian::Engine> store_;
  std::unique_ptr<SiteTree> tree_;
  int64_t tenant_a_ = 0;
  int64_t tenant_b_ = 0;
  int64_t day0_ = 0;
};

TEST_F(SiteTreeTest, CreatesNestedNodesAndListsSiblingsInOrder) {
  TreeNode site = Node(tenant_a_, std::nullopt, NodeKind::kSite, "Plant");
  TreeNode b2 = Node(tenant_a_, site.id, NodeKind::kBuilding, "Hall 2");
  TreeNode b1 = Node(tenant_a_, site.id, NodeKind::kBuilding, "Hall 1");
  EXPECT_EQ(b2.position, 0);
  EXPECT_EQ(b1.position, 1);
  NodeChange first;
  first.position = -1;
  ASSERT_TRUE(tree_->Update(tenant_a_, b1.id, first));
  auto nodes = tree_->List(tenant_a_);
  ASSERT_TRUE(nodes);
  std::vector<std::string> children;
  for (const TreeNode& n : *nodes) {
    if (n.parent_id == site.id) children.push_back(n.name);
  }
  EXPECT_EQ(children, (std::vector<std::string>{"Hall 1", "Hall 2"}));
  EXPECT_TRUE(tree_->List(tenant_b_)->empty());
  EXPECT_EQ(tree_->Get(tenant_b_, site.id).error().code(), Code::kNotFound);

  NodeChange rename;
  rename.name = "Hall One";
  auto renamed = tree_->Update(tenant_a_, b1.id, rename);
  ASSERT_TRUE(renamed);
  EXPECT_EQ(renamed->name, "Hall One");
  EXPECT_EQ(renamed->parent_id.value_or(-1), site.id);
}

TEST_F(SiteTreeTest, RefusesAMoveBelowItsOwnSubtree) {
  TreeNode site = Node(tenant_a_, std::nullopt, NodeKind::kSite, "Plant");
  TreeNode hall = Node(tenant_a_, site.id, NodeKind::kBuilding, "Hall");
  TreeNode board = Node(tenant_a_, hall.id, NodeKind::kDistributionBoard, "Board");
  NodeChange move;
  move.move = true;
  move.parent_id = board.id;
  auto moved = tree_->Update(tenant_a_, site.id, move);
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(moved.error().message().find("'Plant'"), std::string::npos) << moved.error().message();
  move.parent_id = hall.id;
  EXPECT_EQ(tree_->Update(tenant_a_, hall.id, move).error().code(), Code::kFailedPrecondition);
  // Moving to the root and elsewhere works.
  move.parent_id = std::nullopt;
  auto root = tree_->Update(tenant_a_, board.id, move);
  ASSERT_TRUE(root);
  EXPECT_FALSE(root->parent_id.has_value());
  move.parent_id = board.id;
  ASSERT_TRUE(tree_->Update(tenant_a_, site.id, move));
}

TEST_F(SiteTreeTest, RefusesAnotherTenantsParentDeviceOrMember) {
  TreeNode other = Node(tenant_b_, std::nullopt, NodeKind::kSite, "B site");
  const int64_t device_b = AddDevice(tenant_b_, "meter-b");
  NodeInput in;
  in.kind = NodeKind::kBuilding;
  in.name = "Hall";
  in.parent_id = other.id;
  auto parent = tree_->Create(tenant_a_, in);
  ASSERT_FALSE(parent);
  EXPECT_EQ(parent.error().code(), Code::kNotFound);
  in.parent_id = std::nullopt;
  in.kind = NodeKind::kMeter;
  in.device_id = device_b;
  auto device = tree_->Create(tenant_a_, in);
  ASSERT_FALSE(device);
  EXPECT_EQ(device.error().code(), Code::kNotFound);
  in.kind = NodeKind::kVirtualMeter;
  in.device_id = std::nullopt;
  in.terms = {{other.id, 1}};
  EXPECT_EQ(tree_->Create(tenant_a_, in).error().code(), Code::kNotFound);
  TreeNode mine = Node(tenant_a_, std::nullopt, NodeKind::kSite, "A site");
  NodeChange move;
  move.move = true;
  move.parent_id = other.id;
  EXPECT_EQ(tree_->Update(tenant_a_, mine.id, move).error().code(), Code::kNotFound);
  EXPECT_EQ(tree_->Delete(tenant_a_, other.id, true).error().code(), Code::kNotFound);
  EXPECT_TRUE(tree_->Get(tenant_b_, other.id));
}

TEST_F(SiteTreeTest, MetersHoldNoNodesAndNeedExactlyOneLink) {
  const int64_t device = AddDevice(tenant_a_, "meter-1");
  TreeNode meter = Node(tenant_a_, std::nullopt, NodeKind::kMeter, "M1", device);
  NodeInput in;
  in.kind = NodeKind::kBuilding;
  in.name = "Inside a meter";
  in.parent_id = meter.id;
  auto child = tree_->Create(tenant_a_, in);
  ASSERT_FALSE(child);
  EXPECT_EQ(child.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(child.error().message().find("'M1' is a meter"), std::string::npos);
  in.parent_id = std::nullopt;
  in.kind = NodeKind::kMeter;
  EXPECT_EQ(tree_->Create(tenant_a_, in).error().code(), Code::kInvalidArgument);  // no link
  in.device_id = device;
  in.manual = true;
  EXPECT_EQ(tree_->Create(tenant_a_, in).error().code(), Code::kInvalidArgument);  // both
  in.manual = false;
  auto twice = tree_->Create(tenant_a_, in);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code(), Code::kAlreadyExists);
  in.kind = NodeKind::kBuilding;
  EXPECT_EQ(tree_->Create(tenant_a_, in).error().code(), Code::kInvalidArgument);
  in.device_id = std::nullopt;
  in.name = "";
  EXPECT_EQ(tree_->Create(tenant_a_, in).error().code(), Code::kInvalidArgument);
}

TEST_F(SiteTreeTest, RefusesAVirtualMeterThatRefersToItself) {
  TreeNode m = Node(tenant_a_, std::nullopt, NodeKind::kMeter, "M", std::nullopt, true);
  TreeNode v1 = Node(tenant_a_, std::nullopt, NodeKind::kVirtualMeter, "V1", std::nullopt, false,
                     {{m.id, 1}});
  TreeNode v2 = Node(tenant_a_, std::nullopt, NodeKind::kVirtualMeter, "V2", std::nullopt, false,
                     {{v1.id, 1}});
  NodeChange self;
  self.terms = std::vector<VirtualTerm>{{v1.id, 1}};
  auto direct = tree_->Update(tenant_a_, v1.id, self);
  ASSERT_FALSE(direct);
  EXPECT_EQ(direct.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(direct.error().message().find("itself"), std::string::npos);
  NodeChange loop;
  loop.terms = std::vector<VirtualTerm>{{m.id, 1}, {v2.id, -1}};
  auto indirect = tree_->Update(tenant_a_, v1.id, loop);
  ASSERT_FALSE(indirect);
  EXPECT_EQ(indirect.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(indirect.error().message().find("'V1' -> 'V2' -> 'V1'"), std::string::npos)
      << indirect.error().message();
  // The terms stay as they were.
  auto kept = tree_->Get(tenant_a_, v1.id);
  ASSERT_TRUE(kept);
  ASSERT_EQ(kept->terms.size(), 1u);
  EXPECT_EQ(kept->terms[0].member_id, m.id);
  // A virtual meter below a node may use that node: parents never sum virtual meters.
  TreeNode site = Node(tenant_a_, std::nullopt, NodeKind::kSite, "S");
  NodeChange move;
  move.move = true;
  move.parent_id = site.id;
  ASSERT_TRUE(tree_->Update(tenant_a_, m.id, move));
  ASSERT_TRUE(tree_->Update(tenant_a_, v2.id, move));
  NodeChange uses_parent;
  uses_parent.terms = std::vector<VirtualTerm>{{site.id, 1}};
  EXPECT_TRUE(tree_->Update(tenant_a_, v2.id, uses_parent));
  // Terms only on virtual meters; signs are +-1; no member twice.
  EXPECT_EQ(tree_->Update(tenant_a_, site.id, uses_parent).error().code(), Code::kInvalidArgument);
  NodeChange bad_sign;
  bad_sign.terms = std::vector<VirtualTerm>{{m.id, 2}};
  EXPECT_EQ(tree_->Update(tenant_a_, v1.id, bad_sign).error().code(), Code::kInvalidArgument);
  NodeChange twice;
  twice.terms = std::vector<VirtualTerm>{{m.id, 1}, {m.id, -1}};
  EXPECT_EQ(tree_->Update(tenant_a_, v1.id, twice).error().code(), Code::kInvalidArgument);
}

TEST_F(SiteTreeTest, DeletesLeavesAndSubtreesOnlyWhenNoVirtualMeterUsesThem) {
  TreeNode site = Node(tenant_a_, std::nullopt, NodeKind::kSite, "S");
  TreeNode hall = Node(tenant_a_, site.id, NodeKind::kBuilding, "Hall");
  TreeNode m = Node(tenant_a_, hall.id, NodeKind::kMeter, "M", std::nullopt, true);
  TreeNode v =
      Node(tenant_a_, std::nullopt, NodeKind::kVirtualMeter, "V", std::nullopt, false, {{m.id, 1}});
  auto not_leaf = tree_->Delete(tenant_a_, hall.id, false);
  ASSERT_FALSE(not_leaf);
  EXPECT_EQ(not_leaf.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(not_leaf.error().message().find("recursive"), std::string::npos);
  auto used = tree_->Delete(tenant_a_, site.id, true);
  ASSERT_FALSE(used);
  EXPECT_EQ(used.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(used.error().message().find("'M' is used by virtual meter 'V'"), std::string::npos)
      << used.error().message();
  EXPECT_EQ(tree_->List(tenant_a_)->size(), 4u);
  auto gone_v = tree_->Delete(tenant_a_, v.id, false);
  ASSERT_TRUE(gone_v);
  auto gone = tree_->Delete(tenant_a_, site.id, true);
  ASSERT_TRUE(gone) << gone.error().ToString();
  EXPECT_EQ(gone->size(), 3u);
  EXPECT_TRUE(tree_->List(tenant_a_)->empty());
}

// The tree of the summation tests: S { Hall { Board { M1 (real, Wh) }, M2 (manual, kWh) },
// V = M1 - M2 }, over three days from day0_.
struct Fixture {
  TreeNode site, hall, board, m1, m2, v;
};

TEST_F(SiteTreeTest, SumsMetersUpTheTreeAndSubtractsInVirtualMeters) {
  int64_t import_signal = 0;
  const int64_t device = AddDevice(tenant_a_, "meter-1", &import_signal);
  Fixture f;
  f.site = Node(tenant_a_, std::nullopt, NodeKind::kSite, "S");
  f.hall = Node(tenant_a_, f.site.id, NodeKind::kBuilding, "Hall");
  f.board = Node(tenant_a_, f.hall.id, NodeKind::kDistributionBoard, "Board");
  f.m1 = Node(tenant_a_, f.board.id, NodeKind::kMeter, "M1", device);
  f.m2 = Node(tenant_a_, f.hall.id, NodeKind::kMeter, "M2", std::nullopt, true);
  f.v = Node(tenant_a_, f.site.id, NodeKind::kVirtualMeter, "V", std::nullopt, false,
             {{f.m1.id, 1}, {f.m2.id, -1}});

  auto energy = tree_->EnergySignal(tenant_a_, f.m1);
  ASSERT_TRUE(energy && *energy);
  EXPECT_EQ((*energy)->id, import_signal);  // the first energy counter, not the power signal

  // M1: hourly counter samples over 40 hours, rising 1,500 Wh an hour from 10,000 Wh.
  std::vector<historian::StoredSample> samples;
  for (int h = 0; h < 40; ++h) {
    samples.push_back({import_signal, day0_ + h * kHourMs, 10000.0 + 1500.0 * h, Quality::kGood});
  }
  ASSERT_TRUE(store_->Append(samples).ok());
  const double m1 = (samples.back().value - samples.front().value) / 1000;
  // M2: three manual readings.
  const std::vector<std::pair<int64_t, double>> readings = {
      {day0_ + 2 * kHourMs, 100}, {day0_ + kDayMs + 6 * kHourMs, 112.5}, {day0_ + 2 * kDayMs, 130}};
  for (auto [ts, value] : readings) ASSERT_TRUE(tree_->AddReading(tenant_a_, f.m2.id, ts, value));
  const double m2 = readings.back().second - readings.front().second;

  EXPECT_NEAR(Total(f.m1.id), m1, 1e-9);
  EXPECT_NEAR(Total(f.m2.id), m2, 1e-9);
  EXPECT_NEAR(Total(f.board.id), m1, 1e-9);
  EXPECT_NEAR(Total(f.hall.id), m1 + m2, 1e-9);
  EXPECT_NEAR(Total(f.site.id), m1 + m2, 1e-9);  // V is below S but not summed into it
  EXPECT_NEAR(Total(f.v.id), m1 - m2, 1e-9);
  EXPECT_NEAR(Total(f.site.id, historian::Interval::kHour), m1 + m2, 1e-9);

  auto site = tree_->NodeConsumption(tenant_a_, f.site.id, historian::Interval::kDay, day0_,
                                     day0_ + 3 * kDayMs);
  ASSERT_TRUE(site);
  ASSERT_EQ(site->members.size(), 2u);
  EXPECT_EQ(site->members[0].node_id, f.m1.id);
  EXPECT_EQ(site->members[1].node_id, f.m2.id);
  // Day by day: M1's first day has 23 rises (no reading before it), the second the rest; M2's
  // reading of day 2 counts from the one of day 1, the one of day 3 from that of day 2.
  ASSERT_EQ(site->points.size(), 3u);
  EXPECT_EQ(site->points[0].first, day0_);
  EXPECT_NEAR(site->points[0].second, 23 * 1.5, 1e-9);
  EXPECT_NEAR(site->points[1].second, 16 * 1.5 + 12.5, 1e-9);
  EXPECT_NEAR(site->points[2].second, 17.5, 1e-9);

  auto virt = tree_->NodeConsumption(tenant_a_, f.v.id, historian::Interval::kDay, day0_,
                                     day0_ + 3 * kDayMs);
  ASSERT_TRUE(virt);
  ASSERT_EQ(virt->members.size(), 2u);
  EXPECT_EQ(virt->members[1].sign, -1);
  EXPECT_NEAR(virt->members[1].total_kwh, m2, 1e-9);
  EXPECT_FALSE(virt->signal.has_value());
  auto meter = tree_->NodeConsumption(tenant_a_, f.m2.id, historian::Interval::kDay, day0_,
                                      day0_ + 3 * kDayMs);
  ASSERT_TRUE(meter && meter->signal);
  EXPECT_EQ(meter->signal->unit, "kWh");
}

TEST_F(SiteTreeTest, ManualReadingsAreStoredAsManualAndNeverDecrease) {
  TreeNode m = Node(tenant_a_, std::nullopt, NodeKind::kMeter, "Water house", std::nullopt, true);
  ASSERT_TRUE(m.device_id.has_value());
  EXPECT_TRUE(m.manual);
  // The hidden connector that owns the manual meter's device is never listed.
  EXPECT_TRUE(catalog_->ListConnectors(tenant_a_)->empty());

  const int64_t t1 = day0_ + kHourMs;
  const int64_t t2 = day0_ + kDayMs;
  ASSERT_TRUE(tree_->AddReading(tenant_a_, m.id, t1, 500));
  ASSERT_TRUE(tree_->AddReading(tenant_a_, m.id, t2, 650.25));
  auto lower = tree_->AddReading(tenant_a_, m.id, t2 + kHourMs, 640);
  ASSERT_FALSE(lower);
  EXPECT_EQ(lower.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(lower.error().message().find("640"), std::string::npos) << lower.error().message();
  EXPECT_NE(lower.error().message().find("650.25"), std::string::npos) << lower.error().message();
  // Between two readings, it must lie between their values.
  auto higher = tree_->AddReading(tenant_a_, m.id, t1 + kHourMs, 700);
  ASSERT_FALSE(higher);
  EXPECT_EQ(higher.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(higher.error().message().find("650.25"), std::string::npos);
  EXPECT_TRUE(tree_->AddReading(tenant_a_, m.id, t1 + kHourMs, 600));
  EXPECT_EQ(tree_->AddReading(tenant_a_, m.id, t1, 500).error().code(), Code::kAlreadyExists);
  EXPECT_EQ(tree_->AddReading(tenant_a_, m.id, time_.now_ms + 1, 900).error().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(
      tree_->AddReading(tenant_a_, m.id, t2 + kHourMs, std::numeric_limits<double>::infinity())
          .error()
          .code(),
      Code::kInvalidArgument);
  EXPECT_EQ(tree_->AddReading(tenant_a_, m.id, t2 + kHourMs, std::nan("")).error().code(),
            Code::kInvalidArgument);
  // Only manual meters take readings, and only the tenant's own.
  TreeNode site = Node(tenant_a_, std::nullopt, NodeKind::kSite, "S");
  EXPECT_EQ(tree_->AddReading(tenant_a_, site.id, t1, 1).error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(tree_->AddReading(tenant_b_, m.id, t2 + kHourMs, 700).error().code(), Code::kNotFound);

  auto readings = tree_->Readings(tenant_a_, m.id, INT64_MIN, INT64_MAX);
  ASSERT_TRUE(readings);
  ASSERT_EQ(readings->size(), 3u);
  EXPECT_EQ((*readings)[1].value, 600);
  for (const Reading& r : *readings) EXPECT_EQ(r.quality, Quality::kManual);
  // In the historian as kManual samples of the meter's counter.
  auto signal = tree_->EnergySignal(tenant_a_, m);
  ASSERT_TRUE(signal && *signal);
  auto stored = store_->Range((*signal)->id, INT64_MIN, INT64_MAX, 100);
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), 3u);
  for (const auto& s : *stored) EXPECT_EQ(s.quality, Quality::kManual);
  EXPECT_NEAR(Total(m.id), 650.25 - 500, 1e-9);
}

}  // namespace
}  // namespace wattline::server
