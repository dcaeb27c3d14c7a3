#include "server/live_hub.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

namespace wattline::server {
namespace {

using nlohmann::json;

// A client's connection: keeps every frame it was given.
struct FakeClient {
  std::vector<LiveHub::Frame> frames;

  LiveHub::Sink sink() {
    return [this](LiveHub::Frame f) { frames.push_back(std::move(f)); };
  }
  // The signal ids of every "values" frame received, in order.
  std::vector<int64_t> value_ids() const {
    std::vector<int64_t> out;
    for (const auto& f : frames) {
      json j = json::parse(*f);
      if (j["type"] != "values") continue;
      for (const auto& v : j["values"]) out.push_back(v[0].get<int64_t>());
    }
    return out;
  }
  std::vector<std::string> errors() const {
    std::vector<std::string> out;
    for (const auto& f : frames) {
      json j = json::parse(*f);
      if (j["type"] == "error") out.push_back(j["message"].get<std::string>());
    }
    return out;
  }
};

// Signals 1..9 belong to the tenant; everything else is unknown to it.
Result<std::vector<int64_t>> TenantSignals(std::span<const int64_t> ids) {
  std::vector<int64_t> unknown;
  for (int64_t id : ids) {
    if (id < 1 || id > 9) unknown.push_back(id);
  }
  return unknown;
}

std::vector<LiveValue> Batch(std::initializer_list<int64_t> ids, int64_t ts_ms = 1000) {
  std::vector<LiveValue> out;
  for (int64_t id : ids) out.push_back({id, ts_ms, id * 1.5, Quality::kGood});
  return out;
}

TEST(LiveHubTest, ClientWithoutSubscriptionGetsEveryValueOfItsTenantOnly) {
  LiveHub hub;
  FakeClient a, b, other;
  hub.Join(1, a.sink());
  hub.Join(1, b.sink());
  hub.Join(2, other.sink());
  hub.Publish(1, Batch({1, 2, 3}));
  EXPECT_EQ(a.value_ids(), (std::vector<int64_t>{1, 2, 3}));
  ASSERT_EQ(b.frames.size(), 1u);
  EXPECT_TRUE(other.frames.empty());
  // Both clients got the one frame built for the whole batch, not a copy each.
  EXPECT_EQ(a.frames[0].get(), b.frames[0].get());
  EXPECT_EQ(hub.shared_frames(), 1u);
  EXPECT_EQ(hub.filtered_frames(), 0u);
}

TEST(LiveHubTest, FrameCarriesTheValuesAsDocumented) {
  LiveHub hub;
  FakeClient a;
  hub.Join(1, a.sink());
  std::vector<LiveValue> values = {
      {7, 1763766000000, 12345.6, Quality::kGood},
      {8, 1763766000000, std::numeric_limits<double>::quiet_NaN(), Quality::kInvalid},
      {9, 1763765999000, -0.25, Quality::kGood},
      {10, 1763766001500, 3, Quality::kManual}};
  hub.Publish(1, values);
  ASSERT_EQ(a.frames.size(), 1u);
  // [signal_id, value, dt_ms, quality], dt_ms and quality left out when 0 and "good".
  json expected = json::parse(R"({"type": "values", "ts_ms": 1763766000000, "values": [
      [7, 12345.6], [8, null, 0, "invalid"], [9, -0.25, -1000], [10, 3.0, 1500, "manual"]
  ]})");
  EXPECT_EQ(json::parse(*a.frames[0]), expected);
}

TEST(LiveHubTest, SubscribeFiltersTheValues) {
  LiveHub hub;
  FakeClient all, some;
  hub.Join(1, all.sink());
  uint64_t c = hub.Join(1, some.sink());
  hub.OnMessage(c, R"({"type": "subscribe", "signals": [2, 4]})", TenantSignals);
  EXPECT_TRUE(some.frames.empty());  // a valid subscribe is not answered
  hub.Publish(1, Batch({1, 2, 3, 4, 5}));
  EXPECT_EQ(some.value_ids(), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(all.value_ids(), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(hub.filtered_frames(), 1u);
  // A batch without any subscribed signal sends the client nothing.
  hub.Publish(1, Batch({1, 3}));
  EXPECT_EQ(some.frames.size(), 1u);
  // A second subscribe adds to the first.
  hub.OnMessage(c, R"({"type": "subscribe", "signals": [3]})", TenantSignals);
  hub.Publish(1, Batch({1, 3, 4}));
  EXPECT_EQ(some.value_ids(), (std::vector<int64_t>{2, 4, 3, 4}));
}

TEST(LiveHubTest, SubscriptionCoveringTheBatchSharesTheWholeFrame) {
  LiveHub hub;
  FakeClient a, b;
  uint64_t ca = hub.Join(1, a.sink());
  uint64_t cb = hub.Join(1, b.sink());
  hub.OnMessage(ca, R"({"type": "subscribe", "signals": [1, 2, 3, 4]})", TenantSignals);
  hub.OnMessage(cb, R"({"type": "subscribe", "signals": [1, 2, 3]})", TenantSignals);
  hub.Publish(1, Batch({1, 2, 3}));
  ASSERT_EQ(a.frames.size(), 1u);
  ASSERT_EQ(b.frames.size(), 1u);
  EXPECT_EQ(a.frames[0].get(), b.frames[0].get());
  EXPECT_EQ(hub.filtered_frames(), 0u);
}

TEST(LiveHubTest, UnsubscribeRemovesSignals) {
  LiveHub hub;
  FakeClient a;
  uint64_t c = hub.Join(1, a.sink());
  hub.OnMessage(c, R"({"type": "subscribe", "signals": [1, 2, 3]})", TenantSignals);
  hub.OnMessage(c, R"({"type": "unsubscribe", "signals": [2]})", TenantSignals);
  hub.Publish(1, Batch({1, 2, 3}));
  EXPECT_EQ(a.value_ids(), (std::vector<int64_t>{1, 3}));
  hub.OnMessage(c, R"({"type": "unsubscribe", "signals": [1, 3]})", TenantSignals);
  hub.Publish(1, Batch({1, 2, 3}));
  EXPECT_EQ(a.frames.size(), 1u);
  EXPECT_TRUE(a.errors().empty());
}

TEST(LiveHubTest, UnsubscribeBeforeAnySubscribeTakesSignalsOutOfEverything) {
  LiveHub hub;
  FakeClient a;
  uint64_t c = hub.Join(1, a.sink());
  hub.OnMessage(c, R"({"type": "unsubscribe", "signals": [2]})", TenantSignals);
  hub.Publish(1, Batch({1, 2, 3}));
  EXPECT_EQ(a.value_ids(), (std::vector<int64_t>{1, 3}));
}

TEST(LiveHubTest, OtherTenantsAndUnknownIdsAreRefusedAndNamed) {
  LiveHub hub;
  FakeClient a;
  uint64_t c = hub.Join(1, a.sink());
  hub.OnMessage(c, R"({"type": "subscribe", "signals": [2, 42, 77]})", TenantSignals);
  ASSERT_EQ(a.errors().size(), 1u);
  EXPECT_NE(a.errors()[0].find("42, 77"), std::string::npos) << a.errors()[0];
  // The valid id of the message counts; the refused ones are not delivered.
  hub.Publish(1, Batch({2, 42, 77}));
  EXPECT_EQ(a.value_ids(), (std::vector<int64_t>{2}));
}

TEST(LiveHubTest, SubscriptionOfOnlyForeignIdsDeliversNothing) {
  LiveHub hub;
  FakeClient a;
  uint64_t c = hub.Join(1, a.sink());
  hub.OnMessage(c, R"({"type": "subscribe", "signals": [42]})", TenantSignals);
  hub.Publish(1, Batch({1, 42}));
  EXPECT_TRUE(a.value_ids().empty());
  EXPECT_EQ(a.errors().size(), 1u);
}

TEST(LiveHubTest, MalformedMessagesAreAnsweredAndChangeNothing) {
  LiveHub hub;
  FakeClient a;
  uint64_t c = hub.Join(1, a.sink());
  const std::string too_many = [] {
    std::string s = R"({"type": "subscribe", "signals": [)";
    for (int i = 0; i < 10001; ++i) s += i ? ",1" : "1";
    return s + "]}";
  }();
  const std::string too_large =
      R"({"type": "subscribe", "signals": [1], "pad": ")" + std::string(70000, 'x') + "\"}";
  const std::vector<std::string> bad = {
      "not json",
      "",
      "[1, 2]",
      R"({"type": "subscribe"})",
      R"({"type": "subscribe", "signals": 3})",
      R"({"type": "subscribe", "signals": ["3"]})",
      R"({"type": "subscribe", "signals": [1.5]})",
      R"({"type": "subscribe", "signals": [18446744073709551615]})",
      R"({"type": "subscribe", "signals": [[1]]})",
      R"({"type": 7, "signals": [1]})",
      R"({"type": "resubscribe", "signals": [1]})",
      R"({"type": "subscribe", "signals": [1)",
      too_many,
      too_large,
  };
  for (const std::string& msg : bad) {
    size_t before = a.errors().size();
    hub.OnMessage(c, msg, TenantSignals);
    EXPECT_EQ(a.errors().size(), before + 1) << msg.substr(0, 80);
  }
  EXPECT_NE(a.errors()[12].find("at most 10000"), std::string::npos) << a.errors()[12];
  EXPECT_NE(a.errors()[13].find("too large"), std::string::npos) << a.errors()[13];
  // Still subscribed to everything.
  hub.Publish(1, Batch({1, 2}));
  EXPECT_EQ(a.value_ids(), (std::vector<int64_t>{1, 2}));
}

TEST(LiveHubTest, CheckFailureRefusesTheWholeMessage) {
  LiveHub hub;
  FakeClient a;
  uint64_t c = hub.Join(1, a.sink());
  hub.OnMessage(c, R"({"type": "subscribe", "signals": [1]})",
                [](std::span<const int64_t>) -> Result<std::vector<int64_t>> {
                  return Fail(Unavailable("database is locked"));
                });
  ASSERT_EQ(a.errors().size(), 1u);
  hub.Publish(1, Batch({1, 2}));
  EXPECT_EQ(a.value_ids(), (std::vector<int64_t>{1, 2}));
}

TEST(LiveHubTest, LeaveStopsDeliveryAndUnknownClientsAreIgnored) {
  LiveHub hub;
  FakeClient a;
  uint64_t c = hub.Join(1, a.sink());
  EXPECT_EQ(hub.subscribers(1), 1u);
  hub.Leave(c);
  hub.Leave(c);
  EXPECT_EQ(hub.subscribers(1), 0u);
  hub.OnMessage(c, R"({"type": "subscribe", "signals": [1]})", TenantSignals);
  hub.Publish(1, Batch({1}));
  EXPECT_TRUE(a.frames.empty());
}

TEST(LiveHubTest, ManyClientsWithFullSubscriptionsShareOneFrame) {
  LiveHub hub;
  std::vector<FakeClient> clients(200);
  std::string all = R"({"type": "subscribe", "signals": [1,2,3,4,5,6,7,8,9]})";
  for (auto& client : clients) hub.OnMessage(hub.Join(1, client.sink()), all, TenantSignals);
  hub.Publish(1, Batch({1, 2, 3, 4, 5, 6, 7, 8, 9}));
  std::set<const std::string*> distinct;
  for (const auto& client : clients) {
    ASSERT_EQ(client.frames.size(), 1u);
    distinct.insert(client.frames[0].get());
  }
  EXPECT_EQ(distinct.size(), 1u);
}

TEST(LiveHubTest, StoredBatchesAreCountedPerTenant) {
  LiveHub hub;
  EXPECT_EQ(hub.stored_batches(1), 0u);
  hub.Stored(1);
  hub.Publish(1, Batch({1}));  // publishing alone stores nothing
  hub.Stored(1);
  EXPECT_EQ(hub.stored_batches(1), 2u);
  EXPECT_EQ(hub.stored_batches(2), 0u);
}

}  // namespace
}  // namespace wattline::server
