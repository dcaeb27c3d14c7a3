#include "edge/durable_queue.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/testing/fault_injection_env.h"
#include "edge/queue_format.h"
#include "wire/coding.h"
#include "wire/crc32c.h"

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

// Records the offsets the queue reads segment files from.
class ReadOffsetsEnv : public EnvWrapper {
 public:
  ReadOffsetsEnv() : EnvWrapper(PosixEnv()) {}
  Result<std::string> ReadFileRange(const std::string& path, uint64_t offset, size_t n) override {
    offsets.push_back(offset);
    return target()->ReadFileRange(path, offset, n);
  }
  std::vector<uint64_t> offsets;
};

TEST_F(DurableQueueTest, PeekFindsTheOldestUnsentRecordWithoutMovingTheReadPosition) {
  ReadOffsetsEnv env;
  auto q = Open(4u << 20, &env);
  AppendN(*q, 1, 10);
  ASSERT_TRUE(q->Sync().ok());
  auto empty = q->PeekDurable(10);
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->has_value());
  auto first = q->ReadDurable(0, 5, SIZE_MAX);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->back().seq, 5u);
  // Diagnostics ask for the oldest unacknowledged record (the server has acked nothing).
  auto oldest = q->PeekDurable(q->acked_seq());
  ASSERT_TRUE(oldest);
  ASSERT_TRUE(oldest->has_value());
  EXPECT_EQ((*oldest)->seq, 1u);
  EXPECT_EQ((*oldest)->payload, Payload(1));
  // The uplink goes on where it stopped: its read starts after record 5, not at the start.
  env.offsets.clear();
  auto next = q->ReadDurable(5, 5, SIZE_MAX);
  ASSERT_TRUE(next);
  ASSERT_EQ(next->size(), 5u);
  EXPECT_EQ(next->front().seq, 6u);
  ASSERT_FALSE(env.offsets.empty());
  uint64_t five_records = 0;
  for (uint64_t i = 1; i <= 5; ++i) five_records += RecordBytes(i);
  EXPECT_EQ(env.offsets.front(), five_records);
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

// Group commit: threads append and wait for their own records while others fsync; segments
// roll meanwhile (small segments), which must wait for a running sync.
TEST_F(DurableQueueTest, SyncThroughFromManyThreadsMakesEveryRecordDurable) {
  auto q = Open(/*segment_bytes=*/2048);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 150;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        auto seq = q->Append(std::string(40, 'x'));
        if (!seq || !q->SyncThrough(*seq).ok() || q->durable_seq() < *seq) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(q->durable_seq(), uint64_t{kThreads * kPerThread});
  EXPECT_GT(q->stats().segments, 2u);
  Records all = ReadAll(*q);
  ASSERT_EQ(all.size(), size_t{kThreads * kPerThread});
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].seq, i + 1);
}

TEST_F(DurableQueueTest, SyncThroughAnAlreadyDurableSeqReturnsAtOnce) {
  auto q = Open(4u << 20);
  AppendN(*q, 1, 3);
  ASSERT_TRUE(q->SyncThrough(2).ok());
  EXPECT_EQ(q->durable_seq(), 3u);  // one fsync covers everything appended before it
  EXPECT_TRUE(q->SyncThrough(1).ok());
  EXPECT_TRUE(q->SyncThrough(0).ok());
}

// Disk budget. Records of exactly 100 bytes, segments of three records, a budget of three
// segments: the arithmetic of every test below follows from these.
class DurableQueueBudgetTest : public DurableQueueTest {
 protected:
  static constexpr uint64_t kRecord = 100;
  static constexpr uint64_t kSegment = 3 * kRecord;
  static constexpr uint64_t kBudget = 3 * kSegment;

  std::unique_ptr<DurableQueue> OpenBudget(uint64_t max_bytes = kBudget, Env* env = nullptr) {
    QueueOptions opts;
    opts.dir = dir_;
    opts.segment_bytes = kSegment;
    opts.max_bytes = max_bytes;
    auto q = DurableQueue::Open(env ? env : PosixEnv(), opts);
    EXPECT_TRUE(q) << q.error().ToString();
    return q ? std::move(*q) : nullptr;
  }
  // A payload that makes a record of exactly kRecord bytes, recognisable by `i`.
  static std::string Fixed(uint64_t i) {
    std::string p = "r" + std::to_string(i) + "-";
    p.resize(kRecord - kQueueRecordHeaderBytes, '.');
    return p;
  }
  static void AppendFixed(DurableQueue& q, uint64_t first, uint64_t last, bool sync_each = false) {
    for (uint64_t i = first; i <= last; ++i) {
      auto seq = q.Append(Fixed(i));
      ASSERT_TRUE(seq) << seq.error().ToString();
      ASSERT_EQ(*seq, i);
      ASSERT_LE(q.stats().disk_bytes, kBudget) << "after record " << i;
      if (sync_each) {
        ASSERT_TRUE(q.Sync().ok());
      }
    }
  }
  // A budget queue holding seqs 1..6 (two full segments, synced) whose first `n` records the
  // uplink has read and is sending.
  std::unique_ptr<DurableQueue> OpenWithBatchInFlight(size_t n) {
    auto q = OpenBudget();
    AppendFixed(*q, 1, 6);
    EXPECT_TRUE(q->Sync().ok());
    auto inflight = q->ReadDurable(q->acked_seq(), n, SIZE_MAX);
    EXPECT_TRUE(inflight);
    EXPECT_EQ(inflight ? inflight->size() : 0, n);
    return q;
  }
  // Checks that the queue holds exactly seqs first..last, readable from its read position.
  static void ExpectHolds(DurableQueue& q, uint64_t first, uint64_t last) {
    Records r = ReadAll(q, q.acked_seq());
    ASSERT_EQ(r.size(), last - first + 1);
    for (uint64_t i = 0; i < r.size(); ++i) {
      EXPECT_EQ(r[i].seq, first + i);
      EXPECT_EQ(r[i].payload, Fixed(first + i));
    }
  }
};

TEST_F(DurableQueueBudgetTest, BudgetUnderTwoSegmentsIsInvalidArgument) {
  QueueOptions opts;
  opts.dir = dir_;
  opts.segment_bytes = kSegment;
  opts.max_bytes = 2 * kSegment - 1;
  auto q = DurableQueue::Open(PosixEnv(), opts);
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().code(), Code::kInvalidArgument);
  opts.max_bytes = 2 * kSegment;
  EXPECT_TRUE(DurableQueue::Open(PosixEnv(), opts));
}

TEST_F(DurableQueueBudgetTest, UnlimitedByDefault) {
  auto q = Open(kSegment);
  for (uint64_t i = 1; i <= 30; ++i) ASSERT_TRUE(q->Append(Fixed(i)));
  EXPECT_EQ(q->stats().disk_bytes, 30 * kRecord);
  EXPECT_EQ(q->stats().evicted_records, 0u);
}

TEST_F(DurableQueueBudgetTest, FullBudgetEvictsOldestSegmentsFirst) {
  auto q = OpenBudget();
  AppendFixed(*q, 1, 9);  // exactly the budget: nothing evicted yet
  EXPECT_EQ(q->stats().evicted_records, 0u);
  EXPECT_EQ(SegmentFiles().size(), 3u);
  const std::string oldest = SegmentFiles().front();
  AppendFixed(*q, 10, 10);  // a fourth segment: the first (seqs 1..3) goes
  EXPECT_EQ(q->stats().evicted_records, 3u);
  EXPECT_EQ(q->acked_seq(), 3u);
  EXPECT_FALSE(fs::exists(oldest));
  AppendFixed(*q, 11, 30);
  ASSERT_TRUE(q->Sync().ok());
  // Segments hold 1-3, 4-6, ...: 28-30 is the active one, 22-27 the two before it.
  DurableQueue::Stats st = q->stats();
  EXPECT_EQ(st.evicted_records, 21u);
  EXPECT_EQ(st.segments, 3u);
  EXPECT_EQ(st.disk_bytes, kBudget);
  EXPECT_EQ(st.pending_records, 9u);
  EXPECT_EQ(q->acked_seq(), 21u);
  ExpectHolds(*q, 22, 30);
  // The files left are the three newest ones.
  std::vector<std::string> files = SegmentFiles();
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(fs::path(files.back()).filename().string(), "000000000010.seg");
  EXPECT_EQ(fs::path(files.front()).filename().string(), "000000000008.seg");
}

TEST_F(DurableQueueBudgetTest, AckedRecordsAreNotCountedAsEvicted) {
  auto q = OpenBudget();
  AppendFixed(*q, 1, 6);
  ASSERT_TRUE(q->Sync().ok());
  ASSERT_TRUE(q->Ack(2).ok());
  AppendFixed(*q, 7, 10);  // evicts 1..3, of which only 3 was unsent
  EXPECT_EQ(q->stats().evicted_records, 1u);
  EXPECT_EQ(q->acked_seq(), 3u);
  ASSERT_TRUE(q->Ack(6).ok());
  AppendFixed(*q, 11, 13);  // evicts 4..6, all acked
  EXPECT_EQ(q->stats().evicted_records, 1u);
  ASSERT_TRUE(q->Sync().ok());
  ExpectHolds(*q, 7, 13);
}

TEST_F(DurableQueueBudgetTest, ReadingContinuesAfterTheGap) {
  // The uplink has 1..2 in flight when the budget evicts 1..6.
  auto q = OpenWithBatchInFlight(2);
  AppendFixed(*q, 7, 13);
  ASSERT_TRUE(q->Sync().ok());
  EXPECT_EQ(q->acked_seq(), 6u);
  EXPECT_EQ(q->stats().evicted_records, 6u);
  // The server's late ack of the batch does not move the position back; it shows that the two
  // records in flight were not lost after all.
  ASSERT_TRUE(q->Ack(2).ok());
  EXPECT_EQ(q->acked_seq(), 6u);
  EXPECT_EQ(q->stats().evicted_records, 4u);
  ASSERT_TRUE(q->Ack(2).ok());  // a retried ack credits nothing twice
  EXPECT_EQ(q->stats().evicted_records, 4u);
  auto next = q->ReadDurable(q->acked_seq(), 3, SIZE_MAX);
  ASSERT_TRUE(next);
  ASSERT_EQ(next->size(), 3u);
  EXPECT_EQ(next->front().seq, 7u);
  ASSERT_TRUE(q->Ack(9).ok());
  ExpectHolds(*q, 10, 13);
}

TEST_F(DurableQueueBudgetTest, EvictedBatchInFlightStaysLostWhenItsSendFails) {
  auto q = OpenWithBatchInFlight(2);  // 1..2
  AppendFixed(*q, 7, 10);             // evicts 1..3
  ASSERT_TRUE(q->Sync().ok());
  EXPECT_EQ(q->stats().evicted_records, 3u);
  // The send failed: the uplink reads again from the new position, without an ack.
  auto next = q->ReadDurable(q->acked_seq(), 2, SIZE_MAX);
  ASSERT_TRUE(next);
  ASSERT_FALSE(next->empty());
  EXPECT_EQ(next->front().seq, 4u);
  ASSERT_TRUE(q->Ack(5).ok());
  EXPECT_EQ(q->stats().evicted_records, 3u);
  // And the corrected count is what the ack file keeps.
  q.reset();
  q = OpenBudget();
  EXPECT_EQ(q->stats().evicted_records, 3u);
}

TEST_F(DurableQueueBudgetTest, CreditForTheBatchInFlightIsPersisted) {
  auto q = OpenWithBatchInFlight(4);  // 1..4
  AppendFixed(*q, 7, 10);             // evicts 1..3: all three in flight
  ASSERT_TRUE(q->Sync().ok());
  EXPECT_EQ(q->stats().evicted_records, 3u);
  ASSERT_TRUE(q->Ack(4).ok());  // the whole batch arrived: nothing was lost
  EXPECT_EQ(q->acked_seq(), 4u);
  EXPECT_EQ(q->stats().evicted_records, 0u);
  q.reset();
  q = OpenBudget();
  EXPECT_EQ(q->stats().evicted_records, 0u);
  ExpectHolds(*q, 5, 10);
}

TEST_F(DurableQueueBudgetTest, EvictionSurvivesReopen) {
  {
    auto q = OpenBudget();
    AppendFixed(*q, 1, 30);
    ASSERT_TRUE(q->Sync().ok());
  }
  auto q = OpenBudget();
  EXPECT_EQ(q->acked_seq(), 21u);
  EXPECT_EQ(q->stats().evicted_records, 21u);
  AppendFixed(*q, 31, 33);  // evicts 22..24 (none of them handed out since the open)
  EXPECT_EQ(q->stats().evicted_records, 24u);
  ASSERT_TRUE(q->Sync().ok());
  ExpectHolds(*q, 25, 33);
  // The count goes on in the ack file with the next ack as well.
  ASSERT_TRUE(q->Ack(30).ok());
  q.reset();
  q = OpenBudget();
  EXPECT_EQ(q->stats().evicted_records, 24u);
  ExpectHolds(*q, 31, 33);
}

TEST_F(DurableQueueBudgetTest, PowerCutNeverBringsEvictedSeqsBack) {
  test::FaultInjectionEnv env;
  {
    auto q = OpenBudget(kBudget, &env);
    AppendFixed(*q, 1, 27, /*sync_each=*/true);
    AppendFixed(*q, 28, 30);  // not synced: lost by the power cut
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  auto q = OpenBudget(kBudget, &env);
  EXPECT_GE(q->acked_seq(), 21u);
  EXPECT_EQ(q->stats().evicted_records, q->acked_seq());
  Records r = ReadAll(*q, q->acked_seq());
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r.front().seq, q->acked_seq() + 1);
  EXPECT_EQ(r.back().seq, 27u);
  auto seq = q->Append(Fixed(28));
  ASSERT_TRUE(seq);
  EXPECT_EQ(*seq, 28u);
}

TEST_F(DurableQueueBudgetTest, SmallerBudgetAtReopenEvictsAtTheNextAppend) {
  {
    auto q = Open(kSegment);
    for (uint64_t i = 1; i <= 30; ++i) ASSERT_TRUE(q->Append(Fixed(i)));
    ASSERT_TRUE(q->Sync().ok());
  }
  auto q = OpenBudget();
  EXPECT_EQ(q->stats().disk_bytes, 30 * kRecord);
  EXPECT_EQ(q->acked_seq(), 0u);
  auto seq = q->Append(Fixed(31));
  ASSERT_TRUE(seq);
  EXPECT_EQ(*seq, 31u);
  EXPECT_LE(q->stats().disk_bytes, kBudget);
  EXPECT_EQ(q->stats().evicted_records, 24u);  // 25..30 and the new 31 fill three segments
  ASSERT_TRUE(q->Sync().ok());
  ExpectHolds(*q, 25, 31);
}

TEST_F(DurableQueueBudgetTest, RecordLargerThanTheBudgetIsStoredAlone) {
  auto q = OpenBudget();
  AppendFixed(*q, 1, 4);
  auto seq = q->Append(std::string(kBudget + 50, 'x'));
  ASSERT_TRUE(seq);
  EXPECT_EQ(*seq, 5u);
  EXPECT_EQ(q->stats().segments, 1u);
  EXPECT_EQ(q->stats().evicted_records, 4u);
  ASSERT_TRUE(q->Sync().ok());
  Records r = ReadAll(*q, q->acked_seq());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].seq, 5u);
}

TEST_F(DurableQueueBudgetTest, FailureToRecordAnEvictionKeepsEverything) {
  FullDiskEnv env;
  auto q = OpenBudget(kBudget, &env);
  AppendFixed(*q, 1, 9);
  ASSERT_TRUE(q->Sync().ok());
  env.fail_after_bytes = 0;  // the ack file cannot be written
  auto seq = q->Append(Fixed(10));
  ASSERT_FALSE(seq);
  EXPECT_EQ(seq.error().code(), Code::kResourceExhausted);
  EXPECT_EQ(q->stats().evicted_records, 0u);
  EXPECT_EQ(q->acked_seq(), 0u);
  ExpectHolds(*q, 1, 9);
}

TEST_F(DurableQueueBudgetTest, AckFileOfVersionOneIsStillRead) {
  {
    auto q = Open();
    AppendFixed(*q, 1, 5);
    ASSERT_TRUE(q->Sync().ok());
  }
  std::string body;
  body.push_back(static_cast<char>(kAckVersion1));
  wire::PutFixed64(&body, 3);
  std::string content;
  wire::PutFixed32(&content, wire::Crc32c(body));
  content += body;
  ASSERT_EQ(content.size(), kAckFileBytes1);
  std::ofstream(dir_ + "/ack", std::ios::binary | std::ios::trunc) << content;
  auto q = Open();
  EXPECT_EQ(q->acked_seq(), 3u);
  EXPECT_EQ(q->stats().evicted_records, 0u);
  ExpectHolds(*q, 4, 5);
}

}  // namespace
}  // namespace wattline::edge
