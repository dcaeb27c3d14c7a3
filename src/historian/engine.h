// Engine: the historian's storage engine behind SampleStore (docs/format/historian.md).
//
//  - Write-ahead log: every Append is one checksummed, versioned record in an append-only
//    segment log (edge::DurableQueue, the connector's queue, reused), fsynced before Append
//    returns. Group commit: the fsync runs outside the engine's mutex, so appends from several
//    threads (connectors uploading at once) share fsyncs.
//  - Head: per signal, the samples not yet sealed, in memory, sorted by time.
//  - Blocks: a signal's samples of one aligned time window (options.block_window_ms, 1 hour by
//    default) are compressed column-wise (historian/codec) into blocks stored in SQLite
//    (<dir>/historian.db, table `blocks`, keyed by signal and first timestamp). A window is sealed
//    when a newer window of the same signal receives data; late data for a sealed window is
//    merged into its blocks (decode, merge, encode), so the first sample stored at a time wins.
//  - Checkpoint: when the WAL grows past options.checkpoint_wal_bytes (and on Close), every head
//    is sealed (partial windows too; they are merged again later) in one SQLite transaction,
//    then the WAL is cut. After a crash, Open replays what the WAL still holds; samples that were
//    sealed already are merged away again, so nothing is lost or doubled.
//
// Why by hand: the block format, the WAL discipline and the merge rules are the core of the
// product (compact years of 1 s data, nothing lost); no library does this over SQLite.
//
// Thread-safety: every method may be called from any thread; one mutex serializes them, except
// Append's WAL fsync, which runs outside it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/env.h"
#include "historian/calendar.h"
#include "historian/codec/block.h"
#include "historian/rollup.h"
#include "historian/sample_store.h"
#include "historian/sqlite_db.h"

namespace wattline::edge {
class DurableQueue;
}

namespace wattline::historian {

struct EngineOptions {
  std::string dir;                      // created if missing: <dir>/wal/, <dir>/historian.db
  int64_t block_window_ms = 3'600'000;  // blocks never span a window boundary (UTC-aligned)
  uint64_t wal_segment_bytes = 64u << 20;
  uint64_t checkpoint_wal_bytes = 256u << 20;  // checkpoint when the WAL holds more than this
  // Rollups: the site's time zone (IANA) and minor interval; a sample holds its value for the
  // time-weighted mean at most rollup_max_hold_ms (docs/rollups.md).
  std::string zone = "UTC";
  std::chrono::minutes minor{15};
  int64_t rollup_max_hold_ms = 15 * 60'000;
  // Retention runs in steps of at most this many rows, each its own transaction, so that
  // appends and queries get the lock between steps.
  int compaction_step_rows = 2000;
};

// How long a signal's data is kept (0 = forever): raw samples, and the rollups.
struct Retention {
  int64_t raw_ms = 0;
  int64_t rollup_ms = 0;
  bool operator==(const Retention&) const = default;
};

struct EngineStats {
  uint64_t head_samples = 0;
  uint64_t blocks = 0;            // stored blocks
  uint64_t block_bytes = 0;       // their data, envelopes included
  uint64_t block_samples = 0;     // samples in them
  uint64_t wal_bytes = 0;         // bytes of WAL segment files
  uint64_t checkpoints = 0;       // since Open
  uint64_t replayed_samples = 0;  // samples Open replayed from the WAL
  uint64_t wal_records_lost = 0;  // WAL records Open could not decode (logged as data loss)
  uint64_t blocks_expired = 0;    // raw blocks deleted by retention, since Open
  uint64_t rollups_expired = 0;   // rollup rows deleted by retention, since Open
  uint64_t compaction_steps = 0;  // transactions retention took, since Open
  uint64_t damaged_blocks = 0;  // blocks that did not decode when merged (moved aside), since Open
  uint64_t referenced_blocks = 0;  // stored blocks predicted from other signals (of `blocks`)
};

// A block's value kind and codec.
struct StoredCodec {
  codec::ValueKind kind = codec::ValueKind::kFloat64;
  codec::ValueCodec codec = codec::ValueCodec::kRaw;
};

// The stored form of a block: quality runs around a codec block (docs/format/historian.md).
// At most codec::kMaxBlockSamples samples; the value kind (float32, integer, float64) is found
// from the values and the smallest codec kept. With `hint` whose kind fits the values, only
// that codec is tried (a search of every codec costs several times one encoding). `*chosen`
// (when given) receives the kind and codec used.
Result<std::string> EncodeStoredBlock(std::span<const int64_t> ts_ms,
                                      std::span<const double> values,
                                      std::span<const Quality> quality,
                                      std::optional<StoredCodec> hint = std::nullopt,
                                      StoredCodec* chosen = nullptr);
// A block predicted from other signals (codec/reference.h): which signals (own id minus offset,
// 1..kMaxReferenceOffset) and the coefficients c0..ck. Empty for a block that stands alone.
struct BlockReferences {
  std::vector<int64_t> offsets;
  std::vector<double> coeffs;
};
// The stored form of a referenced block: `residuals` from codec::ReferenceResiduals, coded as
// any other values. kInvalidArgument for 0 or more than 3 references, offsets outside 1..32.
Result<std::string> EncodeReferencedBlock(std::span<const int64_t> ts_ms,
                                          std::span<const double> residuals,
                                          std::span<const Quality> quality,
                                          const BlockReferences& refs,
                                          std::optional<StoredCodec> hint = std::nullopt,
                                          StoredCodec* chosen = nullptr);
struct StoredBlock {
  std::vector<int64_t> ts_ms;
  std::vector<double> values;  // the residuals while refs is not empty
  std::vector<Quality> quality;
  BlockReferences refs;
};
// kDataLoss naming the problem for damaged bytes. A referenced block comes back with its
// residuals; codec::ApplyReferenceResiduals turns them into values given the references'.
Result<StoredBlock> DecodeStoredBlock(std::string_view bytes);

class Engine final : public SampleStore {
 public:
  // Opens or creates the engine in options.dir, replaying the WAL. Errors: storage errors,
  // kInvalidArgument for a block window outside 1 s .. 7 days.
  static Result<std::unique_ptr<Engine>> Open(Env* env, EngineOptions options);
  // Checkpoints (errors are logged).
  ~Engine() override;

  Status Append(std::span<const StoredSample> samples) override;
  Result<std::vector<StoredSample>> Latest(std::span<const int64_t> signal_ids) override;
  Result<std::vector<StoredSample>> Range(int64_t signal_id, int64_t from_ms, int64_t to_ms,
                                          size_t limit) override;
  Result<int64_t> Count(int64_t signal_id, int64_t from_ms, int64_t to_ms) override;

  // Aggregates of `interval` (in the engine's zone) whose intervals overlap [from_ms, to_ms),
  // from the stored minor rollups (and, for windows not sealed yet, from the raw samples).
  // `minmax_from`: the finer interval whose means give min and max ("daily values whose min/max
  // come from the 2-hour values"); nullopt: the extreme samples. Intervals without samples are
  // left out. consumption treats the signal as a counter (meaningless for other signals).
  // kInvalidArgument when minmax_from is not finer than interval or more than 100,000
  // intervals are asked for.
  Result<std::vector<Aggregate>> Aggregates(int64_t signal_id, Interval interval, int64_t from_ms,
                                            int64_t to_ms,
                                            std::optional<Interval> minmax_from = std::nullopt);
  // At most `max_points` samples of [from_ms, to_ms) that keep every peak: the minimum and
  // maximum of each of max_points/2 equal buckets, in time order. Buckets of at least two minor
  // intervals come from the stored rollups, so a year of 1 s data costs 35,040 rollups, not 31.5
  // million samples.
  Result<std::vector<StoredSample>> Chart(int64_t signal_id, int64_t from_ms, int64_t to_ms,
                                          size_t max_points);
  const Calendar& calendar() const { return calendar_; }

  // Every signal that has samples, ascending.
  Result<std::vector<int64_t>> Signals();
  // Seals every head into blocks and cuts the WAL.
  Status Checkpoint();
  // Tests: the destructor then leaves everything as a crash would (no checkpoint).
  void SkipCheckpointAtCloseForTesting() { skip_close_checkpoint_ = true; }
  EngineStats stats();

  // Retention, persisted in historian.db: the default for every signal (signal nullopt) or one
  // signal's own. A group's retention is the same call for each of its signals. Errors:
  // kInvalidArgument for negative times.
  Status SetRetention(std::optional<int64_t> signal_id, Retention retention);
  // The retention that applies to `signal_id`.
  Result<Retention> GetRetention(int64_t signal_id);
  // Deletes raw blocks that end before now - raw_ms and rollups of windows before
  // now - rollup_ms, in steps (EngineOptions::compaction_step_rows) that release the lock in
  // between. Returns the rows deleted. Call it from a background thread (the server does, hourly).
  Result<uint64_t> ApplyRetention(int64_t now_ms);

 private:
  struct Point {
    int64_t ts_ms;
    double value;
    Quality quality;
  };
  using Head = std::vector<Point>;  // sorted by time, no two at one time
  // Every sample of each window a seal just wrote (window start -> samples, by time).
  using SealedWindows = std::map<int64_t, std::vector<Point>>;
  // The newest sealed window of a signal and its last sample: the value that holds into the
  // next window, known without decoding the block again.
  struct Tail {
    int64_t window = 0;
    Point last{};
  };
  // Per signal: the codec that won the last full search (none before the first), and blocks
  // encoded since; the references that won it (empty: the signal stands alone) and their
  // residuals' codec.
  struct CodecHint {
    std::optional<StoredCodec> codec;
    int blocks_since_search = 0;
    std::vector<int64_t> ref_offsets;
    std::optional<StoredCodec> residual_codec;
  };
  // A window a seal of the open transaction stored in one block: its samples, a candidate
  // reference for the signals above it sealed after it (codec/reference.h), if it stands alone.
  struct SealedValues {
    std::vector<int64_t> ts_ms;
    std::vector<double> values;
    bool standalone = true;
  };

  Engine(Env* env, EngineOptions options, Calendar calendar, std::unique_ptr<SqliteDb> db,
         std::unique_ptr<edge::DurableQueue> wal);
  // Recomputes and stores the minor rollups of every window that owns a minor interval
  // overlapping [from_ms, to_ms) (a window owns the intervals that start in it).
  // `sealed` (optional): windows whose samples the caller has at hand.
  Status UpdateRollupsLocked(int64_t signal, int64_t from_ms, int64_t to_ms,
                             const SealedWindows* sealed = nullptr);
  // The minor aggregates of `window` from the raw samples (from `sealed` when it has them).
  Result<std::vector<Aggregate>> ComputeMinorLocked(int64_t signal, int64_t window,
                                                    const SealedWindows* sealed = nullptr);
  // The last sample before window start `window` when known without reading blocks: from
  // `sealed` or the signal's Tail, and only when the head holds nothing before `window`.
  std::optional<Point> KnownLastBeforeLocked(int64_t signal, int64_t window,
                                             const SealedWindows* sealed) const;
  // The last sample before ts_ms, if any.
  Result<std::optional<StoredSample>> LastBeforeLocked(int64_t signal, int64_t ts_ms);
  // Minor aggregates with start in [from_ms, to_ms): stored ones, and computed ones for
  // windows that still have head samples.
  Result<std::vector<Aggregate>> MinorsLocked(int64_t signal, int64_t from_ms, int64_t to_ms);
  int64_t WindowOf(int64_t ts_ms) const;
  void AddToHead(const StoredSample& s);
  // Adds appended samples to the heads, seals the windows that a newer one followed and
  // checkpoints when the WAL is over its size. Failures are logged, not returned: the samples
  // are in the WAL, and the next checkpoint retries.
  void ApplyLocked(std::span<const StoredSample> samples);
  // Seals the head samples of `signal` in windows before `before_window` (all of them for
  // INT64_MAX) into blocks. Runs inside a transaction the caller opened, which then calls
  // FinishSealsLocked: the sealed samples leave the head only when the transaction committed.
  Status SealLocked(int64_t signal, int64_t before_window);
  // The stored form of one block of `window`: predicted from lower signals sealed in the same
  // transaction when that is smaller (searched with the codecs, then reused), else alone.
  // `*ref_mask` gets bit k for a reference k below. `whole_window`: the block is the window's
  // only one (then it is remembered as a candidate for higher signals).
  Result<std::string> EncodeBlockLocked(int64_t signal, int64_t window, bool whole_window,
                                        std::span<const int64_t> ts_ms,
                                        std::span<const double> values,
                                        std::span<const Quality> quality, int64_t* ref_mask);
  // Decodes a stored block of `signal`, resolving its references (their blocks' samples at the
  // same times). kDataLoss when the block or a reference is damaged or missing samples.
  Result<StoredBlock> LoadBlockLocked(int64_t signal, std::string_view bytes);
  // Re-encodes on their own up to `limit` blocks of the signals above `signal` whose first
  // sample is in [from_ms, to_ms) and that refer to `signal`, whose blocks there are about to
  // go. Returns how many. Runs inside the caller's transaction.
  Result<size_t> DetachReferencesLocked(int64_t signal, int64_t from_ms, int64_t to_ms,
                                        size_t limit);
  void FinishSealsLocked(bool committed);
  Status CheckpointLocked();
  // Samples in the blocks of `signal` with first timestamp in [from_start, to_start), from the
  // rows' counts (no decoding).
  Result<int64_t> BlockSamplesLocked(int64_t signal, int64_t from_start, int64_t to_start);
  // Decoded blocks of `signal` with first timestamp in [from_start, to_start), in order.
  Result<std::vector<Point>> ReadBlocks(int64_t signal, int64_t from_start, int64_t to_start,
                                        size_t limit, int64_t from_ms, int64_t to_ms);
  Status Replay();
  Result<std::vector<StoredSample>> RangeLocked(int64_t signal_id, int64_t from_ms, int64_t to_ms,
                                                size_t limit);

  Env* env_;
  EngineOptions options_;
  std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<edge::DurableQueue> wal_;
  std::unordered_map<int64_t, Head> heads_;
  std::unordered_map<int64_t, StoredSample> latest_;
  std::unordered_map<int64_t, Tail> tails_;
  // Head samples (a prefix, by count) that seals of the open transaction wrote into blocks.
  std::unordered_map<int64_t, size_t> sealing_;
  std::unordered_map<int64_t, CodecHint> codec_hints_;
  // (signal, window) -> what the open transaction sealed there; only the last
  // kMaxReferenceOffset signals are kept.
  std::map<std::pair<int64_t, int64_t>, SealedValues> seal_cache_;
  Calendar calendar_;
  EngineStats stats_;
  bool skip_close_checkpoint_ = false;
};

// A write-ahead log record (one Append) and a window's stored minor rollups
// (docs/format/historian.md). The decoders return kDataLoss naming the problem.
std::string EncodeWalRecord(std::span<const StoredSample> samples);
Result<std::vector<StoredSample>> DecodeWalRecord(std::string_view bytes);
std::string EncodeRollups(int64_t window_ms, std::span<const Aggregate> aggregates);
Result<std::vector<Aggregate>> DecodeRollups(int64_t window_ms, std::string_view bytes);

// Servers before the historian engine kept one SQLite row per sample in samples.db. Its samples
// move into the engine once; the file is then renamed to samples.db.imported (delete it by hand
// once satisfied). An interrupted import simply runs again: the engine ignores samples it has.
Status ImportRowStore(const std::filesystem::path& path, SampleStore& into);

}  // namespace wattline::historian
