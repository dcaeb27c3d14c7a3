#include "edge/durable_queue.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/testing/fault_injection_env.h"
#include "edge/queue_format.h"

namespace wattline::edge {
namespace {

namespace fs = std::filesystem;
using Records = std::vector<DurableQueue::Record>;

// Fails every Append after `fail_after_bytes` bytes, after writing half of the failing chunk:
// a full disk in the middle of a record.
class FullDiskEnv : public EnvWrapper {
 public:
  FullDiskEnv() : EnvWrapper(PosixEnv()) {}
  uint64_t fail_after_bytes = UINT64_MAX;

  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    auto f = target()->NewAppendableFile(path);
    if (!f) return f;
    return std::make_unique<File>(this, std::move(*f));
  }

 private:
  class File : public WritableFile {
   public:
    File(FullDiskEnv* env, std::unique_ptr<WritableFile> f) : env_(env), f_(std::move(f)) {}
    Status Append(std::string_view data) override {
      if (env_->written_ + data.size() > env_->fail_after_bytes) {
        (void)f_->Append(data.substr(0, data.size() / 2));
        return ResourceExhausted("disk full");
      }
      env_->written_ += data.size();
      return f_->Append(data);
    }
    Status Sync() override { return f_->Sync(); }
    Status Close() override { return f_->Close(); }

   private:
    FullDiskEnv* env_;
    std::unique_ptr<WritableFile> f_;
  };
  uint64_t written_ = 0;
};

class DurableQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "wattline-queue-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/q";
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<DurableQueue> Open(uint64_t segment_bytes = 4u << 20, Env* env = nullptr) {
    auto q = DurableQueue::Open(env ? env : PosixEnv(), QueueOptions{dir_, segment_bytes});
    EXPECT_TRUE(q) << q.error().ToString();
    return q ? std::move(*q) : nullptr;
  }

  static std::string Payload(uint64_t i) { return "reading-" + std::to_string(i); }

  // Appends `n` payloads numbered from `first`, returning the seqs.
  static std::vector<uint64_t> AppendN(DurableQueue& q, uint64_t first, uint64_t n) {
    std::vector<uint64_t> seqs;
    for (uint64_t i = first; i < first + n; ++i) {
      auto seq = q.Append(Payload(i));
      EXPECT_TRUE(seq) << seq.error().ToString();
      seqs.push_back(seq.value_or(0));
    }
    return seqs;
  }

  static Records ReadAll(DurableQueue& q, uint64_t after = 0) {
    auto r = q.ReadDurable(after, SIZE_MAX, SIZE_MAX);
    EXPECT_TRUE(r) << r.error().ToString();
    return r.value_or(Records{});
  }

  std::vector<std::string> SegmentFiles() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().extension() == ".seg") out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static void AppendBytes(const std::string& path, std::string_view bytes) {
    std::ofstream(path, std::ios::binary | std::ios::app) << bytes;
  }
  static void FlipByte(const std::string& path, uint64_t offset) {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(offset));
    f.put(static_cast<char>(c ^ 0x01));
  }
  static uint64_t RecordBytes(uint64_t i) { return kQueueRecordHeaderBytes + Payload(i).size(); }

  std::string root_;
  std::string dir_;
};

TEST_F(DurableQueueTest, AppendSyncReadAckRoundTrip) {
  auto q = Open();
  EXPECT_EQ(AppendN(*q, 1, 3), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(q->durable_seq(), 0u);
  EXPECT_TRUE(ReadAll(*q).empty());
  ASSERT_TRUE(q->Sync().ok());
  EXPECT_EQ(q->durable_seq(), 3u);
  Records r = ReadAll(*q);
  ASSERT_EQ(r.size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r[i].seq, i + 1);
    EXPECT_EQ(r[i].payload, Payload(i + 1));
  }
  ASSERT_TRUE(q->Ack(2).ok());
  EXPECT_EQ(q->acked_seq(), 2u);
  r = ReadAll(*q, q->acked_seq());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].seq, 3u);
  EXPECT_EQ(q->stats().pending_records, 1u);
}

TEST_F(DurableQueueTest, ReadDurableOmitsUnsyncedRecords) {
  auto q = Open();
  AppendN(*q, 1, 2);
  ASSERT_TRUE(q->Sync().ok());
  AppendN(*q, 3, 2);
  EXPECT_EQ(ReadAll(*q).size(), 2u);
  EXPECT_EQ(q->last_seq(), 4u);
  EXPECT_EQ(q->stats().pending_records, 4u);
}

TEST_F(DurableQueueTest, ReadDurableHonoursLimits) {
  auto q = Open();
  AppendN(*q, 1, 10);
  ASSERT_TRUE(q->Sync().ok());
  auto r = q->ReadDurable(0, 4, SIZE_MAX);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ(r->back().seq, 4u);
  // Payloads are 9 bytes ("reading-N"): 20 bytes fit two of them.
  r = q->ReadDurable(4, 100, 20);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(r->front().seq, 5u);
  // The first record comes back even when it alone is over max_bytes.
  r = q->ReadDurable(6, 100, 1);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->front().seq, 7u);
  r = q->ReadDurable(10, 100, SIZE_MAX);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
  r = q->ReadDurable(0, 0, SIZE_MAX);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
}

TEST_F(DurableQueueTest, ReadsInBatchesAcrossSegmentsAndFromAnyPosition) {
  auto q = Open(/*segment_bytes=*/200);
  AppendN(*q, 1, 100);
  ASSERT_TRUE(q->Sync().ok());
  EXPECT_GT(q->stats().segments, 10u);
  uint64_t after = 0;
  for (;;) {
    auto r = q->ReadDurable(after, 7, SIZE_MAX);
    ASSERT_TRUE(r);
    if (r->empty()) break;
    for (const auto& rec : *r) {
      ASSERT_EQ(rec.seq, after + 1);
      ASSERT_EQ(rec.payload, Payload(rec.seq));
      after = rec.seq;
    }
  }
  EXPECT_EQ(after, 100u);
  // Random access (no cursor to help): going back and forth.
  for (uint64_t from : {50u, 3u, 99u, 0u, 61u}) {
    auto r = q->ReadDurable(from, 2, SIZE_MAX);
    ASSERT_TRUE(r);
    ASSERT_FALSE(r->empty());
    EXPECT_EQ(r->front().seq, from + 1);
  }
}

TEST_F(DurableQueueTest, RollsSegmentsAtConfiguredSize) {
  const uint64_t per_record = RecordBytes(1);
  auto q = Open(/*segment_bytes=*/per_record * 3);
  AppendN(*q, 1, 7);
  ASSERT_TRUE(q->Sync().ok());
  auto files = SegmentFiles();
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(fs::path(files[0]).filename(), "000000000001.seg");
  EXPECT_EQ(fs::file_size(files[0]), per_record * 3);
  EXPECT_EQ(fs::file_size(files[2]), per_record);
  EXPECT_EQ(q->stats().segments, 3u);
  EXPECT_EQ(q->stats().disk_bytes, per_record * 7);
}

TEST_F(DurableQueueTest, RecordLargerThanSegmentGetsOneOfItsOwn) {
  auto q = Open(/*segment_bytes=*/64);
  ASSERT_TRUE(q->Append(std::string(1000, 'x')));
  ASSERT_TRUE(q->Append("small"));
  ASSERT_TRUE(q->Sync().ok());
  EXPECT_EQ(SegmentFiles().size(), 2u);
  Records r = ReadAll(*q);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].payload.size(), 1000u);
}

TEST_F(DurableQueueTest, AckDeletesOnlyFullyAckedSegments) {
  const uint64_t per_record = RecordBytes(1);
  auto q = Open(per_record * 3);
  AppendN(*q, 1, 7);  // segments: 1-3, 4-6, 7
  ASSERT_TRUE(q->Sync().ok());
  ASSERT_TRUE(q->Ack(5).ok());
  auto files = SegmentFiles();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(fs::path(files[0]).filename(), "000000000002.seg");
  EXPECT_EQ(q->stats().pending_records, 2u);
  ASSERT_TRUE(q->Ack(7).ok());  // the active segment goes too
  EXPECT_TRUE(SegmentFiles().empty());
  EXPECT_EQ(q->stats().segments, 0u);
  EXPECT_EQ(q->stats().pending_records, 0u);
  auto seq = q->Append("after");
  ASSERT_TRUE(seq);
  EXPECT_EQ(*seq, 8u);
  ASSERT_TRUE(q->Sync().ok());
  EXPECT_EQ(fs::path(SegmentFiles().at(0)).filename(), "000000000004.seg");
  EXPECT_EQ(ReadAll(*q, 7).at(0).payload, "after");
}

TEST_F(DurableQueueTest, AckBeyondDurableIsInvalidArgument) {
  auto q = Open();
  AppendN(*q, 1, 3);
  EXPECT_EQ(q->Ack(1).code(), Code::kInvalidArgument);
  ASSERT_TRUE(q->Sync().ok());
  EXPECT_EQ(q->Ack(4).code(), Code::kInvalidArgument);
  EXPECT_TRUE(q->Ack(3).ok());
  EXPECT_TRUE(q->Ack(2).ok());  // a stale ack is harmless
  EXPECT_EQ(q->acked_seq(), 3u);
}

TEST_F(DurableQueueTest, ReopenResumesAfterAckAndKeepsSeqsMonotonic) {
  {
    auto q = Open(RecordBytes(1) * 2);
    AppendN(*q, 1, 5);
    ASSERT_TRUE(q->Sync().ok());
    ASSERT_TRUE(q->Ack(3).ok());
  }
  auto q = Open(RecordBytes(1) * 2);
  EXPECT_EQ(q->acked_seq(), 3u);
  EXPECT_EQ(q->durable_seq(), 5u);
  Records r = ReadAll(*q, q->acked_seq());
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].seq, 4u);
  EXPECT_EQ(r[0].payload, Payload(4));
  auto seq = q->Append("next");
  ASSERT_TRUE(seq);
  EXPECT_EQ(*seq, 6u);
}

TEST_F(DurableQueueTest, SeqsContinueAfterEverythingWasAckedAndDeleted) {
  {
    auto q = Open();
    AppendN(*q, 1, 4);
    ASSERT_TRUE(q->Sync().ok());
    ASSERT_TRUE(q->Ack(4).ok());
  }
  EXPECT_TRUE(SegmentFiles().empty());
  auto q = Open();
  EXPECT_EQ(q->last_seq(), 4u);
  auto seq = q->Append("x");
  ASSERT_TRUE(seq);
  EXPECT_EQ(*seq, 5u);
}

TEST_F(DurableQueueTest, PowerCutKeepsExactlyTheSyncedRecords) {
  test::FaultInjectionEnv env;
  {
    auto q = Open(4u << 20, &env);
    AppendN(*q, 1, 20);
    ASSERT_TRUE(q->Sync().ok());
    AppendN(*q, 21, 15);
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  auto q = Open(4u << 20, &env);
  EXPECT_EQ(q->durable_seq(), 20u);
  Records r = ReadAll(*q);
  ASSERT_EQ(r.size(), 20u);
  for (uint64_t i = 0; i < 20; ++i) {
    EXPECT_EQ(r[i].seq, i + 1);
    EXPECT_EQ(r[i].payload, Payload(i + 1));
  }
  auto seq = q->Append("after the cut");
  ASSERT_TRUE(seq);
  EXPECT_EQ(*seq, 21u);
  ASSERT_TRUE(q->Sync().ok());
  EXPECT_EQ(ReadAll(*q, 20).at(0).payload, "after the cut");
}

TEST_F(DurableQueueTest, PowerCutBeforeAnySyncLeavesAnEmptyQueue) {
  test::FaultInjectionEnv env;
  {
    auto q = Open(4u << 20, &env);
    AppendN(*q, 1, 5);
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_TRUE(SegmentFiles().empty());
  auto q = Open(4u << 20, &env);
  EXPECT_TRUE(ReadAll(*q).empty());
  EXPECT_EQ(*q->Append("first"), 1u);
}

TEST_F(DurableQueueTest, PowerCutWithRolledSegmentsKeepsAPrefixWithoutGaps) {
  test::FaultInjectionEnv env;
  const uint64_t seg = RecordBytes(1) * 4;
  {
    auto q = Open(seg, &env);
    AppendN(*q, 1, 10);
    ASSERT_TRUE(q->Sync().ok());
    ASSERT_TRUE(q->Ack(6).ok());
    AppendN(*q, 11, 13);  // rolls sync the segments they leave; the last one is lost
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  auto q = Open(seg, &env);
  EXPECT_EQ(q->acked_seq(), 6u);
  Records r = ReadAll(*q, q->acked_seq());
  ASSERT_GE(r.size(), 4u);  // at least 7..10, which were synced
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(r[i].seq, 7 + i);
    EXPECT_EQ(r[i].payload, Payload(7 + i));
  }
  EXPECT_LT(r.back().seq, 23u);
  EXPECT_EQ(*q->Append("x"), r.back().seq + 1);
}

TEST_F(DurableQueueTest, PowerCutAfterAckKeepsTheAck) {
  test::FaultInjectionEnv env;
  {
    auto q = Open(4u << 20, &env);
    AppendN(*q, 1, 5);
    ASSERT_TRUE(q->Sync().ok());
    ASSERT_TRUE(q->Ack(4).ok());
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  auto q = Open(4u << 20, &env);
  EXPECT_EQ(q->acked_seq(), 4u);
  EXPECT_EQ(ReadAll(*q, 4).size(), 1u);
}

TEST_F(DurableQueueTest, TornTailIsCutAndReopenIsClean) {
  {
    auto q = Open();
    AppendN(*q, 1, 5);
    ASSERT_TRUE(q->Sync().ok());
  }
  std::string seg = SegmentFiles().at(0);
  fs::resize_file(seg, 4 * RecordBytes(1) + 10);  // record 5 cut inside its header... and payload
  {
    auto q = Open();
    EXPECT_EQ(fs::file_size(seg), 4 * RecordBytes(1));
    EXPECT_EQ(ReadAll(*q).size(), 4u);
    EXPECT_EQ(*q->Append("new"), 5u);
    ASSERT_TRUE(q->Sync().ok());
  }
  auto q = Open();
  Records r = ReadAll(*q);
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[4].payload, "new");
  EXPECT_EQ(fs::file_size(seg), 4 * RecordBytes(1));  // untouched by the second open
}

TEST_F(DurableQueueTest, GarbageAfterLastRecordIsCut) {
  {
    auto q = Open();
    AppendN(*q, 1, 3);
    ASSERT_TRUE(q->Sync().ok());
  }
  std::string seg = SegmentFiles().at(0);
  AppendBytes(seg, std::string(100, '\xab'));
  auto q = Open();
  EXPECT_EQ(fs::file_size(seg), 3 * RecordBytes(1));
  EXPECT_EQ(ReadAll(*q).size(), 3u);
}

TEST_F(DurableQueueTest, ZeroFilledTailIsCut) {
  // What some file systems leave after a power cut: the size grew, the data never arrived.
  {
    auto q = Open();
    AppendN(*q, 1, 3);
    ASSERT_TRUE(q->Sync().ok());
  }
  std::string seg = SegmentFiles().at(0);
  AppendBytes(seg, std::string(4096, '\0'));
  auto q = Open();
  EXPECT_EQ(fs::file_size(seg), 3 * RecordBytes(1));
  EXPECT_EQ(*q->Append("x"), 4u);
}

TEST_F(DurableQueueTest, FlippedByteInLastSegmentIsDetected) {
  {
    auto q = Open();
    AppendN(*q, 1, 5);
    ASSERT_TRUE(q->Sync().ok());
  }
  std::string seg = SegmentFiles().at(0);
  FlipByte(seg, 2 * RecordBytes(1) + kQueueRecordHeaderBytes + 2);  // payload of record 3
  auto q = Open();
  Records r = ReadAll(*q);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].seq, 2u);
  EXPECT_EQ(fs::file_size(seg), 2 * RecordBytes(1));
}

TEST_F(DurableQueueTest, FlippedByteInOlderSegmentSkipsRestOfThatSegmentOnly) {
  const uint64_t per_record = RecordBytes(1);
  {
    auto q = Open(per_record * 4);
    AppendN(*q, 1, 10);  // segments: 1-4, 5-8, 9-10
    ASSERT_TRUE(q->Sync().ok());
  }
  auto files = SegmentFiles();
  ASSERT_EQ(files.size(), 3u);
  FlipByte(files[1], per_record + 5);  // the length field of record 6
  auto q = Open(per_record * 4);
  Records r = ReadAll(*q);
  std::vector<uint64_t> seqs;
  for (const auto& rec : r) seqs.push_back(rec.seq);
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2, 3, 4, 5, 9, 10}));
  EXPECT_EQ(fs::file_size(files[1]), 4 * per_record);  // older segments are never truncated
  EXPECT_EQ(*q->Append("x"), 11u);
}

TEST_F(DurableQueueTest, DamageAfterOpenIsDetectedOnRead) {
  auto q = Open(RecordBytes(1) * 4);
  AppendN(*q, 1, 6);  // segments: 1-4, 5-6
  ASSERT_TRUE(q->Sync().ok());
  FlipByte(SegmentFiles().at(0), RecordBytes(1) * 2 + kQueueRecordHeaderBytes);  // record 3
  std::vector<uint64_t> seqs;
  for (const auto& rec : ReadAll(*q)) seqs.push_back(rec.seq);
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2, 5, 6}));
}

TEST_F(DurableQueueTest, DamageInActiveSegmentAfterOpenStartsANewSegment) {
  auto q = Open();
  AppendN(*q, 1, 3);
  ASSERT_TRUE(q->Sync().ok());
  FlipByte(SegmentFiles().at(0), RecordBytes(1) + kQueueRecordHeaderBytes);  // record 2
  EXPECT_EQ(ReadAll(*q).size(), 1u);
  AppendN(*q, 4, 1);
  ASSERT_TRUE(q->Sync().ok());
  EXPECT_EQ(SegmentFiles().size(), 2u);
  Records r = ReadAll(*q, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].seq, 4u);
}

TEST_F(DurableQueueTest, AckFileIsReplacedAtomically) {
  auto q = Open();
  AppendN(*q, 1, 3);
  ASSERT_TRUE(q->Sync().ok());
  ASSERT_TRUE(q->Ack(2).ok());
  EXPECT_FALSE(fs::exists(dir_ + "/ack.tmp"));
  EXPECT_EQ(fs::file_size(dir_ + "/ack"), kAckFileBytes);
  ASSERT_TRUE(q->Ack(3).ok());
  EXPECT_FALSE(fs::exists(dir_ + "/ack.tmp"));
}

TEST_F(DurableQueueTest, StaleAckTmpIsIgnoredAndRemoved) {
  {
    auto q = Open();
    AppendN(*q, 1, 5);
    ASSERT_TRUE(q->Sync().ok());
    ASSERT_TRUE(q->Ack(2).ok());
    ASSERT_TRUE(q->Ack(4).ok());
  }
  // A crash after writing ack.tmp for a later ack but before the rename.
  fs::copy_file(dir_ + "/ack", dir_ + "/ack.tmp");
  FlipByte(dir_ + "/ack.tmp", 6);
  auto q = Open();
  EXPECT_EQ(q->acked_seq(), 4u);
  EXPECT_FALSE(fs::exists(dir_ + "/ack.tmp"));
}

TEST_F(DurableQueueTest, DamagedAckFileMeansResendEverything) {
  {
    auto q = Open();
    AppendN(*q, 1, 5);
    ASSERT_TRUE(q->Sync().ok());
    ASSERT_TRUE(q->Ack(2).ok());
  }
  FlipByte(dir_ + "/ack", 7);
  auto q = Open();
  EXPECT_EQ(q->acked_seq(), 0u);
  EXPECT_EQ(ReadAll(*q).size(), 5u);  // one segment: nothing was deleted by the ack
  EXPECT_EQ(*q->Append("x"), 6u);
}

TEST_F(DurableQueueTest, IgnoresUnrelatedFiles) {
  ASSERT_TRUE(PosixEnv()->CreateDirIfMissing(dir_).ok());
  AppendBytes(dir_ + "/notes.txt", "hello");
  AppendBytes(dir_ + "/12.seg", "not ours");
  auto q = Open();
  EXPECT_EQ(*q->Append("x"), 1u);
}

TEST_F(DurableQueueTest, PayloadOverLimitIsInvalidArgument) {
  auto q = Open();
  auto seq = q->Append(std::string(kMaxQueuePayloadBytes + 1, 'x'));
  ASSERT_FALSE(seq);
  EXPECT_EQ(seq.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(*q->Append("ok"), 1u);
}

TEST_F(DurableQueueTest, FailedAppendStopsWritesUntilReopen) {
  FullDiskEnv env;
  {
    auto q = Open(4u << 20, &env);
    AppendN(*q, 1, 3);
    ASSERT_TRUE(q->Sync().ok());
    env.fail_after_bytes = 3 * RecordBytes(1) + 5;
    auto seq = q->Append(Payload(4));
    ASSERT_FALSE(seq);
    EXPECT_EQ(seq.error().code(), Code::kResourceExhausted);
    // The half-written record poisons the segment: no more writes even with space again, but
    // reading and acking go on.
    env.fail_after_bytes = UINT64_MAX;
    EXPECT_EQ(q->Append(Payload(5)).error().code(), Code::kResourceExhausted);
    EXPECT_EQ(q->Sync().code(), Code::kResourceExhausted);
    EXPECT_EQ(ReadAll(*q).size(), 3u);
    EXPECT_TRUE(q->Ack(2).ok());
  }
  auto q = Open(4u << 20, &env);  // cuts the torn record
  EXPECT_EQ(q->acked_seq(), 2u);
  EXPECT_EQ(*q->Append(Payload(4)), 4u);
  ASSERT_TRUE(q->Sync().ok());
  EXPECT_EQ(ReadAll(*q, 2).size(), 2u);
}

TEST_F(DurableQueueTest, DirectoryWithTrailingSlashSurvivesPowerCut) {
  test::FaultInjectionEnv env;
  {
    auto q = DurableQueue::Open(&env, QueueOptions{dir_ + "/"});
    ASSERT_TRUE(q);
    AppendN(**q, 1, 3);
    ASSERT_TRUE((*q)->Sync().ok());
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  auto q = Open(4u << 20, &env);
  EXPECT_EQ(ReadAll(*q).size(), 3u);
}

TEST_F(DurableQueueTest, ConcurrentAppendAndUplink) {
  auto q = Open(/*segment_bytes=*/1024);
  constexpr uint64_t kTotal = 2000;
  std::thread poller([&] {
    for (uint64_t i = 1; i <= kTotal; ++i) {
      ASSERT_TRUE(q->Append(Payload(i)));
      if (i % 10 == 0) {
        ASSERT_TRUE(q->Sync().ok());
      }
    }
  });
  uint64_t after = 0;
  while (after < kTotal) {
    auto r = q->ReadDurable(after, 64, SIZE_MAX);
    ASSERT_TRUE(r);
    for (const auto& rec : *r) {
      ASSERT_EQ(rec.seq, after + 1);
      ASSERT_EQ(rec.payload, Payload(rec.seq));
      after = rec.seq;
    }
    if (r->empty()) {
      std::this_thread::yield();
    } else {
      ASSERT_TRUE(q->Ack(after).ok());
    }
  }
  poller.join();
  EXPECT_EQ(q->stats().pending_records, 0u);
  EXPECT_LE(q->stats().segments, 1u);
}

}  // namespace
}  // namespace wattline::edge
