#include "historian/sqlite_sample_store.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace wattline::historian {
namespace {

class SqliteSampleStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("wl-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path() const { return (dir_ / "samples.db").string(); }
  std::filesystem::path dir_;
};

TEST_F(SqliteSampleStoreTest, AppendsAndReadsRangeInOrder) {
  auto store = SqliteSampleStore::Open(Path());
  ASSERT_TRUE(store) << store.error().ToString();
  std::vector<StoredSample> in = {{1, 3000, 3.0}, {1, 1000, 1.0}, {1, 2000, 2.0}, {2, 1000, 9.0}};
  ASSERT_TRUE((*store)->Append(in).ok());
  auto r = (*store)->Range(1, 1000, 3000, 100);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].ts_ms, 1000);
  EXPECT_EQ((*r)[1].value, 2.0);
}

TEST_F(SqliteSampleStoreTest, DuplicateAppendIsIgnored) {
  auto store = SqliteSampleStore::Open(Path());
  ASSERT_TRUE(store);
  std::vector<StoredSample> in = {{1, 1000, 1.0}, {1, 2000, 2.0}};
  ASSERT_TRUE((*store)->Append(in).ok());
  ASSERT_TRUE((*store)->Append(in).ok());
  auto n = (*store)->Count(1, 0, 10000);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 2);
}

TEST_F(SqliteSampleStoreTest, LatestKeepsNewestEvenWhenOlderArrivesLater) {
  auto store = SqliteSampleStore::Open(Path());
  ASSERT_TRUE(store);
  std::vector<StoredSample> newer = {{7, 5000, 5.0}};
  std::vector<StoredSample> older = {{7, 4000, 4.0}};
  ASSERT_TRUE((*store)->Append(newer).ok());
  ASSERT_TRUE((*store)->Append(older).ok());
  int64_t ids[] = {7, 8};
  auto latest = (*store)->Latest(ids);
  ASSERT_TRUE(latest);
  ASSERT_EQ(latest->size(), 1u);
  EXPECT_EQ((*latest)[0].ts_ms, 5000);
  EXPECT_EQ((*latest)[0].value, 5.0);
}

TEST_F(SqliteSampleStoreTest, SurvivesReopen) {
  {
    auto store = SqliteSampleStore::Open(Path());
    ASSERT_TRUE(store);
    std::vector<StoredSample> in = {{1, 1000, 1.5, Quality::kInvalid}};
    ASSERT_TRUE((*store)->Append(in).ok());
  }
  auto store = SqliteSampleStore::Open(Path());
  ASSERT_TRUE(store);
  auto r = (*store)->Range(1, 0, 2000, 10);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].quality, Quality::kInvalid);
}

TEST(DownsampleMinMaxTest, KeepsPeaksOfEachBucket) {
  std::vector<StoredSample> pts;
  for (int i = 0; i < 1000; ++i)
    pts.push_back({1, i * 1000, i == 437 ? 1e6 : (i == 712 ? -1e6 : 1.0)});
  auto out = DownsampleMinMax(pts, 0, 1000 * 1000, 20);
  EXPECT_LE(out.size(), 20u);
  bool has_max = false, has_min = false;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].value == 1e6) has_max = true;
    if (out[i].value == -1e6) has_min = true;
    if (i > 0) {
      EXPECT_LT(out[i - 1].ts_ms, out[i].ts_ms);
    }
  }
  EXPECT_TRUE(has_max);
  EXPECT_TRUE(has_min);
}

TEST(DownsampleMinMaxTest, SmallInputIsUnchanged) {
  std::vector<StoredSample> pts = {{1, 0, 1}, {1, 1, 2}};
  EXPECT_EQ(DownsampleMinMax(pts, 0, 10, 100).size(), 2u);
}

}  // namespace
}  // namespace wattline::historian
