#include "edge/durable_queue.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "edge/queue_format.h"
#include "wire/coding.h"
#include "wire/crc32c.h"

namespace wattline::edge {
namespace {

using wire::Crc32c;
using wire::DecodeFixed32;
using wire::DecodeFixed64;

// Segment number from "000000000042.seg"; nullopt for any other name.
std::optional<uint64_t> ParseSegmentName(std::string_view name) {
  if (name.size() != kSegmentNumberDigits + kSegmentSuffix.size() ||
      !name.ends_with(kSegmentSuffix)) {
    return std::nullopt;
  }
  uint64_t n = 0;
  auto digits = name.substr(0, kSegmentNumberDigits);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || n == 0) return std::nullopt;
  return n;
}

std::string EncodeRecord(uint64_t seq, std::string_view payload) {
  std::string rec;
  rec.reserve(kQueueRecordHeaderBytes + payload.size());
  wire::PutFixed32(&rec, 0);  // CRC, filled in below
  wire::PutFixed32(&rec, static_cast<uint32_t>(payload.size()));
  rec.push_back(static_cast<char>(QueueRecordType::kFull));
  wire::PutFixed64(&rec, seq);
  rec.append(payload);
  std::string crc;
  wire::PutFixed32(&crc, Crc32c(std::string_view(rec).substr(kQueueRecordCrcBytes)));
  rec.replace(0, kQueueRecordCrcBytes, crc);
  return rec;
}

// One record parsed from the front of `in`.
struct ParsedRecord {
  uint64_t seq = 0;
  std::string_view payload;
  size_t size = 0;  // header + payload
};

enum class ParseResult { kOk, kNeedMore, kCorrupt };

// Parses the record at the front of `in`. kNeedMore when `in` ends inside it (`*need` then says
// how many bytes the record takes, when the header was complete). kCorrupt with `*why` filled in
// when the bytes cannot be a record we wrote.
ParseResult ParseRecord(std::string_view in, ParsedRecord* rec, size_t* need, std::string* why) {
  *need = kQueueRecordHeaderBytes;
  if (in.size() < kQueueRecordHeaderBytes) return ParseResult::kNeedMore;
  uint32_t crc = DecodeFixed32(in.data());
  uint32_t len = DecodeFixed32(in.data() + 4);
  auto type = static_cast<uint8_t>(in[8]);
  // Judge the length before waiting for that many bytes: a flipped bit in it must not make us
  // read 4 GB looking for the end of the record.
  if (len > kMaxQueuePayloadBytes) {
    *why = fmt::format("record length {} over the limit", len);
    return ParseResult::kCorrupt;
  }
  *need = kQueueRecordHeaderBytes + len;
  if (in.size() < *need) return ParseResult::kNeedMore;
  if (Crc32c(in.substr(kQueueRecordCrcBytes, *need - kQueueRecordCrcBytes)) != crc) {
    *why = "checksum mismatch";
    return ParseResult::kCorrupt;
  }
  if (type != static_cast<uint8_t>(QueueRecordType::kFull)) {
    *why = fmt::format("unknown record type {}", type);
    return ParseResult::kCorrupt;
  }
  rec->seq = DecodeFixed64(in.data() + 9);
  rec->payload = in.substr(kQueueRecordHeaderBytes, len);
  rec->size = *need;
  return ParseResult::kOk;
}

constexpr size_t kReadChunkBytes = 256 * 1024;

}  // namespace

DurableQueue::DurableQueue(Env* env, QueueOptions opts) : env_(env), opts_(std::move(opts)) {}

DurableQueue::~DurableQueue() {
  if (active_file_) {
    if (Status s = active_file_->Close(); !s.ok()) {
      spdlog::warn("queue {}: closing active segment: {}", opts_.dir, s.ToString());
    }
  }
}

Result<std::unique_ptr<DurableQueue>> DurableQueue::Open(Env* env, QueueOptions opts) {
  // "q/" and "q" must name the same files: paths are built as dir + "/" + name.
  while (opts.dir.size() > 1 && opts.dir.back() == '/') opts.dir.pop_back();
  if (opts.dir.empty()) return Fail(InvalidArgument("queue: empty directory name"));
  if (opts.segment_bytes == 0) return Fail(InvalidArgument("queue: segment_bytes must be > 0"));
  // Below two segments the active one alone could fill the budget and nothing would be left to
  // evict: every append would lose the previous segment.
  if (opts.max_bytes != 0 && opts.max_bytes / 2 < opts.segment_bytes) {
    return Fail(
        InvalidArgument(fmt::format("queue: max_bytes {} is under two segments ({} bytes each)",
                                    opts.max_bytes, opts.segment_bytes)));
  }
  std::unique_ptr<DurableQueue> q(new DurableQueue(env, std::move(opts)));
  std::lock_guard lock(q->mu_);
  if (Status s = q->Recover(); !s.ok()) return Fail(std::move(s));
  return q;
}

std::string DurableQueue::SegmentPath(uint64_t number) const {
  return fmt::format("{}/{:0{}d}{}", opts_.dir, number, kSegmentNumberDigits, kSegmentSuffix);
}

Status DurableQueue::Recover() {
  if (Status s = env_->CreateDirIfMissing(opts_.dir); !s.ok()) return s;
  auto children = env_->GetChildren(opts_.dir);
  if (!children) return children.error();

  std::vector<uint64_t> numbers;
  for (const auto& name : *children) {
    if (auto n = ParseSegmentName(name)) {
      numbers.push_back(*n);
    } else if (name == kAckTmpFileName) {
      // A crash between writing ack.tmp and renaming it: the old ack still stands.
      if (Status s = env_->RemoveFile(opts_.dir + "/" + name); !s.ok()) return s;
    }
  }
  std::sort(numbers.begin(), numbers.end());
  if (Status s = ReadAckFile(); !s.ok()) return s;

  uint64_t prev_seq = 0;
  for (size_t i = 0; i < numbers.size(); ++i) {
    if (Status s = RecoverSegment(numbers[i], i + 1 == numbers.size(), &prev_seq); !s.ok()) {
      return s;
    }
  }
  if (!numbers.empty()) {
    next_number_ = numbers.back() + 1;
    // The last segment may hold bytes a crashed process wrote but never synced; sync them now so
    // that everything we count as durable is.
    if (!segments_.empty() && segments_.back().number == numbers.back()) {
      auto f = env_->NewAppendableFile(segments_.back().path);
      if (!f) return f.error();
      if (Status s = (*f)->Sync(); !s.ok()) return s;
      if (Status s = (*f)->Close(); !s.ok()) return s;
    }
    if (Status s = env_->SyncDir(opts_.dir); !s.ok()) return s;
  }
  next_seq_ = std::max(prev_seq, acked_seq_) + 1;
  durable_seq_ = next_seq_ - 1;
  DeleteAckedSegments();
  spdlog::info(
      "queue {}: opened with {} segments, seqs up to {}, acked {}, {} records evicted "
      "by the disk budget so far",
      opts_.dir, segments_.size(), durable_seq_, acked_seq_, evicted_records_);
  return Status::Ok();
}

Status DurableQueue::RecoverSegment(uint64_t number, bool is_last, uint64_t* prev_seq) {
  Segment seg;
  seg.number = number;
  seg.path = SegmentPath(number);
  auto content = env_->ReadFileToString(seg.path);
  if (!content) return content.error();
  std::string_view in = *content;

  uint64_t offset = 0;
  std::string why;
  while (offset < in.size()) {
    ParsedRecord rec;
    size_t need = 0;
    ParseResult r = ParseRecord(in.substr(offset), &rec, &need, &why);
    if (r == ParseResult::kNeedMore) {
      why = fmt::format("torn record ({} of {} bytes)", in.size() - offset, need);
      break;
    }
    if (r == ParseResult::kCorrupt) break;
    if (rec.seq <= *prev_seq) {
      why = fmt::format("seq {} not above {}", rec.seq, *prev_seq);
      break;
    }
    if (seg.first_seq == 0) seg.first_seq = rec.seq;
    seg.last_seq = rec.seq;
    *prev_seq = rec.seq;
    offset += rec.size;
  }
  if (offset < in.size()) {
    uint64_t dropped = in.size() - offset;
    if (is_last) {
      // The expected result of a crash while appending: the tail was never synced, so no one was
      // told it is durable. Cut it so that new appends are not hidden behind garbage.
      spdlog::warn("queue {}: {}: {} at offset {}; dropping the last {} bytes", opts_.dir, seg.path,
                   why, offset, dropped);
      if (Status s = env_->TruncateFile(seg.path, offset); !s.ok()) return s;
    } else {
      spdlog::error("queue {}: {}", opts_.dir,
                    DataLoss(fmt::format("{}: {} at offset {}; skipping the remaining {} bytes "
                                         "of this segment",
                                         seg.path, why, offset, dropped))
                        .ToString());
    }
  }
  seg.size = seg.end = offset;
  if (seg.first_seq == 0) {
    // A segment created just before a crash, or one whose first record is damaged.
    if (Status s = env_->RemoveFile(seg.path); !s.ok()) return s;
    return Status::Ok();
  }
  segments_.push_back(std::move(seg));
  return Status::Ok();
}

Status DurableQueue::ReadAckFile() {
  std::string path = opts_.dir + "/" + std::string(kAckFileName);
  if (!env_->FileExists(path)) return Status::Ok();
  auto content = env_->ReadFileToString(path);
  if (!content) return content.error();
  const std::string& c = *content;
  // Version 1 (before the disk budget) has no eviction count.
  const bool v1 = c.size() == kAckFileBytes1 && static_cast<uint8_t>(c[4]) == kAckVersion1;
  const bool v2 = c.size() == kAckFileBytes && static_cast<uint8_t>(c[4]) == kAckVersion;
  if ((!v1 && !v2) ||
      Crc32c(std::string_view(c).substr(kQueueRecordCrcBytes)) != DecodeFixed32(c.data())) {
    // Resending is safe (the server drops what it has); refusing to start is not an option.
    spdlog::error("queue {}: {}", opts_.dir,
                  DataLoss(path + " is damaged; resending everything still queued").ToString());
    return Status::Ok();
  }
  acked_seq_ = DecodeFixed64(c.data() + 5);
  if (v2) evicted_records_ = DecodeFixed64(c.data() + 13);
  return Status::Ok();
}

Status DurableQueue::WriteAckFile(uint64_t seq, uint64_t evicted) {
  std::string tmp = opts_.dir + "/" + std::string(kAckTmpFileName);
  std::string path = opts_.dir + "/" + std::string(kAckFileName);
  std::string body;
  body.push_back(static_cast<char>(kAckVersion));
  wire::PutFixed64(&body, seq);
  wire::PutFixed64(&body, evicted);
  std::string content;
  wire::PutFixed32(&content, Crc32c(body));
  content += body;

  if (env_->FileExists(tmp)) {
    if (Status s = env_->RemoveFile(tmp); !s.ok()) return s;
  }
  auto f = env_->NewAppendableFile(tmp);
  if (!f) return f.error();
  if (Status s = (*f)->Append(content); !s.ok()) return s;
  if (Status s = (*f)->Sync(); !s.ok()) return s;
  if (Status s = (*f)->Close(); !s.ok()) return s;
  if (Status s = env_->RenameFile(tmp, path); !s.ok()) return s;
  return env_->SyncDir(opts_.dir);
}

Status DurableQueue::StartSegment() {
  if (active_file_) {
    // Sync before leaving the segment: Sync() only ever syncs the active one.
    if (Status s = SyncLocked(); !s.ok()) return s;
    Status s = active_file_->Close();
    active_file_.reset();
    if (!s.ok()) {
      write_error_ = s;
      return s;
    }
  }
  Segment seg;
  seg.number = next_number_;
  seg.path = SegmentPath(seg.number);
  auto f = env_->NewAppendableFile(seg.path);
  if (!f) return f.error();
  ++next_number_;
  active_file_ = std::move(*f);
  segments_.push_back(std::move(seg));
  dir_dirty_ = true;
  roll_next_ = false;
  return Status::Ok();
}

Result<uint64_t> DurableQueue::Append(std::string_view payload) {
  std::unique_lock lock(mu_);
  if (!write_error_.ok()) return Fail(write_error_);
  if (payload.size() > kMaxQueuePayloadBytes) {
    return Fail(InvalidArgument(fmt::format("queue: payload of {} bytes over the limit of {}",
                                            payload.size(), kMaxQueuePayloadBytes)));
  }
  const uint64_t record_bytes = kQueueRecordHeaderBytes + payload.size();
  if (!active_file_ || roll_next_ ||
      (segments_.back().size > 0 && segments_.back().size + record_bytes > opts_.segment_bytes)) {
    // A sync outside the mutex may be using the active file: it must not close under it.
    sync_done_.wait(lock, [this] { return !syncing_; });
    if (Status s = StartSegment(); !s.ok()) return Fail(std::move(s));
  }
  if (opts_.max_bytes != 0) {
    if (Status s = EnforceBudget(record_bytes); !s.ok()) return Fail(std::move(s));
  }
  const uint64_t seq = next_seq_;
  if (Status s = active_file_->Append(EncodeRecord(seq, payload)); !s.ok()) {
    // Part of the record may be in the file: anything appended after it would be unreadable.
    write_error_ = s;
    return Fail(std::move(s));
  }
  Segment& seg = segments_.back();
  if (seg.first_seq == 0) seg.first_seq = seq;
  seg.last_seq = seq;
  seg.size += record_bytes;
  if (seg.end + record_bytes == seg.size) seg.end = seg.size;  // unless damage was found
  ++next_seq_;
  return seq;
}

Status DurableQueue::EnforceBudget(uint64_t record_bytes) {
  uint64_t total = record_bytes;
  for (const Segment& seg : segments_) total += seg.size;
  // Never the last segment: that is where this record goes.
  size_t n = 0;
  uint64_t through_seq = acked_seq_;
  uint64_t lost = 0;
  uint64_t first_lost = 0;
  while (total > opts_.max_bytes && n + 1 < segments_.size()) {
    const Segment& seg = segments_[n++];
    total -= seg.size;
    if (seg.last_seq > through_seq) {
      const uint64_t first = std::max(seg.first_seq, through_seq + 1);
      if (first_lost == 0) first_lost = first;
      lost += seg.last_seq - first + 1;
      through_seq = seg.last_seq;
    }
  }
  if (n == 0) return Status::Ok();
  if (lost > 0) {
    // Record the new read position before deleting anything: after a crash in between, the
    // segments are deleted at open as acked, and their seqs are never handed out again.
    if (Status s = WriteAckFile(through_seq, evicted_records_ + lost); !s.ok()) {
      return Status(s.code(), "queue: recording an eviction: " + s.message());
    }
    // Of these, the ones in the uplink's batch in flight reach the server if that send succeeds.
    std::string inflight;
    const uint64_t in_first = std::max(first_lost, inflight_first_);
    const uint64_t in_last = std::min(through_seq, inflight_last_);
    if (inflight_last_ != 0 && in_first <= in_last) {
      if (evicted_inflight_last_ == 0) evicted_inflight_first_ = in_first;
      evicted_inflight_last_ = in_last;
      inflight = fmt::format(
          "; {} of them (seqs {}..{}) are being sent and are lost only if that "
          "fails",
          in_last - in_first + 1, in_first, in_last);
    }
    spdlog::error("queue {}: {}", opts_.dir,
                  DataLoss(fmt::format("disk budget of {} bytes full: evicted {} unsent records "
                                       "(seqs {}..{}) from the {} oldest segments{}",
                                       opts_.max_bytes, lost, first_lost, through_seq, n, inflight))
                      .ToString());
    evicted_records_ += lost;
    acked_seq_ = through_seq;
  }
  for (size_t i = 0; i < n; ++i) {
    if (Status s = env_->RemoveFile(segments_.front().path); !s.ok()) {
      // Its records are behind the read position now; Open deletes it as acked.
      spdlog::warn("queue {}: removing evicted {}: {} (retried at the next open)", opts_.dir,
                   segments_.front().path, s.ToString());
    }
    segments_.erase(segments_.begin());
  }
  return Status::Ok();
}

Status DurableQueue::SyncLocked() {
  if (!write_error_.ok()) return write_error_;
  if (active_file_ && durable_seq_ + 1 < next_seq_) {
    if (Status s = active_file_->Sync(); !s.ok()) {
      // After a failed fsync the kernel may have dropped the dirty pages; a retry could report
      // success for data that is gone (the "fsyncgate" lesson), so the error sticks.
      write_error_ = s;
      return s;
    }
  }
  if (dir_dirty_) {
    if (Status s = env_->SyncDir(opts_.dir); !s.ok()) {
      write_error_ = s;
      return s;
    }
    dir_dirty_ = false;
  }
  durable_seq_ = next_seq_ - 1;
  return Status::Ok();
}

Status DurableQueue::Sync() {
  uint64_t last = 0;
  {
    std::lock_guard lock(mu_);
    last = next_seq_ - 1;
  }
  return SyncThrough(last);
}

Status DurableQueue::SyncThrough(uint64_t seq) {
  std::unique_lock lock(mu_);
  while (true) {
    if (!write_error_.ok()) return write_error_;
    if (durable_seq_ >= seq) return Status::Ok();
    if (syncing_) {
      sync_done_.wait(lock);
      continue;
    }
    // This thread syncs for every record appended so far. The active file stays open: Append
    // waits for syncing_ to end before it starts a new segment.
    syncing_ = true;
    const uint64_t target = next_seq_ - 1;
    const bool sync_file = active_file_ && durable_seq_ < target;
    const bool sync_dir = dir_dirty_;
    WritableFile* file = active_file_.get();
    lock.unlock();
    Status s = sync_file ? file->Sync() : Status::Ok();
    if (s.ok() && sync_dir) s = env_->SyncDir(opts_.dir);
    lock.lock();
    syncing_ = false;
    sync_done_.notify_all();
    if (!s.ok()) {
      // As in SyncLocked: after a failed fsync the error sticks.
      write_error_ = s;
      return s;
    }
    if (sync_dir) dir_dirty_ = false;
    durable_seq_ = std::max(durable_seq_, target);
  }
}

uint64_t DurableQueue::durable_seq() const {
  std::lock_guard lock(mu_);
  return durable_seq_;
}

uint64_t DurableQueue::last_seq() const {
  std::lock_guard lock(mu_);
  return next_seq_ - 1;
}

uint64_t DurableQueue::acked_seq() const {
  std::lock_guard lock(mu_);
  return acked_seq_;
}

Result<std::vector<DurableQueue::Record>> DurableQueue::ReadDurable(uint64_t after_seq,
                                                                    size_t max_records,
                                                                    size_t max_bytes) {
  std::lock_guard lock(mu_);
  auto records = ReadLocked(after_seq, max_records, max_bytes, &cursor_);
  if (!records) return records;
  // A new read means the previous batch is over: acked (and credited), or lost as counted.
  evicted_inflight_first_ = evicted_inflight_last_ = 0;
  inflight_first_ = records->empty() ? 0 : records->front().seq;
  inflight_last_ = records->empty() ? 0 : records->back().seq;
  return records;
}

Result<std::optional<DurableQueue::Record>> DurableQueue::PeekDurable(uint64_t after_seq) {
  std::lock_guard lock(mu_);
  Cursor scratch = cursor_;
  auto records = ReadLocked(after_seq, 1, SIZE_MAX, &scratch);
  if (!records) return Fail(records.error());
  if (records->empty()) return std::optional<Record>();
  return std::optional<Record>(std::move(records->front()));
}

Result<std::vector<DurableQueue::Record>> DurableQueue::ReadLocked(uint64_t after_seq,
                                                                   size_t max_records,
                                                                   size_t max_bytes,
                                                                   Cursor* cursor) {
  std::vector<Record> out;
  if (max_records == 0 || after_seq >= durable_seq_) return out;
  const uint64_t start = after_seq + 1;
  // Segments hold ascending seq ranges: skip those that end before `start`. Only the last one
  // can be empty (last_seq 0), and it must not count as "before".
  auto it = std::partition_point(segments_.begin(), segments_.end(), [start](const Segment& s) {
    return s.last_seq != 0 && s.last_seq < start;
  });
  size_t bytes = 0;
  for (; it != segments_.end(); ++it) {
    auto more = ReadSegment(*it, start, max_records, max_bytes, &bytes, &out, cursor);
    if (!more) return Fail(more.error());
    if (!*more) break;
  }
  return out;
}

Result<bool> DurableQueue::ReadSegment(Segment& seg, uint64_t start, size_t max_records,
                                       size_t max_bytes, size_t* bytes, std::vector<Record>* out,
                                       Cursor* cursor) {
  uint64_t offset = 0;
  if (cursor->next_seq != 0 && cursor->number == seg.number && cursor->next_seq <= start) {
    offset = cursor->offset;
  }
  std::string buf;
  size_t pos = 0;  // position in buf; buf holds the file from offset - pos
  while (offset < seg.end) {
    ParsedRecord rec;
    size_t need = 0;
    std::string why;
    ParseResult r = ParseRecord(std::string_view(buf).substr(pos), &rec, &need, &why);
    if (r == ParseResult::kNeedMore) {
      uint64_t left = seg.end - offset;
      if (need > left) {
        r = ParseResult::kCorrupt;
        why = "record runs past the end of the segment";
      } else {
        auto chunk = env_->ReadFileRange(
            seg.path, offset,
            static_cast<size_t>(std::min<uint64_t>(std::max(need, kReadChunkBytes), left)));
        if (!chunk) return Fail(chunk.error());
        if (chunk->size() < need) {
          r = ParseResult::kCorrupt;
          why = "segment shorter than recorded";
        } else {
          buf = std::move(*chunk);
          pos = 0;
          continue;
        }
      }
    }
    if (r == ParseResult::kOk && (rec.seq < seg.first_seq || rec.seq > seg.last_seq)) {
      r = ParseResult::kCorrupt;
      why = fmt::format("seq {} outside the segment's range", rec.seq);
    }
    if (r == ParseResult::kCorrupt) {
      spdlog::error("queue {}: {}", opts_.dir,
                    DataLoss(fmt::format("{}: {} at offset {}; skipping the rest of the segment",
                                         seg.path, why, offset))
                        .ToString());
      seg.end = offset;
      if (&seg == &segments_.back()) roll_next_ = true;
      return true;
    }
    if (rec.seq > durable_seq_) return false;
    if (rec.seq >= start) {
      if (!out->empty() && *bytes + rec.payload.size() > max_bytes) return false;
      out->push_back(Record{rec.seq, std::string(rec.payload)});
      *bytes += rec.payload.size();
    }
    offset += rec.size;
    pos += rec.size;
    if (rec.seq >= start) {
      *cursor = Cursor{seg.number, offset, rec.seq + 1};
      if (out->size() >= max_records) return false;
    }
  }
  return true;
}

uint64_t DurableQueue::EvictedInFlightThrough(uint64_t seq) const {
  if (evicted_inflight_last_ == 0 || seq < evicted_inflight_first_) return 0;
  return std::min(seq, evicted_inflight_last_) - evicted_inflight_first_ + 1;
}

Status DurableQueue::Ack(uint64_t seq) {
  std::lock_guard lock(mu_);
  const uint64_t delivered = EvictedInFlightThrough(seq);
  if (seq <= acked_seq_ && delivered == 0) return Status::Ok();
  if (seq > durable_seq_) {
    return InvalidArgument(
        fmt::format("queue: ack of seq {} beyond the durable seq {}", seq, durable_seq_));
  }
  const uint64_t acked = std::max(acked_seq_, seq);
  const uint64_t evicted = evicted_records_ - std::min(delivered, evicted_records_);
  if (Status s = WriteAckFile(acked, evicted); !s.ok()) return s;
  if (delivered > 0) {
    spdlog::info(
        "queue {}: {} evicted records (seqs {}..{}) of the batch in flight reached the "
        "server after all: {} records lost to the disk budget in all",
        opts_.dir, delivered, evicted_inflight_first_, evicted_inflight_first_ + delivered - 1,
        evicted);
    evicted_records_ = evicted;
    evicted_inflight_first_ = evicted_inflight_last_ = 0;
  }
  acked_seq_ = acked;
  DeleteAckedSegments();
  return Status::Ok();
}

void DurableQueue::DeleteAckedSegments() {
  while (!segments_.empty() && segments_.front().last_seq <= acked_seq_) {
    Segment& seg = segments_.front();
    const bool active = active_file_ && segments_.size() == 1;
    if (active) {
      // Every record in it is acked, hence durable: close it; the next Append starts a new one.
      if (Status s = active_file_->Close(); !s.ok()) {
        spdlog::warn("queue {}: closing {}: {}", opts_.dir, seg.path, s.ToString());
      }
      active_file_.reset();
    }
    if (Status s = env_->RemoveFile(seg.path); !s.ok()) {
      spdlog::warn("queue {}: removing acked {}: {} (retried later)", opts_.dir, seg.path,
                   s.ToString());
      return;
    }
    segments_.erase(segments_.begin());
  }
}

DurableQueue::Stats DurableQueue::stats() const {
  std::lock_guard lock(mu_);
  Stats st;
  st.segments = segments_.size();
  st.evicted_records = evicted_records_;
  for (const auto& seg : segments_) {
    st.disk_bytes += seg.size;
    // Seqs within a segment are consecutive: one process appended them one after another.
    if (seg.last_seq > acked_seq_) {
      st.pending_records += seg.last_seq - std::max(seg.first_seq, acked_seq_ + 1) + 1;
    }
  }
  return st;
}

}  // namespace wattline::edge
