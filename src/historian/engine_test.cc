#include "historian/engine.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "historian/sqlite_sample_store.h"

namespace wattline::historian {
namespace {
namespace fs = std::filesystem;

constexpr int64_t kWindow = 60'000;         // one-minute blocks keep the tests small
constexpr int64_t kT0 = 1'735'689'600'000;  // 2025-01-01T00:00:00Z, a window boundary

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("wattline-engine-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override {
    engine_.reset();
    fs::remove_all(dir_);
  }

  void Open(uint64_t checkpoint_bytes = 256u << 20) {
    engine_.reset();
    EngineOptions o;
    o.dir = dir_.string();
    o.block_window_ms = kWindow;
    o.checkpoint_wal_bytes = checkpoint_bytes;
    auto e = Engine::Open(PosixEnv(), o);
    ASSERT_TRUE(e) << e.error().ToString();
    engine_ = std::move(*e);
  }
  // Drops the engine as a crash would: the WAL is left as it is.
  void Crash() {
    engine_->SkipCheckpointAtCloseForTesting();
    engine_.reset();
  }

  std::vector<StoredSample> All(int64_t signal) {
    auto r = engine_->Range(signal, std::numeric_limits<int64_t>::min() / 2,
                            std::numeric_limits<int64_t>::max() / 2, SIZE_MAX);
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : std::vector<StoredSample>{};
  }

  // historian.db with a blocks table of the five first columns (`options`: " WITHOUT ROWID" for
  // the very first layout) holding `samples` (one signal) as one block.
  void WriteFirstLayoutBlocks(const char* options, int page_size,
                              const std::vector<StoredSample>& samples) {
    fs::create_directories(dir_);
    auto db = SqliteDb::Open((dir_ / "historian.db").string(), page_size);
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)
                    ->Exec(std::string("CREATE TABLE blocks (signal_id INTEGER NOT NULL, start_ms"
                                       " INTEGER NOT NULL, end_ms INTEGER NOT NULL, count INTEGER"
                                       " NOT NULL, data BLOB NOT NULL, PRIMARY KEY (signal_id,"
                                       " start_ms))") +
                           options)
                    .ok());
    std::vector<int64_t> ts;
    std::vector<double> values;
    std::vector<Quality> quality;
    for (const auto& s : samples) {
      ts.push_back(s.ts_ms);
      values.push_back(s.value);
      quality.push_back(s.quality);
    }
    auto data = EncodeStoredBlock(ts, values, quality);
    ASSERT_TRUE(data);
    auto st = (*db)->Prepare("INSERT INTO blocks VALUES (?1, ?2, ?3, ?4, ?5)");
    ASSERT_TRUE(st);
    st->Bind(1, samples.front().signal_id)
        .Bind(2, ts.front())
        .Bind(3, ts.back())
        .Bind(4, static_cast<int64_t>(ts.size()))
        .BindBlob(5, *data);
    ASSERT_TRUE(st->Run().ok());
  }

 public:
  // n samples of `signal` at 1 s from `t0`, values from a seeded walk of float32s.
  static std::vector<StoredSample> Series(int64_t signal, int64_t t0, int n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> step(0.0f, 0.5f);
    float v = 230.0f;
    std::vector<StoredSample> out;
    for (int i = 0; i < n; ++i) {
      v += step(rng);
      out.push_back({signal, t0 + i * 1000LL, static_cast<double>(v), Quality::kGood});
    }
    return out;
  }

  static void ExpectSame(const std::vector<StoredSample>& got,
                         const std::vector<StoredSample>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].signal_id, want[i].signal_id) << i;
      EXPECT_EQ(got[i].ts_ms, want[i].ts_ms) << i;
      EXPECT_EQ(std::bit_cast<uint64_t>(got[i].value), std::bit_cast<uint64_t>(want[i].value))
          << i << ": " << got[i].value << " vs " << want[i].value;
      EXPECT_EQ(got[i].quality, want[i].quality) << i;
    }
  }

  fs::path dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, SamplesComeBackFromHeadsBlocksAndAfterReopen) {
  Open();
  auto a = Series(1, kT0, 200, 1);  // 3 full windows and part of a fourth
  auto b = Series(2, kT0 + 30'000, 100, 2);
  // Interleaved, in batches of 10 as connectors send them.
  for (size_t i = 0; i < 200; i += 10) {
    std::vector<StoredSample> batch(a.begin() + i, a.begin() + i + 10);
    if (i < 100) batch.insert(batch.end(), b.begin() + i, b.begin() + i + 10);
    ASSERT_TRUE(engine_->Append(batch).ok());
  }
  EngineStats st = engine_->stats();
  EXPECT_GT(st.blocks, 0u);               // finished windows were sealed
  EXPECT_EQ(st.head_samples, 20u + 10u);  // the open windows stay in memory
  ExpectSame(All(1), a);
  ExpectSame(All(2), b);
  auto latest = engine_->Latest(std::vector<int64_t>{1, 2, 3});
  ASSERT_TRUE(latest);
  ASSERT_EQ(latest->size(), 2u);
  // A range across the head and the blocks, and a limit.
  auto part = engine_->Range(1, kT0 + 55'000, kT0 + 185'000, SIZE_MAX);
  ASSERT_TRUE(part);
  ExpectSame(*part, std::vector<StoredSample>(a.begin() + 55, a.begin() + 185));
  auto limited = engine_->Range(1, kT0 + 55'000, kT0 + 185'000, 7);
  ASSERT_TRUE(limited);
  ExpectSame(*limited, std::vector<StoredSample>(a.begin() + 55, a.begin() + 62));
  for (auto [from, to] : {std::pair{kT0, kT0 + 200'000}, std::pair{kT0 + 1'500, kT0 + 179'000},
                          std::pair{kT0 + 61'000, kT0 + 62'000}, std::pair{kT0 - 5'000, kT0}}) {
    auto n = engine_->Count(1, from, to);
    ASSERT_TRUE(n);
    int64_t want = 0;
    for (const auto& s : a) want += s.ts_ms >= from && s.ts_ms < to;
    EXPECT_EQ(*n, want) << from - kT0 << ".." << to - kT0;
  }

  // A clean close checkpoints: the reopened engine replays nothing and has everything.
  Open();
  EXPECT_EQ(engine_->stats().replayed_samples, 0u);
  EXPECT_EQ(engine_->stats().head_samples, 0u);
  ExpectSame(All(1), a);
  ExpectSame(All(2), b);
  latest = engine_->Latest(std::vector<int64_t>{1});
  ASSERT_TRUE(latest);
  ASSERT_EQ(latest->size(), 1u);
  EXPECT_EQ(latest->front().ts_ms, a.back().ts_ms);
  EXPECT_EQ(latest->front().value, a.back().value);
}

TEST_F(EngineTest, ACrashLosesNothingThatAppendAcknowledged) {
  Open();
  auto a = Series(1, kT0, 150, 3);
  for (size_t i = 0; i < a.size(); i += 25) {
    ASSERT_TRUE(engine_->Append(std::span(a).subspan(i, 25)).ok());
  }
  Crash();
  Open();
  EXPECT_EQ(engine_->stats().replayed_samples, 150u);  // the whole WAL since the last checkpoint
  ExpectSame(All(1), a);                               // sealed windows merged again, no doubles
  // The replay was sealed at once: another crash replays nothing.
  Crash();
  Open();
  EXPECT_EQ(engine_->stats().replayed_samples, 0u);
  ExpectSame(All(1), a);
  // A crash right after a checkpoint: the WAL is empty, the blocks hold everything.
  ASSERT_TRUE(engine_->Checkpoint().ok());
  Crash();
  Open();
  EXPECT_EQ(engine_->stats().replayed_samples, 0u);
  ExpectSame(All(1), a);
  auto n = engine_->Count(1, kT0, kT0 + 150'000);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 150);
}

TEST_F(EngineTest, TheFirstSampleStoredAtATimeWinsAndLateDataIsMerged) {
  Open();
  auto a = Series(1, kT0, 180, 4);
  // Every other second first, then the rest late (after their windows were sealed).
  std::vector<StoredSample> even, odd;
  for (size_t i = 0; i < a.size(); ++i) (i % 2 ? odd : even).push_back(a[i]);
  ASSERT_TRUE(engine_->Append(even).ok());
  ASSERT_TRUE(engine_->Append(odd).ok());
  ExpectSame(All(1), a);
  // Replays with other values change nothing: in the head, in blocks, after a checkpoint.
  std::vector<StoredSample> again = a;
  for (auto& s : again) s.value = -1;
  ASSERT_TRUE(engine_->Append(again).ok());
  ExpectSame(All(1), a);
  ASSERT_TRUE(engine_->Checkpoint().ok());
  ASSERT_TRUE(engine_->Append(again).ok());
  ExpectSame(All(1), a);
  Crash();
  Open();
  ExpectSame(All(1), a);
}

TEST_F(EngineTest, EdgeValuesAndQualityRoundTripBitForBit) {
  Open();
  const double values[] = {0.0,
                           -0.0,
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::bit_cast<double>(uint64_t{0x7ff8000000000123}),  // NaN, payload
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::max(),
                           -std::numeric_limits<double>::max(),
                           1e300,
                           230.1f,
                           4294967295.0,
                           0.1};
  std::vector<StoredSample> in;
  int64_t t = kT0 - 3 * kWindow;  // negative offsets from the window: Floor, not truncation
  for (double v : values) {
    in.push_back({5, t, v, in.size() % 3 == 0 ? Quality::kManual : Quality::kGood});
    t += 7'777;
  }
  in.back().quality = Quality::kInvalid;
  ASSERT_TRUE(engine_->Append(in).ok());
  ASSERT_TRUE(engine_->Checkpoint().ok());
  ExpectSame(All(5), in);
  // Whole-number counters and float32 readings of one window each get their narrow kind.
  std::vector<StoredSample> counter, f32;
  for (int i = 0; i < 60; ++i) {
    counter.push_back({6, kT0 + i * 1000LL, 4294967290.0 + i, Quality::kGood});
    f32.push_back({7, kT0 + i * 1000LL, static_cast<double>(230.0f + 0.1f * static_cast<float>(i)),
                   Quality::kGood});
  }
  ASSERT_TRUE(engine_->Append(counter).ok());
  ASSERT_TRUE(engine_->Append(f32).ok());
  Open();
  ExpectSame(All(6), counter);
  ExpectSame(All(7), f32);
}

TEST_F(EngineTest, AWindowWithMoreSamplesThanABlockHoldsIsSplit) {
  EngineOptions o;
  o.dir = dir_.string();
  o.block_window_ms = 24 * 3'600'000LL;
  auto e = Engine::Open(PosixEnv(), o);
  ASSERT_TRUE(e);
  engine_ = std::move(*e);
  std::vector<StoredSample> in;
  for (int i = 0; i < 70'000; ++i) in.push_back({9, kT0 + i * 1000LL, i * 0.5, Quality::kGood});
  ASSERT_TRUE(engine_->Append(in).ok());
  ASSERT_TRUE(engine_->Checkpoint().ok());
  EXPECT_EQ(engine_->stats().blocks, 2u);
  EXPECT_EQ(engine_->stats().block_samples, 70'000u);
  ExpectSame(All(9), in);
  auto n = engine_->Count(9, kT0, kT0 + 86'400'000);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 70'000);
}

TEST_F(EngineTest, CheckpointsKeepTheWalSmall) {
  Open(/*checkpoint_bytes=*/64 << 10);
  auto a = Series(1, kT0, 20'000, 6);
  for (size_t i = 0; i < a.size(); i += 500) {
    ASSERT_TRUE(engine_->Append(std::span(a).subspan(i, 500)).ok());
  }
  ASSERT_TRUE(engine_->Checkpoint().ok());
  EngineStats st = engine_->stats();
  EXPECT_GT(st.checkpoints, 0u);
  EXPECT_LT(st.wal_bytes, (64u << 10) + 500u * 20u);
  // After a checkpoint SQLite's own write-ahead file is empty.
  std::error_code ec;
  EXPECT_EQ(fs::file_size(dir_ / "historian.db-wal", ec), 0u);
  // Compact: float32 meter values at 1 s take a few bytes per sample, timestamps included.
  EXPECT_LT(static_cast<double>(st.block_bytes) / static_cast<double>(st.block_samples), 4.0);
  ExpectSame(All(1), a);
}

TEST_F(EngineTest, AnOldRowStoreIsImportedOnceAndRenamed) {
  const fs::path old_file = dir_ / "samples.db";
  fs::create_directories(dir_);
  auto a = Series(1, kT0, 150, 7);
  a[3].quality = Quality::kManual;
  {
    auto rows = SqliteSampleStore::Open(old_file.string());
    ASSERT_TRUE(rows);
    ASSERT_TRUE((*rows)->Append(a).ok());
  }
  Open();
  ASSERT_TRUE(engine_->Append(std::span(a).subspan(0, 10)).ok());  // some are there already
  ASSERT_TRUE(ImportRowStore(old_file, *engine_).ok());
  ExpectSame(All(1), a);
  EXPECT_FALSE(fs::exists(old_file));
  EXPECT_TRUE(fs::exists(dir_ / "samples.db.imported"));
  // Nothing left to import: a second start does nothing.
  ASSERT_TRUE(ImportRowStore(old_file, *engine_).ok());
  ExpectSame(All(1), a);
}

// Rollups: a day of 1 s data in Berlin, 1-hour blocks, 15-minute minor rollups.
class EngineRollupTest : public EngineTest {
 protected:
  void OpenBerlin() {
    engine_.reset();
    EngineOptions o;
    o.dir = dir_.string();
    o.zone = "Europe/Berlin";
    auto e = Engine::Open(PosixEnv(), o);
    ASSERT_TRUE(e) << e.error().ToString();
    engine_ = std::move(*e);
  }
  // A growing counter with a reset, sampled every `step_ms` over [t0, t0 + n * step_ms).
  static std::vector<StoredSample> Counter(int64_t signal, int64_t t0, int n, int64_t step_ms) {
    std::vector<StoredSample> out;
    double v = 1000;
    for (int i = 0; i < n; ++i) {
      v = i == n / 3 ? 5 : v + 0.25 * (i % 7);
      out.push_back({signal, t0 + i * step_ms, v, Quality::kGood});
    }
    return out;
  }
  static std::vector<Sample> AsSamples(const std::vector<StoredSample>& in) {
    std::vector<Sample> out;
    for (const auto& s : in) out.push_back({s.ts_ms, s.value});
    return out;
  }
  static void ExpectAgree(const Aggregate& got, const Aggregate& want) {
    EXPECT_EQ(got.start_ms, want.start_ms);
    EXPECT_EQ(got.end_ms, want.end_ms);
    EXPECT_EQ(got.count, want.count);
    EXPECT_EQ(got.min, want.min);
    EXPECT_EQ(got.max, want.max);
    EXPECT_EQ(got.first, want.first);
    EXPECT_EQ(got.last, want.last);
    EXPECT_EQ(got.min_ts_ms, want.min_ts_ms);
    EXPECT_EQ(got.max_ts_ms, want.max_ts_ms);
    EXPECT_NEAR(got.mean, want.mean, 1e-9 * std::fabs(want.mean));
    ASSERT_TRUE(got.consumption && want.consumption);
    EXPECT_NEAR(*got.consumption, *want.consumption, 1e-6);
  }
};

// 2025-10-26, the 25-hour day in Berlin: 2025-10-25T22:00Z .. 2025-10-26T23:00Z.
constexpr int64_t kBerlinLongDay = 1'761'429'600'000;
constexpr int64_t kHourMs = 3'600'000;

TEST_F(EngineRollupTest, StoredRollupsAgreeWithTheRawDataOnADstDay) {
  OpenBerlin();
  // 10 s samples over the long day and an hour either side.
  auto c = Counter(1, kBerlinLongDay - kHourMs, 27 * 360, 10'000);
  for (size_t i = 0; i < c.size(); i += 360) {
    ASSERT_TRUE(engine_->Append(std::span(c).subspan(i, std::min<size_t>(360, c.size() - i))).ok());
  }
  RollupOptions ro;
  ro.counter = true;
  ro.max_hold_ms = 15 * 60'000;
  auto raw = AsSamples(c);
  // The day: 25 hours, as one Compute over the raw samples says (before = the sample at 23:59:50).
  auto day = engine_->Aggregates(1, Interval::kDay, kBerlinLongDay, kBerlinLongDay + 1);
  ASSERT_TRUE(day) << day.error().ToString();
  ASSERT_EQ(day->size(), 1u);
  EXPECT_EQ(day->front().end_ms - day->front().start_ms, 25 * kHourMs);
  auto lo = std::lower_bound(raw.begin(), raw.end(), kBerlinLongDay,
                             [](const Sample& s, int64_t t) { return s.ts_ms < t; });
  auto hi = std::lower_bound(raw.begin(), raw.end(), kBerlinLongDay + 25 * kHourMs,
                             [](const Sample& s, int64_t t) { return s.ts_ms < t; });
  Aggregate want = Compute(kBerlinLongDay, kBerlinLongDay + 25 * kHourMs,
                           std::span(&*lo, static_cast<size_t>(hi - lo)), *(lo - 1), *hi, ro);
  ExpectAgree(day->front(), want);
  EXPECT_EQ(day->front().count, 25 * 360);
  // 100 minor intervals that day, each as Compute says; hours: 25.
  auto minors =
      engine_->Aggregates(1, Interval::kMinor, kBerlinLongDay, kBerlinLongDay + 25 * kHourMs);
  ASSERT_TRUE(minors);
  ASSERT_EQ(minors->size(), 100u);
  auto hours =
      engine_->Aggregates(1, Interval::kHour, kBerlinLongDay, kBerlinLongDay + 25 * kHourMs);
  ASSERT_TRUE(hours);
  EXPECT_EQ(hours->size(), 25u);
  // Daily min/max from the 2-hour means lie between the day's extremes.
  auto by_2h = engine_->Aggregates(1, Interval::kDay, kBerlinLongDay, kBerlinLongDay + 1,
                                   Interval::kTwoHours);
  ASSERT_TRUE(by_2h);
  ASSERT_EQ(by_2h->size(), 1u);
  EXPECT_GE(by_2h->front().min, want.min);
  EXPECT_LE(by_2h->front().max, want.max);
  EXPECT_LT(by_2h->front().max - by_2h->front().min, want.max - want.min);
  EXPECT_EQ(by_2h->front().count, want.count);
  EXPECT_FALSE(
      engine_->Aggregates(1, Interval::kHour, kBerlinLongDay, kBerlinLongDay + 1, Interval::kDay));
  // The same after a restart, from the stored rollups.
  OpenBerlin();
  day = engine_->Aggregates(1, Interval::kDay, kBerlinLongDay, kBerlinLongDay + 1);
  ASSERT_TRUE(day);
  ASSERT_EQ(day->size(), 1u);
  ExpectAgree(day->front(), want);
}

TEST_F(EngineRollupTest, LateDataUpdatesTheRollups) {
  OpenBerlin();
  auto c = Counter(2, kBerlinLongDay, 6 * 360, 10'000);  // six hours
  std::vector<StoredSample> early, late;
  for (const auto& s : c) {
    (s.ts_ms >= kBerlinLongDay + kHourMs && s.ts_ms < kBerlinLongDay + 2 * kHourMs ? late : early)
        .push_back(s);
  }
  ASSERT_TRUE(engine_->Append(early).ok());
  ASSERT_TRUE(engine_->Checkpoint().ok());
  auto before = engine_->Aggregates(2, Interval::kDay, kBerlinLongDay, kBerlinLongDay + 1);
  ASSERT_TRUE(before);
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ(before->front().count, 5 * 360);
  // The missing hour arrives hours later (a connector's backlog).
  ASSERT_TRUE(engine_->Append(late).ok());
  ASSERT_TRUE(engine_->Checkpoint().ok());
  auto after = engine_->Aggregates(2, Interval::kDay, kBerlinLongDay, kBerlinLongDay + 1);
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ(after->front().count, 6 * 360);
  RollupOptions ro;
  ro.counter = true;
  ro.max_hold_ms = 15 * 60'000;
  auto raw = AsSamples(c);
  ExpectAgree(after->front(), Compute(kBerlinLongDay, kBerlinLongDay + 25 * kHourMs, raw,
                                      std::nullopt, std::nullopt, ro));
}

// The value that holds into the next window comes from the seal that just wrote it or from the
// signal's newest sealed window, not from reading blocks back: whatever the order of arrival
// (late data, checkpoints, restarts, gaps longer and shorter than the hold), every minor
// rollup must equal Compute over the raw samples.
TEST_F(EngineRollupTest, MinorRollupsEqualComputeWhateverTheOrderOfArrival) {
  OpenBerlin();
  std::mt19937 rng(11);
  std::vector<StoredSample> all;
  int64_t t = kBerlinLongDay;
  double v = 50;
  while (t < kBerlinLongDay + 8 * kHourMs) {
    all.push_back({4, t, v, Quality::kGood});
    v += std::uniform_real_distribution<double>(-3, 3)(rng);
    // Mostly 7 s apart, sometimes gaps of 5 to 40 minutes (across the 15-minute hold).
    t += rng() % 50 == 0 ? 60'000 * (5 + static_cast<int64_t>(rng() % 36)) : 7'000;
  }
  // Batches of random size; one in five is held back and arrives after the rest.
  std::vector<std::vector<StoredSample>> now, later;
  for (size_t i = 0; i < all.size();) {
    const size_t n = std::min<size_t>(1 + rng() % 400, all.size() - i);
    (rng() % 5 == 0 ? later : now).emplace_back(all.begin() + i, all.begin() + i + n);
    i += n;
  }
  int step = 0;
  for (auto* list : {&now, &later}) {
    for (const auto& batch : *list) {
      ASSERT_TRUE(engine_->Append(batch).ok());
      if (++step % 3 == 0) {
        ASSERT_TRUE(engine_->Checkpoint().ok());
      }
      if (step % 5 == 0) OpenBerlin();
    }
  }
  ASSERT_TRUE(engine_->Checkpoint().ok());
  RollupOptions ro;
  ro.counter = true;
  ro.max_hold_ms = 15 * 60'000;
  auto raw = AsSamples(all);
  auto got = engine_->Aggregates(4, Interval::kMinor, kBerlinLongDay, t + kHourMs);
  ASSERT_TRUE(got) << got.error().ToString();
  size_t checked = 0;
  for (const Aggregate& a : *got) {
    auto lo = std::lower_bound(raw.begin(), raw.end(), a.start_ms,
                               [](const Sample& s, int64_t x) { return s.ts_ms < x; });
    auto hi = std::lower_bound(raw.begin(), raw.end(), a.end_ms,
                               [](const Sample& s, int64_t x) { return s.ts_ms < x; });
    std::optional<Sample> before, after;
    if (lo != raw.begin()) before = *(lo - 1);
    if (hi != raw.end()) after = *hi;
    SCOPED_TRACE(a.start_ms);
    Aggregate want = Compute(a.start_ms, a.end_ms, std::span(&*lo, static_cast<size_t>(hi - lo)),
                             before, after, ro);
    if (want.count == 0) {
      // Only held into: count 0, the held value's time-weighted mean.
      EXPECT_EQ(a.count, 0);
      EXPECT_NEAR(a.mean, want.mean, 1e-9 * std::fabs(want.mean));
    } else {
      ExpectAgree(a, want);
    }
    ++checked;
  }
  EXPECT_GE(checked, 8u * 4u - 8u);  // gaps leave a few intervals out
}

TEST_F(EngineRollupTest, ChartKeepsThePeaksAndUsesRollupsForWideBuckets) {
  OpenBerlin();
  // Three days at 1 s with one spike up and one down.
  std::vector<StoredSample> s;
  const int n = 3 * 86'400;
  for (int i = 0; i < n; ++i) {
    double v = 230 + std::sin(i / 5000.0);
    if (i == 100'000) v = 400;
    if (i == 200'000) v = -50;
    s.push_back({3, kBerlinLongDay + i * 1000LL, v, Quality::kGood});
  }
  for (size_t i = 0; i < s.size(); i += 10'000) {
    ASSERT_TRUE(
        engine_->Append(std::span(s).subspan(i, std::min<size_t>(10'000, s.size() - i))).ok());
  }
  const int64_t to = kBerlinLongDay + n * 1000LL;
  for (size_t points : {size_t{200}, size_t{2000}}) {
    auto chart = engine_->Chart(3, kBerlinLongDay + 777, to, points);
    ASSERT_TRUE(chart) << chart.error().ToString();
    EXPECT_LE(chart->size(), points);
    EXPECT_GT(chart->size(), points / 2);
    double mx = -1e9, mn = 1e9;
    for (size_t i = 0; i < chart->size(); ++i) {
      mx = std::max(mx, (*chart)[i].value);
      mn = std::min(mn, (*chart)[i].value);
      if (i > 0) {
        EXPECT_LE((*chart)[i - 1].ts_ms, (*chart)[i].ts_ms);
      }
    }
    EXPECT_EQ(mx, 400);
    EXPECT_EQ(mn, -50);
  }
  // Narrow buckets come from raw samples.
  auto narrow = engine_->Chart(3, kBerlinLongDay, kBerlinLongDay + 600'000, 100);
  ASSERT_TRUE(narrow);
  EXPECT_EQ(narrow->size(), 100u);
}

TEST_F(EngineTest, ADamagedBlockIsSetAsideAndTheWindowTakesNewSamples) {
  Open();
  auto a = Series(1, kT0, 120, 8);  // two windows
  ASSERT_TRUE(engine_->Append(a).ok());
  ASSERT_TRUE(engine_->Checkpoint().ok());
  engine_.reset();
  {
    auto db = SqliteDb::Open((dir_ / "historian.db").string());
    ASSERT_TRUE(db);
    auto st = (*db)->Prepare("UPDATE blocks SET data = X'0102030405' WHERE start_ms = ?1");
    ASSERT_TRUE(st);
    st->Bind(1, kT0);
    ASSERT_TRUE(st->Run().ok());
  }
  Open();
  // Reading the damaged window fails loudly; the other window is fine.
  EXPECT_FALSE(engine_->Range(1, kT0, kT0 + kWindow, SIZE_MAX));
  auto second = engine_->Range(1, kT0 + kWindow, kT0 + 2 * kWindow, SIZE_MAX);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->size(), 60u);
  // A late sample for the damaged window: the block is set aside (kept), the window goes on.
  std::vector<StoredSample> late = {{1, kT0 + 500, 1.5, Quality::kGood}};
  ASSERT_TRUE(engine_->Append(late).ok());
  ASSERT_TRUE(engine_->Checkpoint().ok());
  EXPECT_EQ(engine_->stats().damaged_blocks, 1u);
  auto first = engine_->Range(1, kT0, kT0 + kWindow, SIZE_MAX);
  ASSERT_TRUE(first) << first.error().ToString();
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ(first->front().value, 1.5);
  engine_.reset();
  auto db = SqliteDb::Open((dir_ / "historian.db").string());
  ASSERT_TRUE(db);
  auto kept = (*db)->Prepare("SELECT COUNT(*) FROM damaged_blocks");
  ASSERT_TRUE(kept);
  ASSERT_TRUE(kept->Step().value_or(false));
  EXPECT_EQ(kept->Int(0), 1);
}

TEST_F(EngineTest, BlocksOfTheFirstLayoutAreMovedIntoTheRowidTable) {
  // historian.db as the first engine version wrote it: blocks in a WITHOUT ROWID table.
  auto a = Series(3, kT0, 90, 4);
  ASSERT_NO_FATAL_FAILURE(WriteFirstLayoutBlocks(" WITHOUT ROWID", 0, a));
  Open();
  ExpectSame(All(3), a);
  // Still there after a merge into the moved block and a reopen.
  std::vector<StoredSample> late = {{3, kT0 + 500, 7.0, Quality::kGood}};
  ASSERT_TRUE(engine_->Append(late).ok());
  Open();
  EXPECT_EQ(All(3).size(), 91u);
  engine_.reset();
  auto db = SqliteDb::Open((dir_ / "historian.db").string());
  ASSERT_TRUE(db);
  auto sql = (*db)->Prepare("SELECT sql FROM sqlite_schema WHERE name = 'blocks'");
  ASSERT_TRUE(sql);
  ASSERT_TRUE(sql->Step().value_or(false));
  EXPECT_EQ(sql->Text(0).find("WITHOUT ROWID"), std::string::npos) << sql->Text(0);
}

// historian.db as the engine wrote it before references: a rowid blocks table without
// ref_mask. The column is added at open; old blocks read, merge and reopen as before.
TEST_F(EngineTest, BlocksWithoutTheReferenceColumnGainIt) {
  auto a = Series(3, kT0, 50, 6);
  ASSERT_NO_FATAL_FAILURE(WriteFirstLayoutBlocks("", 65536, a));
  Open();
  ExpectSame(All(3), a);
  std::vector<StoredSample> late = {{3, kT0 + 500, 7.0, Quality::kGood}};
  ASSERT_TRUE(engine_->Append(late).ok());
  ASSERT_TRUE(engine_->Checkpoint().ok());
  Open();
  EXPECT_EQ(All(3).size(), 51u);
  engine_.reset();
  auto db = SqliteDb::Open((dir_ / "historian.db").string());
  ASSERT_TRUE(db);
  auto col =
      (*db)->Prepare("SELECT COUNT(*) FROM pragma_table_info('blocks') WHERE name = 'ref_mask'");
  ASSERT_TRUE(col);
  ASSERT_TRUE(col->Step().value_or(false));
  EXPECT_EQ(col->Int(0), 1);
}

// A seal whose transaction fails half-way (here: a trigger refuses the rollups after the blocks
// were written) must leave its samples in the head, for queries and for the next checkpoint.
TEST_F(EngineTest, AFailedSealKeepsItsSamplesInTheHead) {
  Open();
  auto run = [&](const char* sql) {
    auto db = SqliteDb::Open((dir_ / "historian.db").string());
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->Exec(sql).ok()) << sql;
  };
  run("CREATE TRIGGER refuse BEFORE INSERT ON rollups BEGIN SELECT RAISE(ABORT, 'refused'); END");
  auto a = Series(5, kT0, 150, 9);       // three windows: the first two are sealed by this Append
  ASSERT_TRUE(engine_->Append(a).ok());  // the samples are in the WAL; the seal is retried
  ExpectSame(All(5), a);
  EXPECT_EQ(engine_->stats().blocks, 0u);
  run("DROP TRIGGER refuse");
  ASSERT_TRUE(engine_->Checkpoint().ok());
  EXPECT_GE(engine_->stats().blocks, 3u);
  ExpectSame(All(5), a);
  Open();
  ExpectSame(All(5), a);
}

// Four signals of one meter, second by second as a connector delivers them: 1..3 noisy float32
// values, 4 their sum as the meter computes it (float32 of the exact sum).
std::vector<StoredSample> MeterWithASum(int64_t t0, int seconds, uint32_t seed) {
  std::vector<std::vector<StoredSample>> parts;
  for (int64_t id = 1; id <= 3; ++id) {
    parts.push_back(EngineTest::Series(id, t0, seconds, seed + static_cast<uint32_t>(id)));
  }
  std::vector<StoredSample> out;
  for (int i = 0; i < seconds; ++i) {
    double sum = 0;
    for (const auto& p : parts) {
      out.push_back(p[static_cast<size_t>(i)]);
      sum += p[static_cast<size_t>(i)].value;
    }
    out.push_back({4, parts[0][static_cast<size_t>(i)].ts_ms,
                   static_cast<double>(static_cast<float>(sum)), Quality::kGood});
  }
  return out;
}

std::vector<StoredSample> OfSignal(const std::vector<StoredSample>& in, int64_t id) {
  std::vector<StoredSample> out;
  for (const auto& s : in) {
    if (s.signal_id == id) out.push_back(s);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const StoredSample& a, const StoredSample& b) { return a.ts_ms < b.ts_ms; });
  return out;
}

TEST_F(EngineTest, ASumIsStoredAsItsDifferenceFromTheSignalsItSumsAndReadsBackBitForBit) {
  Open();
  auto in = MeterWithASum(kT0, 300, 20);  // five windows
  for (size_t i = 0; i < in.size(); i += 97) {
    std::span<const StoredSample> part(in.data() + i, std::min<size_t>(97, in.size() - i));
    ASSERT_TRUE(engine_->Append(part).ok());
  }
  ASSERT_TRUE(engine_->Checkpoint().ok());
  const EngineStats st = engine_->stats();
  EXPECT_EQ(st.blocks, 20u);
  EXPECT_GE(st.referenced_blocks, 4u);  // signal 4's windows at least
  for (int64_t id = 1; id <= 4; ++id) ExpectSame(All(id), OfSignal(in, id));
  Open();
  for (int64_t id = 1; id <= 4; ++id) ExpectSame(All(id), OfSignal(in, id));
  auto agg = engine_->Aggregates(4, Interval::kMinor, kT0, kT0 + 300'000);
  ASSERT_TRUE(agg) << agg.error().ToString();
  ASSERT_FALSE(agg->empty());
  EXPECT_EQ(agg->front().count, 300);
}

TEST_F(EngineTest, LateDataInAReferencedWindowKeepsEveryBlockReadable) {
  Open();
  auto in = MeterWithASum(kT0, 180, 30);
  ASSERT_TRUE(engine_->Append(in).ok());
  ASSERT_TRUE(engine_->Checkpoint().ok());
  ASSERT_GT(engine_->stats().referenced_blocks, 0u);
  // Samples between the seconds, for the referenced signals and the sum, one at a time.
  std::vector<StoredSample> late;
  for (int64_t id = 1; id <= 4; ++id) {
    for (int64_t k = 0; k < 180; k += 7) {
      late.push_back({id, kT0 + k * 1000 + 500, -1.0 * id, Quality::kManual});
    }
  }
  for (const auto& s : late) {
    ASSERT_TRUE(engine_->Append(std::span(&s, 1)).ok());
    if (s.ts_ms % 3 == 0) {
      ASSERT_TRUE(engine_->Checkpoint().ok());
    }
  }
  ASSERT_TRUE(engine_->Checkpoint().ok());
  in.insert(in.end(), late.begin(), late.end());
  for (int64_t id = 1; id <= 4; ++id) ExpectSame(All(id), OfSignal(in, id));
  Open();
  for (int64_t id = 1; id <= 4; ++id) ExpectSame(All(id), OfSignal(in, id));
}

TEST_F(EngineTest, RetentionOfAReferencedSignalReencodesTheBlocksThatUseIt) {
  Open();
  auto in = MeterWithASum(kT0, 600, 40);  // ten windows
  ASSERT_TRUE(engine_->Append(in).ok());
  ASSERT_TRUE(engine_->Checkpoint().ok());
  const uint64_t referenced = engine_->stats().referenced_blocks;
  ASSERT_GT(referenced, 0u);
  // Signals 1..3 keep 5 minutes of raw data, the sum everything. Reopened first: the engine
  // knows no signal's codec yet, so the blocks set free are searched, not stored raw.
  for (int64_t id = 1; id <= 3; ++id) ASSERT_TRUE(engine_->SetRetention(id, {300'000, 0}).ok());
  Open();
  const int64_t now = kT0 + 600'000;
  auto deleted = engine_->ApplyRetention(now);
  ASSERT_TRUE(deleted) << deleted.error().ToString();
  EXPECT_EQ(*deleted, 15u);  // windows 0..4 of signals 1..3
  EXPECT_LT(engine_->stats().referenced_blocks, referenced);
  ExpectSame(All(4), OfSignal(in, 4));
  EXPECT_EQ(All(1).size(), 300u);
  {
    auto db = SqliteDb::Open((dir_ / "historian.db").string());
    ASSERT_TRUE(db);
    auto st = (*db)->Prepare(
        "SELECT MAX(LENGTH(data)), COUNT(*) FROM blocks WHERE signal_id = 4 AND start_ms < ?1");
    ASSERT_TRUE(st);
    st->Bind(1, now - 300'000);
    ASSERT_TRUE(st->Step().value_or(false));
    EXPECT_EQ(st->Int(1), 5);
    EXPECT_LT(st->Int(0), 60 * 4);  // compressed: not even raw float32
  }
  Open();
  ExpectSame(All(4), OfSignal(in, 4));
}

TEST_F(EngineTest, ADamagedReferenceIsReportedAsDataLossOfTheBlocksThatUseIt) {
  Open();
  auto in = MeterWithASum(kT0, 60, 50);
  ASSERT_TRUE(engine_->Append(in).ok());
  ASSERT_TRUE(engine_->Checkpoint().ok());
  ASSERT_GE(engine_->stats().referenced_blocks, 1u);
  int64_t ref_signal = 0;
  {
    auto db = SqliteDb::Open((dir_ / "historian.db").string());
    ASSERT_TRUE(db);
    auto st = (*db)->Prepare(
        "SELECT signal_id, ref_mask FROM blocks WHERE signal_id = 4 AND ref_mask != 0");
    ASSERT_TRUE(st);
    ASSERT_TRUE(st->Step().value_or(false));
    const int64_t mask = st->Int(1);
    ref_signal = st->Int(0) - std::countr_zero(static_cast<uint64_t>(mask));
    auto damage = (*db)->Prepare("UPDATE blocks SET data = X'0102030405' WHERE signal_id = ?1");
    ASSERT_TRUE(damage);
    damage->Bind(1, ref_signal);
    ASSERT_TRUE(damage->Run().ok());
  }
  auto r = engine_->Range(4, kT0, kT0 + 60'000, SIZE_MAX);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kDataLoss);
  EXPECT_NE(r.error().message().find("reference signal " + std::to_string(ref_signal)),
            std::string::npos)
      << r.error().message();
}

TEST(StoredBlockTest, DamagedBytesAreRefusedNotCrashedOn) {
  std::vector<int64_t> ts = {1, 2, 3};
  std::vector<double> v = {1.5, 2.5, 3.5};
  std::vector<Quality> q = {Quality::kGood, Quality::kGood, Quality::kManual};
  auto block = EncodeStoredBlock(ts, v, q);
  ASSERT_TRUE(block);
  auto back = DecodeStoredBlock(*block);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->quality, q);
  for (size_t cut = 0; cut < block->size(); ++cut) {
    auto r = DecodeStoredBlock(std::string_view(*block).substr(0, cut));
    EXPECT_FALSE(r) << cut;
    if (!r) {
      EXPECT_EQ(r.error().code(), Code::kDataLoss);
    }
  }
  for (size_t i = 0; i < block->size(); ++i) {
    std::string bad = *block;
    bad[i] = static_cast<char>(bad[i] ^ 0x40);
    auto r = DecodeStoredBlock(bad);  // refused, or (quality byte) a different valid block
    if (r) {
      EXPECT_EQ(r->ts_ms.size(), 3u);
    }
  }
}

TEST(StoredBlockTest, AReferencedBlockRoundTripsAndRefusesDamage) {
  std::vector<int64_t> ts = {1000, 2000, 3000};
  std::vector<double> residuals = {0, -1, 5};
  std::vector<Quality> q = {Quality::kGood, Quality::kGood, Quality::kManual};
  BlockReferences refs{{2, 5}, {0.5, 1.0, -1.0}};
  auto block = EncodeReferencedBlock(ts, residuals, q, refs);
  ASSERT_TRUE(block) << block.error().ToString();
  auto back = DecodeStoredBlock(*block);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->ts_ms, ts);
  EXPECT_EQ(back->values, residuals);
  EXPECT_EQ(back->quality, q);
  EXPECT_EQ(back->refs.offsets, refs.offsets);
  EXPECT_EQ(back->refs.coeffs, refs.coeffs);
  for (size_t cut = 0; cut < block->size(); ++cut) {
    auto r = DecodeStoredBlock(std::string_view(*block).substr(0, cut));
    ASSERT_FALSE(r) << cut;
    EXPECT_EQ(r.error().code(), Code::kDataLoss);
  }
  EXPECT_FALSE(EncodeReferencedBlock(ts, residuals, q, BlockReferences{{0}, {0, 1}}));
  EXPECT_FALSE(EncodeReferencedBlock(ts, residuals, q, BlockReferences{{33}, {0, 1}}));
  EXPECT_FALSE(
      EncodeReferencedBlock(ts, residuals, q, BlockReferences{{1, 2, 3, 4}, {0, 1, 1, 1, 1}}));
  EXPECT_FALSE(EncodeReferencedBlock(ts, residuals, q, BlockReferences{{1}, {0}}));
}

TEST_F(EngineRollupTest, RetentionDeletesOldRawDataInStepsAndKeepsRollups) {
  engine_.reset();
  EngineOptions o;
  o.dir = dir_.string();
  o.zone = "Europe/Berlin";
  o.compaction_step_rows = 5;
  auto e = Engine::Open(PosixEnv(), o);
  ASSERT_TRUE(e);
  engine_ = std::move(*e);
  // Three days of one sample a minute for two signals.
  std::vector<StoredSample> in;
  for (int64_t t = 0; t < 3 * 1440; ++t) {
    in.push_back({1, kBerlinLongDay + t * 60'000, 1.0 * t, Quality::kGood});
    in.push_back({2, kBerlinLongDay + t * 60'000, 2.0 * t, Quality::kGood});
  }
  ASSERT_TRUE(engine_->Append(in).ok());
  ASSERT_TRUE(engine_->Checkpoint().ok());
  EXPECT_FALSE(engine_->SetRetention(std::nullopt, {-1, 0}).ok());
  // Raw data for a day by default; signal 2 keeps its raw data (and its rollups) forever.
  ASSERT_TRUE(engine_->SetRetention(std::nullopt, {86'400'000, 0}).ok());
  ASSERT_TRUE(engine_->SetRetention(2, {0, 0}).ok());
  auto r1 = engine_->GetRetention(1);
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->raw_ms, 86'400'000);
  const int64_t now = kBerlinLongDay + 3 * 86'400'000LL;
  auto deleted = engine_->ApplyRetention(now);
  ASSERT_TRUE(deleted) << deleted.error().ToString();
  EXPECT_EQ(*deleted, 48u);  // signal 1's hourly blocks of the first two days
  EXPECT_GT(engine_->stats().compaction_steps, 48u / 5);
  auto old_raw = engine_->Range(1, kBerlinLongDay, now - 86'400'000, SIZE_MAX);
  ASSERT_TRUE(old_raw);
  EXPECT_TRUE(old_raw->empty());
  auto recent = engine_->Range(1, now - 86'400'000, now, SIZE_MAX);
  ASSERT_TRUE(recent);
  EXPECT_EQ(recent->size(), 1440u);
  auto kept = engine_->Range(2, kBerlinLongDay, now, SIZE_MAX);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->size(), 3u * 1440u);
  // The rollups of the deleted days are still there (rollups are kept forever here).
  auto days = engine_->Aggregates(1, Interval::kDay, kBerlinLongDay, now);
  ASSERT_TRUE(days);
  ASSERT_GE(days->size(), 3u);
  EXPECT_EQ(days->front().count, 25 * 60);  // the 25-hour day, one sample a minute
  // Rollups expire too when asked: nothing of signal 1 before the last day is left.
  ASSERT_TRUE(engine_->SetRetention(1, {86'400'000, 86'400'000}).ok());
  ASSERT_TRUE(engine_->ApplyRetention(now));
  auto minors = engine_->Aggregates(1, Interval::kMinor, kBerlinLongDay, now - 86'400'000);
  ASSERT_TRUE(minors);
  EXPECT_TRUE(minors->empty());
  minors = engine_->Aggregates(1, Interval::kMinor, now - 86'400'000, now);
  ASSERT_TRUE(minors);
  EXPECT_EQ(minors->size(), 96u);
  // A second run finds nothing more to do.
  auto again = engine_->ApplyRetention(now);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);
}

// The fuzzer's seeds (testdata/historian): the first byte picks the decoder; names say whether
// the rest must decode.
TEST(HistorianFormatsTest, SeedCorpusDecodesAsNamed) {
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(WATTLINE_HISTORIAN_TESTDATA)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".bin" || name.rfind("any_", 0) == 0) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(bytes.empty()) << name;
    const std::string_view rest = std::string_view(bytes).substr(1);
    bool ok = false;
    if (bytes[0] == 0) ok = DecodeStoredBlock(rest).has_value();
    if (bytes[0] == 1) ok = DecodeWalRecord(rest).has_value();
    if (bytes[0] == 2) ok = DecodeRollups(1'735'689'600'000, rest).has_value();
    const bool bad =
        name.find("bad") != std::string::npos || name.find("truncated") != std::string::npos ||
        name.find("mismatch") != std::string::npos || name.find("too_large") != std::string::npos;
    EXPECT_EQ(ok, !bad) << name;
    ++checked;
  }
  EXPECT_GE(checked, 17);
  auto wal = DecodeWalRecord(std::string_view("\x01\x03", 2));
  EXPECT_FALSE(wal);
}

}  // namespace
}  // namespace wattline::historian
