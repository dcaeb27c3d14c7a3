// DurableQueue: the connector's store-and-forward queue. The poller appends every encoded reading
// and syncs; the uplink reads durable records in order, sends them, and acks what the server has
// stored; acked segments are deleted. Nothing that was synced is lost by a crash or power cut.
//
// On disk: a directory of append-only segment files and an ack file (docs/format/queue.md).
// Sequence numbers start at 1 and increase by one per appended record, across restarts; after
// damage on disk some may be missing, never reordered or reused.
//
// Disk budget: with QueueOptions::max_bytes set, an Append that would take the segment files over
// the budget first deletes the oldest segments, sent or not (oldest-first eviction). Their unsent
// records are lost: each eviction is logged as data loss with its seq range and counted in
// Stats::evicted_records (persisted in the ack file), and the read position moves past them, so
// the uplink goes on with the oldest record still queued. Records of the batch that the last
// ReadDurable handed out (the uplink's batch in flight) are counted as lost too when evicted; if
// an Ack then shows that the server stored them, they are taken off the count again (and that is
// logged). After a crash in between the count errs on the side of loss.
//
// Thread-safety: every method may be called from any thread (one mutex). Appends normally come
// from the poller, ReadDurable/Ack from the uplink; a call that does I/O holds the mutex while it
// runs, so a slow fsync in Ack delays Append by that long. Sync and SyncThrough are the
// exception: they fsync without the mutex (group commit), so other threads append meanwhile and
// one fsync makes the records of every waiting thread durable.
// Errors: storage failures carry the Env's code (kResourceExhausted for a full disk, kDataLoss for
// EIO, ...). After a failed write or sync of a segment the queue refuses further Append/Sync with
// that error (the bytes on disk are unknown); reading and acking go on. Reopen to recover.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"

namespace wattline::edge {

struct QueueOptions {
  std::string dir;                    // created if missing (not its parents)
  uint64_t segment_bytes = 4u << 20;  // a new segment starts when the next record would not fit
  // Budget for all segment files together; 0 = unlimited. Otherwise at least 2 * segment_bytes.
  // A single record larger than the budget is still stored (alone): the budget can be exceeded
  // by at most one record.
  uint64_t max_bytes = 0;
};

class DurableQueue {
 public:
  struct Record {
    uint64_t seq = 0;
    std::string payload;
  };

  struct Stats {
    uint64_t pending_records = 0;  // appended (durable or not) and not acked
    uint64_t disk_bytes = 0;       // bytes in segment files, acked records of a live segment too
    uint64_t segments = 0;
    uint64_t evicted_records = 0;  // unsent records deleted by the disk budget, ever (persisted)
  };

  // Opens the queue in `opts.dir`, recovering what is on disk: every segment is scanned and its
  // checksums verified. A torn or corrupt tail of the last segment is cut off (the usual result
  // of a crash while appending; logged as a warning). Corruption inside an older segment is
  // logged as data loss and the rest of that segment skipped. Neither makes Open fail: the
  // connector must keep running. A damaged ack file is logged and treated as "nothing acked"
  // (the server drops what it already has). Segments that are fully acked are deleted.
  // Errors: kInvalidArgument for options out of range (empty dir, segment_bytes 0, max_bytes
  // under 2 * segment_bytes); otherwise only from the file system (directory not creatable or
  // not readable, ...).
  // REQUIRES: `env` outlives the queue; one DurableQueue per directory at a time.
  [[nodiscard]] static Result<std::unique_ptr<DurableQueue>> Open(Env* env, QueueOptions opts);

  // Closes the active segment without syncing: records appended since the last Sync() survive a
  // process exit but not a power cut.
  ~DurableQueue();
  DurableQueue(const DurableQueue&) = delete;
  DurableQueue& operator=(const DurableQueue&) = delete;

  // Appends `payload` as the next record and returns its seq. Not durable until Sync().
  // Over the disk budget it first evicts the oldest segments (see above): that writes the ack
  // file (with fsync) before deleting them, so a crash never brings evicted seqs back.
  // Errors: kInvalidArgument if payload is over kMaxQueuePayloadBytes; storage errors (a failure
  // to record an eviction leaves the queue as it was and the record unwritten).
  [[nodiscard]] Result<uint64_t> Append(std::string_view payload);

  // Makes every record appended so far durable (fdatasync of the active segment, and of the
  // directory when a segment was created since). On OK, durable_seq() is the last appended seq.
  [[nodiscard]] Status Sync();
  // Group commit: returns once every record up to `seq` is durable. When another thread's fsync
  // is running, waits for it and syncs again only if that one did not cover `seq`; one fsync
  // covers everything appended before it started. Errors as Sync.
  [[nodiscard]] Status SyncThrough(uint64_t seq);

  // The highest seq that is durable; 0 if none.
  uint64_t durable_seq() const;
  // The highest seq handed out by Append (durable or not); continues across restarts.
  uint64_t last_seq() const;

  // Durable records with seq > after_seq, in seq order: at most `max_records`, and stopping
  // before the record that would take the payload total over `max_bytes` -- except that the
  // first record is always returned, however large, so that one big record cannot stall the
  // uplink. Empty when nothing durable is newer. Reading on from the end of the previous call
  // (the usual uplink loop) continues where it left off instead of rescanning the segment.
  // A record whose checksum fails here (damaged after Open) is logged as data loss and the rest
  // of its segment skipped.
  // Errors: storage errors.
  [[nodiscard]] Result<std::vector<Record>> ReadDurable(uint64_t after_seq, size_t max_records,
                                                        size_t max_bytes);
  // The first durable record after `after_seq` (nullopt: none), like ReadDurable(after_seq, 1,
  // ...) but without moving the position that ReadDurable continues from: for diagnostics, which
  // must not make the uplink rescan a segment.
  [[nodiscard]] Result<std::optional<Record>> PeekDurable(uint64_t after_seq);

  // The server has stored every record up to `seq`: persists that (atomically: ack.tmp, fsync,
  // rename to ack, fsync of the directory), then deletes every segment whose records are all
  // <= seq. After a reopen ReadDurable(acked_seq(), ...) resumes right after `seq`.
  // An ack at or below acked_seq() is a no-op (retries are harmless), except that it still takes
  // evicted records of the batch in flight that it covers off the eviction count.
  // Errors: kInvalidArgument if seq > durable_seq() (the server cannot have what is not
  // durable here); storage errors writing the ack (the ack position is then unchanged).
  // Failing to delete a segment is only logged; it is retried on the next Ack or Open.
  [[nodiscard]] Status Ack(uint64_t seq);

  // The last acknowledged seq (or the last evicted one, if higher); 0 if none. The uplink reads
  // on from here.
  uint64_t acked_seq() const;

  Stats stats() const;

 private:
  struct Segment {
    uint64_t number = 0;
    std::string path;
    uint64_t first_seq = 0;  // 0 while the segment holds no record
    uint64_t last_seq = 0;
    uint64_t size = 0;  // bytes of records written (the append position)
    uint64_t end = 0;   // bytes readable: size, or where corruption was found
  };
  // Where the last ReadDurable stopped: the next record starts at `offset` of segment `number`.
  struct Cursor {
    uint64_t number = 0;
    uint64_t offset = 0;
    uint64_t next_seq = 0;  // 0: no cursor
  };

  DurableQueue(Env* env, QueueOptions opts);
  Status Recover();
  Status RecoverSegment(uint64_t number, bool is_last, uint64_t* prev_seq);
  Status ReadAckFile();
  Status WriteAckFile(uint64_t seq, uint64_t evicted);
  // How many evicted records of the batch in flight an ack of `seq` shows the server stored: Ack
  // takes them off the eviction count (see the file comment).
  uint64_t EvictedInFlightThrough(uint64_t seq) const;
  // Evicts the oldest segments until `record_bytes` more fit the budget (see Append).
  Status EnforceBudget(uint64_t record_bytes);
  Status StartSegment();
  Status SyncLocked();
  void DeleteAckedSegments();
  // Appends to `out` the records of `seg` with seq >= start (see ReadDurable), starting at
  // `*cursor` when it points into this segment and leaving it after the last record read.
  // Returns whether the caller should go on to the next segment.
  Result<bool> ReadSegment(Segment& seg, uint64_t start, size_t max_records, size_t max_bytes,
                           size_t* bytes, std::vector<Record>* out, Cursor* cursor);
  // ReadDurable with the cursor to use (ReadDurable: cursor_; PeekDurable: a copy).
  Result<std::vector<Record>> ReadLocked(uint64_t after_seq, size_t max_records, size_t max_bytes,
                                         Cursor* cursor);
  std::string SegmentPath(uint64_t number) const;

  Env* const env_;
  const QueueOptions opts_;

  mutable std::mutex mu_;
  std::condition_variable sync_done_;  // signalled when a sync outside the mutex ends
  bool syncing_ = false;               // a SyncThrough is fsyncing the active file right now
  std::vector<Segment> segments_;      // ascending numbers and seqs
  std::unique_ptr<WritableFile> active_file_;  // appends go to segments_.back() when set
  bool roll_next_ = false;                     // active segment damaged: start a new one
  bool dir_dirty_ = false;                     // a segment was created since the last SyncDir
  uint64_t next_number_ = 1;
  uint64_t next_seq_ = 1;
  uint64_t durable_seq_ = 0;
  uint64_t acked_seq_ = 0;
  uint64_t evicted_records_ = 0;
  // The seqs of the batch the last ReadDurable handed out (0, 0: none), and those of them that
  // were evicted and counted as lost while it was in flight.
  uint64_t inflight_first_ = 0, inflight_last_ = 0;
  uint64_t evicted_inflight_first_ = 0, evicted_inflight_last_ = 0;
  Status write_error_;
  Cursor cursor_;
};

}  // namespace wattline::edge
