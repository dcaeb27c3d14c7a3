#include "historian/engine.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <limits>
#include <tuple>

#include "edge/durable_queue.h"
#include "historian/codec/block.h"
#include "historian/codec/reference.h"
#include "wire/coding.h"

namespace wattline::historian {
namespace fs = std::filesystem;

namespace {

constexpr uint8_t kWalVersion = 1;
constexpr uint8_t kStoredBlockVersion = 1;
// A block predicted from other signals' values (codec/reference.h): version 2.
constexpr uint8_t kReferencedBlockVersion = 2;
constexpr int64_t kMaxWindowMs = 7LL * 24 * 3600 * 1000;
// A signal's blocks try every codec at its first block and every this many blocks after (a day
// of 1-hour windows: 24); in between the last winner is used (docs/format/historian.md).
constexpr int kCodecSearchEvery = 24;
// Query bounds are clamped to +-2^62 ms (146 million years) so that window arithmetic cannot
// overflow.
constexpr int64_t kMinQueryMs = -(int64_t{1} << 62);
constexpr int64_t kMaxQueryMs = int64_t{1} << 62;

bool IsFloat32(double v) {
  return std::bit_cast<uint64_t>(static_cast<double>(static_cast<float>(v))) ==
         std::bit_cast<uint64_t>(v);
}
bool IsInteger(double v) {
  return std::isfinite(v) && v == std::trunc(v) && std::fabs(v) <= 9007199254740992.0 &&
         !(v == 0 && std::signbit(v));
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

constexpr uint8_t kRollupVersion = 1;

}  // namespace

// WAL record: version, count, then per sample zigzag signal id, zigzag time delta (to the
// previous sample of the record), the value's 8 bytes, the quality byte.
std::string EncodeWalRecord(std::span<const StoredSample> samples) {
  std::string out;
  out.reserve(2 + samples.size() * 14);
  out.push_back(static_cast<char>(kWalVersion));
  wire::PutVarint64(&out, samples.size());
  int64_t prev_ts = 0;
  for (const StoredSample& s : samples) {
    wire::PutVarint64(&out, wire::ZigZagEncode(s.signal_id));
    wire::PutVarint64(&out, wire::ZigZagEncode(static_cast<int64_t>(
                                static_cast<uint64_t>(s.ts_ms) - static_cast<uint64_t>(prev_ts))));
    wire::PutFixed64(&out, std::bit_cast<uint64_t>(s.value));
    out.push_back(static_cast<char>(s.quality));
    prev_ts = s.ts_ms;
  }
  return out;
}

Result<std::vector<StoredSample>> DecodeWalRecord(std::string_view in) {
  if (in.empty() || static_cast<uint8_t>(in[0]) != kWalVersion) {
    return Fail(DataLoss("WAL record: unknown version"));
  }
  in.remove_prefix(1);
  uint64_t n = 0;
  if (wire::GetVarint64(&in, &n) != wire::VarintError::kOk || n > in.size() / 11 + 1) {
    return Fail(DataLoss("WAL record: bad sample count"));
  }
  std::vector<StoredSample> out;
  out.reserve(n);
  int64_t prev_ts = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id = 0, delta = 0;
    if (wire::GetVarint64(&in, &id) != wire::VarintError::kOk ||
        wire::GetVarint64(&in, &delta) != wire::VarintError::kOk || in.size() < 9) {
      return Fail(DataLoss(fmt::format("WAL record: sample {} of {} is truncated", i, n)));
    }
    StoredSample s;
    s.signal_id = wire::ZigZagDecode(id);
    s.ts_ms = static_cast<int64_t>(static_cast<uint64_t>(prev_ts) +
                                   static_cast<uint64_t>(wire::ZigZagDecode(delta)));
    s.value = std::bit_cast<double>(wire::DecodeFixed64(in.data()));
    const auto q = static_cast<uint8_t>(in[8]);
    if (q > static_cast<uint8_t>(Quality::kManual)) {
      return Fail(DataLoss(fmt::format("WAL record: sample {} has quality {}", i, q)));
    }
    s.quality = static_cast<Quality>(q);
    in.remove_prefix(9);
    prev_ts = s.ts_ms;
    out.push_back(s);
  }
  if (!in.empty()) return Fail(DataLoss("WAL record: bytes after the last sample"));
  return out;
}

// A window's minor aggregates (docs/format/historian.md): version, count, then per aggregate
// its times as zigzag varints relative to the window, count, weighted_ms, the doubles as their
// 8 bytes, and the consumption behind a presence byte.
std::string EncodeRollups(int64_t window, std::span<const Aggregate> aggs) {
  std::string out;
  out.push_back(static_cast<char>(kRollupVersion));
  wire::PutVarint64(&out, aggs.size());
  auto rel = [&](int64_t t) {
    wire::PutVarint64(&out, wire::ZigZagEncode(static_cast<int64_t>(
                                static_cast<uint64_t>(t) - static_cast<uint64_t>(window))));
  };
  for (const Aggregate& a : aggs) {
    for (int64_t t :
         {a.start_ms, a.end_ms, a.min_ts_ms, a.max_ts_ms, a.first_ts_ms, a.last_ts_ms}) {
      rel(t);
    }
    wire::PutVarint64(&out, static_cast<uint64_t>(a.count));
    wire::PutVarint64(&out, static_cast<uint64_t>(a.weighted_ms));
    for (double v : {a.min, a.max, a.first, a.last, a.mean}) {
      wire::PutFixed64(&out, std::bit_cast<uint64_t>(v));
    }
    out.push_back(a.consumption ? 1 : 0);
    if (a.consumption) wire::PutFixed64(&out, std::bit_cast<uint64_t>(*a.consumption));
  }
  return out;
}

Result<std::vector<Aggregate>> DecodeRollups(int64_t window, std::string_view in) {
  if (in.empty() || static_cast<uint8_t>(in[0]) != kRollupVersion) {
    return Fail(DataLoss("rollups: unknown version"));
  }
  in.remove_prefix(1);
  uint64_t n = 0;
  if (wire::GetVarint64(&in, &n) != wire::VarintError::kOk || n > in.size() / 49) {
    return Fail(DataLoss("rollups: bad count"));
  }
  std::vector<Aggregate> out(n);
  for (Aggregate& a : out) {
    uint64_t v[8];
    for (uint64_t& x : v) {
      if (wire::GetVarint64(&in, &x) != wire::VarintError::kOk) {
        return Fail(DataLoss("rollups: truncated"));
      }
    }
    int64_t* times[] = {&a.start_ms,  &a.end_ms,      &a.min_ts_ms,
                        &a.max_ts_ms, &a.first_ts_ms, &a.last_ts_ms};
    for (int i = 0; i < 6; ++i) {
      *times[i] = static_cast<int64_t>(static_cast<uint64_t>(window) +
                                       static_cast<uint64_t>(wire::ZigZagDecode(v[i])));
    }
    a.count = static_cast<int64_t>(v[6]);
    a.weighted_ms = static_cast<int64_t>(v[7]);
    if (in.size() < 41) return Fail(DataLoss("rollups: truncated"));
    double* values[] = {&a.min, &a.max, &a.first, &a.last, &a.mean};
    for (double* d : values) {
      *d = std::bit_cast<double>(wire::DecodeFixed64(in.data()));
      in.remove_prefix(8);
    }
    const char has = in[0];
    in.remove_prefix(1);
    if (has == 1) {
      if (in.size() < 8) return Fail(DataLoss("rollups: truncated"));
      a.consumption = std::bit_cast<double>(wire::DecodeFixed64(in.data()));
      in.remove_prefix(8);
    } else if (has != 0) {
      return Fail(DataLoss("rollups: bad consumption flag"));
    }
  }
  if (!in.empty()) return Fail(DataLoss("rollups: bytes after the last aggregate"));
  return out;
}

namespace {

// Quality as runs: most blocks are one run of "good", which costs two bytes.
void PutQualityRuns(std::span<const Quality> quality, std::string* out) {
  std::string runs;
  uint64_t run_count = 0;
  for (size_t i = 0; i < quality.size();) {
    size_t j = i;
    while (j < quality.size() && quality[j] == quality[i]) ++j;
    wire::PutVarint64(&runs, j - i);
    runs.push_back(static_cast<char>(quality[i]));
    ++run_count;
    i = j;
  }
  wire::PutVarint64(out, run_count);
  *out += runs;
}

// The codec block of (ts_ms, values): the kinds the values fit, each with its best codec, the
// smallest wins; with a fitting `hint` only that codec.
Result<std::string> EncodeValues(std::span<const int64_t> ts_ms, std::span<const double> values,
                                 std::optional<StoredCodec> hint, StoredCodec* chosen) {
  bool f32 = true, integer = true;
  for (double v : values) {
    f32 = f32 && IsFloat32(v);
    integer = integer && IsInteger(v);
  }
  auto fits = [&](codec::ValueKind kind) {
    return kind == codec::ValueKind::kFloat64 || (kind == codec::ValueKind::kFloat32 && f32) ||
           (kind == codec::ValueKind::kInteger && integer);
  };
  std::optional<std::string> best;
  StoredCodec used;
  if (hint && fits(hint->kind)) {
    auto block = codec::EncodeBlock(ts_ms, values, hint->kind, hint->codec);
    if (!block) return Fail(block.error());
    best = std::move(*block);
    used = *hint;
  } else {
    for (codec::ValueKind kind :
         {codec::ValueKind::kInteger, codec::ValueKind::kFloat32, codec::ValueKind::kFloat64}) {
      if (!fits(kind)) continue;
      codec::BlockStats stats;
      auto block = codec::EncodeBlock(ts_ms, values, kind, std::nullopt, &stats);
      if (!block) return Fail(block.error());
      if (!best || block->size() < best->size()) {
        best = std::move(*block);
        used = {kind, stats.codec};
      }
      if (kind != codec::ValueKind::kInteger) break;  // float64 only when nothing narrower fits
    }
  }
  if (chosen) *chosen = used;
  return std::move(*best);
}

}  // namespace

Result<std::string> EncodeStoredBlock(std::span<const int64_t> ts_ms,
                                      std::span<const double> values,
                                      std::span<const Quality> quality,
                                      std::optional<StoredCodec> hint, StoredCodec* chosen) {
  if (ts_ms.size() != values.size() || ts_ms.size() != quality.size()) {
    return Fail(InvalidArgument("stored block: columns of different lengths"));
  }
  std::string out;
  out.push_back(static_cast<char>(kStoredBlockVersion));
  PutQualityRuns(quality, &out);
  auto block = EncodeValues(ts_ms, values, hint, chosen);
  if (!block) return Fail(block.error());
  out += *block;
  return out;
}

Result<std::string> EncodeReferencedBlock(std::span<const int64_t> ts_ms,
                                          std::span<const double> residuals,
                                          std::span<const Quality> quality,
                                          const BlockReferences& refs,
                                          std::optional<StoredCodec> hint, StoredCodec* chosen) {
  if (ts_ms.size() != residuals.size() || ts_ms.size() != quality.size()) {
    return Fail(InvalidArgument("stored block: columns of different lengths"));
  }
  if (refs.offsets.empty() || refs.offsets.size() > codec::kMaxReferences ||
      refs.coeffs.size() != refs.offsets.size() + 1) {
    return Fail(InvalidArgument("stored block: 1 to 3 references, one coefficient more"));
  }
  std::string out;
  out.push_back(static_cast<char>(kReferencedBlockVersion));
  PutQualityRuns(quality, &out);
  out.push_back(static_cast<char>(refs.offsets.size()));
  for (int64_t off : refs.offsets) {
    if (off < 1 || off > codec::kMaxReferenceOffset) {
      return Fail(InvalidArgument("stored block: reference offset outside 1..32"));
    }
    out.push_back(static_cast<char>(off));
  }
  for (double c : refs.coeffs) wire::PutFixed64(&out, std::bit_cast<uint64_t>(c));
  auto block = EncodeValues(ts_ms, residuals, hint, chosen);
  if (!block) return Fail(block.error());
  out += *block;
  return out;
}

Result<StoredBlock> DecodeStoredBlock(std::string_view in) {
  const uint8_t version = in.empty() ? 0 : static_cast<uint8_t>(in[0]);
  if (version != kStoredBlockVersion && version != kReferencedBlockVersion) {
    return Fail(DataLoss("stored block: unknown version"));
  }
  in.remove_prefix(1);
  uint64_t runs = 0;
  if (wire::GetVarint64(&in, &runs) != wire::VarintError::kOk || runs > codec::kMaxBlockSamples) {
    return Fail(DataLoss("stored block: bad quality run count"));
  }
  StoredBlock out;
  for (uint64_t r = 0; r < runs; ++r) {
    uint64_t len = 0;
    if (wire::GetVarint64(&in, &len) != wire::VarintError::kOk || in.empty() ||
        len > codec::kMaxBlockSamples - out.quality.size()) {
      return Fail(DataLoss("stored block: bad quality run"));
    }
    const auto q = static_cast<uint8_t>(in[0]);
    if (q > static_cast<uint8_t>(Quality::kManual)) {
      return Fail(DataLoss(fmt::format("stored block: unknown quality {}", q)));
    }
    in.remove_prefix(1);
    out.quality.insert(out.quality.end(), len, static_cast<Quality>(q));
  }
  if (version == kReferencedBlockVersion) {
    const size_t k = in.empty() ? 0 : static_cast<uint8_t>(in[0]);
    if (k < 1 || k > codec::kMaxReferences || in.size() < 1 + k + 8 * (k + 1)) {
      return Fail(DataLoss("stored block: bad reference count"));
    }
    in.remove_prefix(1);
    for (size_t i = 0; i < k; ++i) {
      const auto off = static_cast<uint8_t>(in[i]);
      if (off < 1 || off > codec::kMaxReferenceOffset) {
        return Fail(DataLoss("stored block: reference offset outside 1..32"));
      }
      out.refs.offsets.push_back(off);
    }
    in.remove_prefix(k);
    for (size_t i = 0; i <= k; ++i) {
      const double c = std::bit_cast<double>(wire::DecodeFixed64(in.data()));
      if (!std::isfinite(c)) return Fail(DataLoss("stored block: coefficient not finite"));
      out.refs.coeffs.push_back(c);
      in.remove_prefix(8);
    }
  }
  auto block = codec::DecodeBlock(in);
  if (!block) return Fail(block.error());
  if (block->ts_ms.size() != out.quality.size()) {
    return Fail(DataLoss(fmt::format("stored block: {} samples but {} quality flags",
                                     block->ts_ms.size(), out.quality.size())));
  }
  out.ts_ms = std::move(block->ts_ms);
  out.values = std::move(block->values);
  return out;
}

Engine::Engine(Env* env, EngineOptions options, Calendar calendar, std::unique_ptr<SqliteDb> db,
               std::unique_ptr<edge::DurableQueue> wal)
    : env_(env),
      options_(std::move(options)),
      db_(std::move(db)),
      wal_(std::move(wal)),
      calendar_(std::move(calendar)) {}

Engine::~Engine() {
  std::lock_guard lock(mu_);
  if (skip_close_checkpoint_) return;
  if (Status s = CheckpointLocked(); !s.ok()) {
    spdlog::error("historian: checkpoint at close failed: {} (the WAL keeps the data)",
                  s.ToString());
  }
}

namespace {

// The tables of historian.db (docs/format/historian.md). A blocks table of the first layout
// (WITHOUT ROWID) is moved into the rowid layout once, in one transaction.
Status CreateSchema(SqliteDb& db) {
  auto old = db.Prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'blocks'");
  if (!old) return old.error();
  auto row = old->Step();
  if (!row) return row.error();
  const bool exists = *row;
  const bool migrate = exists && old->Text(0).find("WITHOUT ROWID") != std::string::npos;
  old->Reset();
  constexpr std::string_view kBlocks =
      " (signal_id INTEGER NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,"
      " count INTEGER NOT NULL, data BLOB NOT NULL, ref_mask INTEGER NOT NULL DEFAULT 0,"
      " PRIMARY KEY (signal_id, start_ms));";
  if (migrate) {
    spdlog::info("historian: moving the blocks into the rowid layout (once)");
    Status s = InTransaction(db, [&] {
      return db.Exec(std::string("CREATE TABLE blocks_rowid") + std::string(kBlocks) +
                     "INSERT INTO blocks_rowid (signal_id, start_ms, end_ms, count, data) SELECT"
                     " signal_id, start_ms, end_ms, count, data FROM blocks ORDER BY start_ms,"
                     " signal_id;"
                     "DROP TABLE blocks; ALTER TABLE blocks_rowid RENAME TO blocks;");
    });
    if (!s.ok()) return Status(s.code(), "historian: moving the blocks: " + s.message());
  }
  // Blocks written before references (codec/reference.h) gain their column, 0: none.
  if (exists && !migrate) {
    auto column = db.Prepare("SELECT 1 FROM pragma_table_info('blocks') WHERE name = 'ref_mask'");
    if (!column) return column.error();
    auto has = column->Step();
    if (!has) return has.error();
    if (!*has) {
      if (Status s = db.Exec("ALTER TABLE blocks ADD COLUMN ref_mask INTEGER NOT NULL DEFAULT 0");
          !s.ok()) {
        return s;
      }
    }
  }
  return db.Exec(
      std::string("CREATE TABLE IF NOT EXISTS blocks") + std::string(kBlocks) +
      "CREATE TABLE IF NOT EXISTS rollups (signal_id INTEGER NOT NULL, window_ms INTEGER NOT NULL,"
      " data BLOB NOT NULL, PRIMARY KEY (signal_id, window_ms)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS damaged_blocks (signal_id INTEGER NOT NULL, start_ms INTEGER"
      " NOT NULL, data BLOB NOT NULL, PRIMARY KEY (signal_id, start_ms)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS retention (signal_id INTEGER PRIMARY KEY, raw_ms INTEGER NOT"
      " NULL, rollup_ms INTEGER NOT NULL);");
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::Open(Env* env, EngineOptions options) {
  if (options.block_window_ms < 1000 || options.block_window_ms > kMaxWindowMs) {
    return Fail(InvalidArgument("historian: block window must be between 1 s and 7 days"));
  }
  if (options.rollup_max_hold_ms < 1000 || options.rollup_max_hold_ms > 86'400'000) {
    return Fail(InvalidArgument("historian: rollup_max_hold_ms must be between 1 s and 1 day"));
  }
  auto calendar = Calendar::Create(options.zone, options.minor);
  if (!calendar) return Fail(calendar.error());
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return Fail(Unavailable("historian: cannot create " + options.dir + ": " + ec.message()));
  // 64 KB pages, blocks in a rowid table: SQLite keeps a rowid table's overflow pages full
  // and stores a ~7 KB block whole in a leaf of 64 KB pages, where about nine share a page; in
  // a WITHOUT ROWID table every block left a partly empty overflow page (0.35 bytes/sample on
  // the benchmark data; 4 KB pages with a rowid table: 0.2). Rowids follow insertion order, so
  // new blocks are appended at the right edge of the tree and pages fill up.
  auto db = SqliteDb::Open((fs::path(options.dir) / "historian.db").string(), 65536);
  if (!db) return Fail(db.error());
  if (Status s = CreateSchema(**db); !s.ok()) return Fail(s);
  edge::QueueOptions q;
  q.dir = (fs::path(options.dir) / "wal").string();
  q.segment_bytes = options.wal_segment_bytes;
  auto wal = edge::DurableQueue::Open(env, q);
  if (!wal) return Fail(wal.error());
  std::unique_ptr<Engine> engine(
      new Engine(env, std::move(options), std::move(*calendar), std::move(*db), std::move(*wal)));
  std::lock_guard lock(engine->mu_);
  if (Status r = engine->Replay(); !r.ok()) return Fail(r);
  // Seal what was replayed at once: after repeated crashes the next start replays only what
  // came after this one.
  if (engine->stats_.replayed_samples > 0) {
    if (Status r = engine->CheckpointLocked(); !r.ok()) return Fail(r);
  }
  return engine;
}

Status Engine::Replay() {
  // The newest sample of every signal that has blocks.
  auto last = db_->Prepare(
      "SELECT b.signal_id, b.data FROM blocks b JOIN (SELECT signal_id, MAX(start_ms) AS m FROM"
      " blocks GROUP BY signal_id) l ON b.signal_id = l.signal_id AND b.start_ms = l.m");
  if (!last) return last.error();
  while (true) {
    auto row = last->Step();
    if (!row) return row.error();
    if (!*row) break;
    auto block = LoadBlockLocked(last->Int(0), last->Blob(1));
    if (!block) {
      spdlog::error("historian: signal {}: newest block: {}", last->Int(0),
                    block.error().ToString());
      continue;
    }
    if (block->ts_ms.empty()) continue;
    latest_[last->Int(0)] = {last->Int(0), block->ts_ms.back(), block->values.back(),
                             block->quality.back()};
  }
  // Then what the WAL holds beyond the last checkpoint.
  uint64_t after = wal_->acked_seq();
  while (true) {
    auto records = wal_->ReadDurable(after, 256, 64u << 20);
    if (!records) return records.error();
    if (records->empty()) break;
    for (const auto& r : *records) {
      after = r.seq;
      auto samples = DecodeWalRecord(r.payload);
      if (!samples) {
        ++stats_.wal_records_lost;
        spdlog::error("historian: WAL record {}: {}", r.seq, samples.error().ToString());
        continue;
      }
      for (const auto& smp : *samples) AddToHead(smp);
      stats_.replayed_samples += samples->size();
    }
  }
  if (stats_.replayed_samples > 0) {
    spdlog::info("historian: replayed {} samples from the write-ahead log",
                 stats_.replayed_samples);
  }
  return Status::Ok();
}

int64_t Engine::WindowOf(int64_t ts_ms) const {
  return FloorDiv(ts_ms, options_.block_window_ms) * options_.block_window_ms;
}

void Engine::AddToHead(const StoredSample& s) {
  Head& head = heads_[s.signal_id];
  Point p{s.ts_ms, s.value, s.quality};
  if (head.empty() || head.back().ts_ms < s.ts_ms) {
    head.push_back(p);
  } else {
    auto it = std::lower_bound(head.begin(), head.end(), s.ts_ms,
                               [](const Point& a, int64_t t) { return a.ts_ms < t; });
    if (it != head.end() && it->ts_ms == s.ts_ms) return;  // the first one stays
    head.insert(it, p);
  }
  auto [it, fresh] = latest_.try_emplace(s.signal_id, s);
  if (!fresh && it->second.ts_ms < s.ts_ms) it->second = s;
}

Status Engine::Append(std::span<const StoredSample> samples) {
  if (samples.empty()) return Status::Ok();
  const std::string record = EncodeWalRecord(samples);
  uint64_t seq = 0;
  {
    std::lock_guard lock(mu_);
    // WAL order and head order agree (both under mu_), so a replay rebuilds the same heads.
    auto appended = wal_->Append(record);
    if (!appended) return appended.error();
    seq = *appended;
    ApplyLocked(samples);
  }
  // Group commit: the fsync runs without mu_, so other appenders add their records meanwhile and
  // one fsync covers them all. The samples are in the head already; a query may see them
  // before they are durable, but Append returns (acknowledges) only after.
  return wal_->SyncThrough(seq);
}

void Engine::ApplyLocked(std::span<const StoredSample> samples) {
  std::vector<int64_t> touched;
  for (const auto& s : samples) {
    // Samples usually come grouped by signal or in a repeating order: skip repeats cheaply.
    if (touched.empty() || touched.back() != s.signal_id) touched.push_back(s.signal_id);
    AddToHead(s);
  }
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  // Seal the windows that a newer window of the same signal followed.
  std::vector<int64_t> to_seal;
  for (int64_t id : touched) {
    const Head& h = heads_[id];
    if (!h.empty() && WindowOf(h.front().ts_ms) < WindowOf(h.back().ts_ms)) to_seal.push_back(id);
  }
  if (!to_seal.empty()) {
    Status s = InTransaction(*db_, [&]() -> Status {
      for (int64_t id : to_seal) {
        if (Status r = SealLocked(id, WindowOf(heads_[id].back().ts_ms)); !r.ok()) return r;
      }
      return Status::Ok();
    });
    // The samples stay in the heads: a failed seal is retried at the next checkpoint.
    FinishSealsLocked(s.ok());
    if (!s.ok()) spdlog::error("historian: sealing blocks failed: {}", s.ToString());
  }
  if (wal_->stats().disk_bytes > options_.checkpoint_wal_bytes) {
    if (Status s = CheckpointLocked(); !s.ok()) {
      spdlog::error("historian: checkpoint failed: {}", s.ToString());
    }
  }
}

Status Engine::SealLocked(int64_t signal, int64_t before_window) {
  Head& head = heads_[signal];
  auto end = before_window == std::numeric_limits<int64_t>::max()
                 ? head.end()
                 : std::lower_bound(head.begin(), head.end(), before_window,
                                    [](const Point& a, int64_t t) { return a.ts_ms < t; });
  auto existing = db_->Prepare(
      "SELECT data, start_ms FROM blocks WHERE signal_id = ?1 AND start_ms >= ?2 AND start_ms < ?3"
      " ORDER BY start_ms");
  auto set_aside = db_->Prepare("INSERT OR REPLACE INTO damaged_blocks VALUES (?1, ?2, ?3)");
  if (!set_aside) return set_aside.error();
  auto remove =
      db_->Prepare("DELETE FROM blocks WHERE signal_id = ?1 AND start_ms >= ?2 AND start_ms < ?3");
  auto insert = db_->Prepare("INSERT INTO blocks VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!existing) return existing.error();
  if (!remove) return remove.error();
  if (!insert) return insert.error();
  // Signals are sealed in ascending order: candidates more than kMaxReferenceOffset below are
  // of no use any more.
  seal_cache_.erase(seal_cache_.begin(),
                    seal_cache_.lower_bound({signal - codec::kMaxReferenceOffset,
                                             std::numeric_limits<int64_t>::min()}));
  SealedWindows sealed;
  for (auto it = head.begin(); it != end;) {
    const int64_t window = WindowOf(it->ts_ms);
    auto window_end =
        std::find_if(it, end, [&](const Point& p) { return WindowOf(p.ts_ms) != window; });
    // What the window holds already: it wins over the head (first stored wins).
    std::vector<Point> merged;
    existing->Reset();
    existing->Bind(1, signal).Bind(2, window).Bind(3, window + options_.block_window_ms);
    std::vector<Point> stored;
    while (true) {
      auto row = existing->Step();
      if (!row) return row.error();
      if (!*row) break;
      auto block = LoadBlockLocked(signal, existing->Blob(0));
      if (!block) {
        // A damaged block must not stop the window from taking new samples: its bytes move to
        // damaged_blocks (kept for inspection and repair) and the window goes on without them.
        spdlog::critical(
            "historian: data loss: signal {}, block at {} ms: {}; its bytes are kept "
            "in damaged_blocks",
            signal, existing->Int(1), block.error().ToString());
        set_aside->Reset();
        set_aside->Bind(1, signal).Bind(2, existing->Int(1)).BindBlob(3, existing->Blob(0));
        if (Status s = set_aside->Run(); !s.ok()) return s;
        ++stats_.damaged_blocks;
        continue;
      }
      for (size_t i = 0; i < block->ts_ms.size(); ++i) {
        stored.push_back({block->ts_ms[i], block->values[i], block->quality[i]});
      }
    }
    std::merge(stored.begin(), stored.end(), it, window_end, std::back_inserter(merged),
               [](const Point& a, const Point& b) { return a.ts_ms < b.ts_ms; });
    // std::merge puts an equal head sample after the stored one: drop the later ones.
    merged.erase(std::unique(merged.begin(), merged.end(),
                             [](const Point& a, const Point& b) { return a.ts_ms == b.ts_ms; }),
                 merged.end());
    remove->Reset();
    remove->Bind(1, signal).Bind(2, window).Bind(3, window + options_.block_window_ms);
    if (Status s = remove->Run(); !s.ok()) return s;
    for (size_t from = 0; from < merged.size(); from += codec::kMaxBlockSamples) {
      const size_t n = std::min(codec::kMaxBlockSamples, merged.size() - from);
      std::vector<int64_t> ts(n);
      std::vector<double> values(n);
      std::vector<Quality> quality(n);
      for (size_t i = 0; i < n; ++i) {
        ts[i] = merged[from + i].ts_ms;
        values[i] = merged[from + i].value;
        quality[i] = merged[from + i].quality;
      }
      int64_t ref_mask = 0;
      auto data = EncodeBlockLocked(signal, window, merged.size() <= codec::kMaxBlockSamples, ts,
                                    values, quality, &ref_mask);
      if (!data) return data.error();
      insert->Reset();
      insert->Bind(1, signal)
          .Bind(2, ts.front())
          .Bind(3, ts.back())
          .Bind(4, static_cast<int64_t>(n))
          .BindBlob(5, *data)
          .Bind(6, ref_mask);
      if (Status s = insert->Run(); !s.ok()) return s;
    }
    sealed[window] = std::move(merged);
    it = window_end;
  }
  if (head.begin() == end) return Status::Ok();
  const int64_t first = WindowOf(head.front().ts_ms);
  const int64_t last_end = WindowOf(std::prev(end)->ts_ms) + options_.block_window_ms;
  // The head keeps the samples until the transaction commits (FinishSealsLocked): a seal that
  // rolls back must leave them where the next checkpoint finds them.
  sealing_[signal] = static_cast<size_t>(end - head.begin());
  // The last sample's value holds into the intervals after it (up to rollup_max_hold_ms).
  // The rollups need the tail from before this seal (the value that held into its first
  // window); the newest window sealed here becomes the tail after.
  Status s = UpdateRollupsLocked(signal, first, last_end + options_.rollup_max_hold_ms, &sealed);
  if (!s.ok()) return s;
  for (auto w = sealed.rbegin(); w != sealed.rend(); ++w) {
    if (w->second.empty()) continue;
    if (auto t = tails_.find(signal); t == tails_.end() || t->second.window <= w->first) {
      tails_[signal] = Tail{w->first, w->second.back()};
    }
    break;
  }
  return Status::Ok();
}

void Engine::FinishSealsLocked(bool committed) {
  if (committed) {
    for (const auto& [signal, n] : sealing_) {
      auto h = heads_.find(signal);
      if (h == heads_.end()) continue;
      h->second.erase(h->second.begin(), h->second.begin() + static_cast<ptrdiff_t>(n));
      if (h->second.empty()) heads_.erase(h);
    }
  } else {
    tails_.clear();  // they may name windows of the rolled-back transaction
  }
  sealing_.clear();
  seal_cache_.clear();
}

Result<std::string> Engine::EncodeBlockLocked(int64_t signal, int64_t window, bool whole_window,
                                              std::span<const int64_t> ts_ms,
                                              std::span<const double> values,
                                              std::span<const Quality> quality, int64_t* ref_mask) {
  *ref_mask = 0;
  // The codec search runs for a signal's first block and every kCodecSearchEvery-th after; in
  // between its winner is reused (meter signals keep their character), references included.
  CodecHint& hint = codec_hints_[signal];
  const bool search = hint.blocks_since_search == 0;
  hint.blocks_since_search = (hint.blocks_since_search + 1) % kCodecSearchEvery;
  // Candidate references: lower signals this transaction sealed with the same timestamps in
  // this window, standing alone (so that a block never needs more than one level to decode
  // when written). Only float32 signals are predicted (codec/reference.h).
  std::vector<int64_t> cand_offsets;
  std::vector<std::span<const double>> cand_cols;
  bool f32 = whole_window && ts_ms.size() >= 16;
  for (size_t i = 0; f32 && i < values.size(); ++i) f32 = IsFloat32(values[i]);
  if (f32) {
    for (int64_t off = 1; off <= codec::kMaxReferenceOffset; ++off) {
      auto it = seal_cache_.find({signal - off, window});
      if (it == seal_cache_.end() || !it->second.standalone) continue;
      if (!std::equal(ts_ms.begin(), ts_ms.end(), it->second.ts_ms.begin(),
                      it->second.ts_ms.end())) {
        continue;
      }
      cand_offsets.push_back(off);
      cand_cols.emplace_back(it->second.values);
    }
  }
  auto remember = [&](bool standalone) {
    if (!whole_window) return;
    seal_cache_[{signal, window}] =
        SealedValues{std::vector<int64_t>(ts_ms.begin(), ts_ms.end()),
                     std::vector<double>(values.begin(), values.end()), standalone};
  };
  // Encodes against the candidates `pick` (indices); nullopt when the fit fails.
  auto referenced = [&](const std::vector<size_t>& pick, std::optional<StoredCodec> codec,
                        StoredCodec* used) -> std::optional<Result<std::string>> {
    BlockReferences refs;
    std::vector<std::span<const double>> cols;
    for (size_t j : pick) {
      refs.offsets.push_back(cand_offsets[j]);
      cols.push_back(cand_cols[j]);
    }
    auto coeffs = codec::FitReferences(values, cols);
    if (!coeffs) return std::nullopt;
    refs.coeffs = std::move(*coeffs);
    const auto residuals = codec::ReferenceResiduals(values, refs.coeffs, cols);
    auto out = EncodeReferencedBlock(ts_ms, residuals, quality, refs, codec, used);
    if (out) {
      for (int64_t off : refs.offsets) *ref_mask |= int64_t{1} << off;
    }
    return out;
  };
  if (search) {
    StoredCodec alone_codec;
    auto alone = EncodeStoredBlock(ts_ms, values, quality, std::nullopt, &alone_codec);
    if (!alone) return alone;
    hint.codec = alone_codec;
    hint.ref_offsets.clear();
    if (!cand_cols.empty()) {
      const auto pick = codec::ChooseReferences(values, cand_cols);
      StoredCodec residual_codec;
      auto refd = pick.empty() ? std::nullopt : referenced(pick, std::nullopt, &residual_codec);
      if (refd && !*refd) return *refd;
      if (refd && (*refd)->size() < alone->size()) {
        for (size_t j : pick) hint.ref_offsets.push_back(cand_offsets[j]);
        hint.residual_codec = residual_codec;
        remember(false);
        return std::move(**refd);
      }
      *ref_mask = 0;
    }
    remember(true);
    return alone;
  }
  if (!hint.ref_offsets.empty()) {
    std::vector<size_t> pick;
    for (int64_t off : hint.ref_offsets) {
      auto at = std::find(cand_offsets.begin(), cand_offsets.end(), off);
      if (at == cand_offsets.end()) break;
      pick.push_back(static_cast<size_t>(at - cand_offsets.begin()));
    }
    if (pick.size() == hint.ref_offsets.size()) {
      StoredCodec used;
      auto refd = referenced(pick, hint.residual_codec, &used);
      if (refd) {
        if (!*refd) return *refd;
        hint.residual_codec = used;
        remember(false);
        return std::move(**refd);
      }
    }
  }
  StoredCodec used;
  auto alone = EncodeStoredBlock(ts_ms, values, quality, hint.codec, &used);
  if (!alone) return alone;
  hint.codec = used;  // also a new search's winner when the hint no longer fit
  remember(true);
  return alone;
}

Result<StoredBlock> Engine::LoadBlockLocked(int64_t signal, std::string_view bytes) {
  auto block = DecodeStoredBlock(bytes);
  if (!block || block->refs.offsets.empty()) return block;
  if (block->ts_ms.empty()) return Fail(DataLoss("referenced block without samples"));
  const int64_t from = block->ts_ms.front();
  const int64_t to = block->ts_ms.back() + 1;
  std::vector<std::vector<double>> cols;
  for (int64_t off : block->refs.offsets) {
    // Offsets are >= 1: the recursion goes down the signal ids and ends.
    const int64_t ref = signal - off;
    auto points = ReadBlocks(ref, WindowOf(from), to, std::numeric_limits<size_t>::max(), from, to);
    if (!points) {
      return Fail(DataLoss(fmt::format("signal {}, block at {} ms: its reference signal {}: {}",
                                       signal, from, ref, points.error().message())));
    }
    std::vector<double> col(block->ts_ms.size());
    size_t j = 0;
    for (size_t i = 0; i < col.size(); ++i) {
      while (j < points->size() && (*points)[j].ts_ms < block->ts_ms[i]) ++j;
      if (j == points->size() || (*points)[j].ts_ms != block->ts_ms[i]) {
        return Fail(DataLoss(
            fmt::format("signal {}, block at {} ms: its reference signal {} has no sample at {} ms",
                        signal, from, ref, block->ts_ms[i])));
      }
      col[i] = (*points)[j].value;
    }
    cols.push_back(std::move(col));
  }
  std::vector<std::span<const double>> spans(cols.begin(), cols.end());
  if (Status s = codec::ApplyReferenceResiduals(block->refs.coeffs, spans, block->values);
      !s.ok()) {
    return Fail(DataLoss(fmt::format("signal {}, block at {} ms: {}", signal, from, s.message())));
  }
  block->refs = {};
  return block;
}

Result<size_t> Engine::DetachReferencesLocked(int64_t signal, int64_t from_ms, int64_t to_ms,
                                              size_t limit) {
  auto find = db_->Prepare(
      "SELECT rowid, data, ref_mask FROM blocks WHERE signal_id = ?1 AND start_ms >= ?2 AND"
      " start_ms < ?3 AND (ref_mask >> ?4) & 1 = 1 LIMIT ?5");
  auto update = db_->Prepare("UPDATE blocks SET data = ?1, ref_mask = ?2 WHERE rowid = ?3");
  if (!find) return Fail(find.error());
  if (!update) return Fail(update.error());
  size_t done = 0;
  for (int64_t off = 1; off <= codec::kMaxReferenceOffset && done < limit; ++off) {
    const int64_t above = signal + off;
    find->Reset();
    find->Bind(1, above)
        .Bind(2, from_ms)
        .Bind(3, to_ms)
        .Bind(4, off)
        .Bind(5, static_cast<int64_t>(limit - done));
    std::vector<std::tuple<int64_t, std::string, int64_t>> rows;
    while (true) {
      auto row = find->Step();
      if (!row) return Fail(row.error());
      if (!*row) break;
      rows.emplace_back(find->Int(0), find->Blob(1), find->Int(2));
    }
    for (const auto& [rowid, data, mask] : rows) {
      auto block = LoadBlockLocked(above, data);
      std::string fresh = data;
      int64_t fresh_mask = mask & ~(int64_t{1} << off);
      if (block) {
        auto alone = EncodeStoredBlock(block->ts_ms, block->values, block->quality,
                                       codec_hints_[above].codec);
        if (!alone) return Fail(alone.error());
        fresh = std::move(*alone);
        fresh_mask = 0;
      } else {
        // Unreadable already; it stays as it is (queries report the loss) but no longer
        // holds retention up.
        spdlog::critical("historian: data loss: {}", block.error().ToString());
      }
      update->Reset();
      update->BindBlob(1, fresh).Bind(2, fresh_mask).Bind(3, rowid);
      if (Status s = update->Run(); !s.ok()) return Fail(s);
      ++done;
    }
  }
  return done;
}

Status Engine::Checkpoint() {
  std::lock_guard lock(mu_);
  return CheckpointLocked();
}

Status Engine::CheckpointLocked() {
  const uint64_t upto = wal_->durable_seq();
  if (!heads_.empty()) {
    std::vector<int64_t> ids;
    for (const auto& [id, h] : heads_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());  // references point downwards (EncodeBlockLocked)
    Status s = InTransaction(*db_, [&]() -> Status {
      for (int64_t id : ids) {
        if (Status r = SealLocked(id, std::numeric_limits<int64_t>::max()); !r.ok()) return r;
      }
      return Status::Ok();
    });
    FinishSealsLocked(s.ok());
    if (!s.ok()) return s;
  }
  // Everything up to `upto` is in committed blocks now: the WAL may forget it.
  if (upto > wal_->acked_seq()) {
    if (Status s = wal_->Ack(upto); !s.ok()) return s;
  }
  // And SQLite's own write-ahead file goes back into the database and shrinks to nothing.
  if (Status s = db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)"); !s.ok()) {
    spdlog::warn("historian: SQLite checkpoint: {}", s.ToString());
  }
  ++stats_.checkpoints;
  return Status::Ok();
}

Result<std::vector<StoredSample>> Engine::Latest(std::span<const int64_t> signal_ids) {
  std::lock_guard lock(mu_);
  std::vector<StoredSample> out;
  for (int64_t id : signal_ids) {
    if (auto it = latest_.find(id); it != latest_.end()) out.push_back(it->second);
  }
  return out;
}

Result<std::vector<Engine::Point>> Engine::ReadBlocks(int64_t signal, int64_t from_start,
                                                      int64_t to_start, size_t limit,
                                                      int64_t from_ms, int64_t to_ms) {
  auto st = db_->Prepare(
      "SELECT data FROM blocks WHERE signal_id = ?1 AND start_ms >= ?2 AND start_ms < ?3"
      " ORDER BY start_ms");
  if (!st) return Fail(st.error());
  st->Bind(1, signal).Bind(2, from_start).Bind(3, to_start);
  std::vector<Point> out;
  while (out.size() < limit) {
    auto row = st->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    auto block = LoadBlockLocked(signal, st->Blob(0));
    if (!block) return Fail(block.error());
    for (size_t i = 0; i < block->ts_ms.size() && out.size() < limit; ++i) {
      if (block->ts_ms[i] >= from_ms && block->ts_ms[i] < to_ms) {
        out.push_back({block->ts_ms[i], block->values[i], block->quality[i]});
      }
    }
  }
  return out;
}

Result<std::vector<StoredSample>> Engine::Range(int64_t signal_id, int64_t from_ms, int64_t to_ms,
                                                size_t limit) {
  std::lock_guard lock(mu_);
  return RangeLocked(signal_id, from_ms, to_ms, limit);
}

Result<std::vector<StoredSample>> Engine::RangeLocked(int64_t signal_id, int64_t from_ms,
                                                      int64_t to_ms, size_t limit) {
  std::vector<StoredSample> out;
  from_ms = std::max(from_ms, kMinQueryMs);
  to_ms = std::min(to_ms, kMaxQueryMs);
  if (from_ms >= to_ms || limit == 0) return out;
  // Head samples in range (few: the open windows and late data).
  std::vector<Point> head;
  if (auto h = heads_.find(signal_id); h != heads_.end()) {
    auto lo = std::lower_bound(h->second.begin(), h->second.end(), from_ms,
                               [](const Point& a, int64_t t) { return a.ts_ms < t; });
    for (auto it = lo; it != h->second.end() && it->ts_ms < to_ms; ++it) head.push_back(*it);
  }
  // The output is reserved from the blocks' sample counts: a year at 1 s is 31.5 million
  // samples (1 GB), and growing the vector by doubling copied and faulted in twice that.
  {
    auto stored = BlockSamplesLocked(signal_id, WindowOf(from_ms), to_ms);
    if (!stored) return Fail(stored.error());
    out.reserve(std::min(limit, static_cast<size_t>(std::max<int64_t>(0, *stored)) + head.size()));
  }
  // The blocks in time order (they never overlap), merged with the head; the stored sample wins
  // at equal times. One statement for the whole range; reading stops at `limit`.
  auto st = db_->Prepare(
      "SELECT data FROM blocks WHERE signal_id = ?1 AND start_ms >= ?2 AND start_ms < ?3"
      " ORDER BY start_ms");
  if (!st) return Fail(st.error());
  st->Bind(1, signal_id).Bind(2, WindowOf(from_ms)).Bind(3, to_ms);
  size_t hi = 0;
  auto head_before = [&](int64_t t) {
    for (; hi < head.size() && head[hi].ts_ms < t && out.size() < limit; ++hi) {
      out.push_back({signal_id, head[hi].ts_ms, head[hi].value, head[hi].quality});
    }
  };
  while (out.size() < limit) {
    auto row = st->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    auto block = LoadBlockLocked(signal_id, st->Blob(0));
    if (!block) return Fail(block.error());
    for (size_t i = 0; i < block->ts_ms.size() && out.size() < limit; ++i) {
      const int64_t ts = block->ts_ms[i];
      if (ts < from_ms || ts >= to_ms) continue;
      head_before(ts);
      if (out.size() >= limit) break;
      if (hi < head.size() && head[hi].ts_ms == ts) ++hi;  // stored wins
      out.push_back({signal_id, ts, block->values[i], block->quality[i]});
    }
  }
  head_before(std::numeric_limits<int64_t>::max());
  return out;
}

Result<int64_t> Engine::BlockSamplesLocked(int64_t signal, int64_t from_start, int64_t to_start) {
  auto st = db_->Prepare(
      "SELECT COALESCE(SUM(count), 0) FROM blocks WHERE signal_id = ?1 AND start_ms >= ?2 AND"
      " start_ms < ?3");
  if (!st) return Fail(st.error());
  st->Bind(1, signal).Bind(2, from_start).Bind(3, to_start);
  auto row = st->Step();
  if (!row) return Fail(row.error());
  return st->Int(0);
}

Result<int64_t> Engine::Count(int64_t signal_id, int64_t from_ms, int64_t to_ms) {
  from_ms = std::max(from_ms, kMinQueryMs);
  to_ms = std::min(to_ms, kMaxQueryMs);
  if (from_ms >= to_ms) return int64_t{0};
  {
    std::lock_guard lock(mu_);
    // Whole windows without head samples count from the block rows alone.
    const bool head_in_range = [&] {
      auto h = heads_.find(signal_id);
      if (h == heads_.end()) return false;
      auto lo = std::lower_bound(h->second.begin(), h->second.end(), from_ms,
                                 [](const Point& a, int64_t t) { return a.ts_ms < t; });
      return lo != h->second.end() && lo->ts_ms < to_ms;
    }();
    const int64_t inner_from =
        WindowOf(from_ms) == from_ms ? from_ms : WindowOf(from_ms) + options_.block_window_ms;
    const int64_t inner_to = WindowOf(to_ms);
    if (!head_in_range && inner_from <= inner_to) {
      auto stored = BlockSamplesLocked(signal_id, inner_from, inner_to);
      if (!stored) return Fail(stored.error());
      int64_t n = *stored;
      // The partial windows at both ends are decoded.
      for (auto [a, b] : {std::pair{from_ms, inner_from}, std::pair{inner_to, to_ms}}) {
        if (a >= b) continue;
        auto part = ReadBlocks(signal_id, WindowOf(a), WindowOf(a) + options_.block_window_ms,
                               std::numeric_limits<size_t>::max(), a, b);
        if (!part) return Fail(part.error());
        n += static_cast<int64_t>(part->size());
      }
      return n;
    }
  }
  auto all = Range(signal_id, from_ms, to_ms, std::numeric_limits<size_t>::max());
  if (!all) return Fail(all.error());
  return static_cast<int64_t>(all->size());
}

Result<std::optional<StoredSample>> Engine::LastBeforeLocked(int64_t signal, int64_t ts_ms) {
  std::optional<StoredSample> best;
  if (auto h = heads_.find(signal); h != heads_.end()) {
    auto it = std::lower_bound(h->second.begin(), h->second.end(), ts_ms,
                               [](const Point& a, int64_t t) { return a.ts_ms < t; });
    if (it != h->second.begin()) {
      --it;
      best = StoredSample{signal, it->ts_ms, it->value, it->quality};
    }
  }
  // The newest block that starts before ts_ms has the newest stored sample before it (or, when
  // all of its samples are at or after ts_ms, the block before it does).
  auto st = db_->Prepare(
      "SELECT data FROM blocks WHERE signal_id = ?1 AND start_ms < ?2 ORDER BY start_ms DESC"
      " LIMIT 2");
  if (!st) return Fail(st.error());
  st->Bind(1, signal).Bind(2, ts_ms);
  while (true) {
    auto row = st->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    auto block = LoadBlockLocked(signal, st->Blob(0));
    if (!block) return Fail(block.error());
    auto it = std::lower_bound(block->ts_ms.begin(), block->ts_ms.end(), ts_ms);
    if (it == block->ts_ms.begin()) continue;
    const size_t i = static_cast<size_t>(it - block->ts_ms.begin()) - 1;
    if (!best || block->ts_ms[i] > best->ts_ms) {
      best = StoredSample{signal, block->ts_ms[i], block->values[i], block->quality[i]};
    }
    break;
  }
  return best;
}

std::optional<Engine::Point> Engine::KnownLastBeforeLocked(int64_t signal, int64_t window,
                                                           const SealedWindows* sealed) const {
  if (auto h = heads_.find(signal); h != heads_.end()) {
    // Samples a seal of this transaction took stay in the head until it commits: skip them.
    const auto sealing = sealing_.find(signal);
    const size_t skip = sealing == sealing_.end() ? 0 : sealing->second;
    if (h->second.size() > skip && h->second[skip].ts_ms < window) return std::nullopt;
  }
  const int64_t previous = window - options_.block_window_ms;
  if (sealed) {
    if (auto w = sealed->find(previous); w != sealed->end() && !w->second.empty()) {
      return w->second.back();
    }
  }
  if (auto t = tails_.find(signal); t != tails_.end() && t->second.window == previous) {
    return t->second.last;
  }
  return std::nullopt;
}

Result<std::vector<Aggregate>> Engine::ComputeMinorLocked(int64_t signal, int64_t window,
                                                          const SealedWindows* sealed) {
  std::vector<int64_t> starts;
  for (int64_t s = calendar_.Floor(Interval::kMinor, window); s < window + options_.block_window_ms;
       s = calendar_.Next(Interval::kMinor, s)) {
    if (s >= window) starts.push_back(s);
  }
  std::vector<Aggregate> out;
  if (starts.empty()) return out;
  const int64_t end = calendar_.Next(Interval::kMinor, starts.back());
  std::vector<Sample> samples;
  const auto have = sealed ? sealed->find(window) : SealedWindows::const_iterator{};
  if (sealed && have != sealed->end() && end <= window + options_.block_window_ms) {
    // Every sample of the window, just written: no need to read the blocks back.
    samples.reserve(have->second.size());
    for (const Point& p : have->second) {
      if (p.ts_ms >= starts.front() && p.ts_ms < end) samples.push_back({p.ts_ms, p.value});
    }
  } else {
    auto raw = RangeLocked(signal, starts.front(), end, std::numeric_limits<size_t>::max());
    if (!raw) return Fail(raw.error());
    samples.reserve(raw->size());
    for (const auto& r : *raw) samples.push_back({r.ts_ms, r.value});
  }
  RollupOptions ro;
  ro.counter = true;  // consumption is kept for every signal; only counters expose it
  ro.max_hold_ms = options_.rollup_max_hold_ms;
  std::optional<Sample> prev;
  std::optional<Point> known =
      starts.front() == window ? KnownLastBeforeLocked(signal, window, sealed) : std::nullopt;
  if (known) {
    prev = Sample{known->ts_ms, known->value};
  } else {
    auto before = LastBeforeLocked(signal, starts.front());
    if (!before) return Fail(before.error());
    if (*before) prev = Sample{(*before)->ts_ms, (*before)->value};
  }
  size_t i = 0;
  for (int64_t s : starts) {
    const int64_t e = calendar_.Next(Interval::kMinor, s);
    const size_t from = i;
    while (i < samples.size() && samples[i].ts_ms < e) ++i;
    auto part = std::span(samples).subspan(from, i - from);
    std::optional<Sample> after;
    if (i < samples.size()) after = samples[i];
    Aggregate a = Compute(s, e, part, prev, after, ro);
    if (a.count > 0 || a.weighted_ms > 0) out.push_back(a);
    for (const Sample& smp : part) {
      if (std::isfinite(smp.value)) prev = smp;
    }
  }
  return out;
}

Status Engine::UpdateRollupsLocked(int64_t signal, int64_t from_ms, int64_t to_ms,
                                   const SealedWindows* sealed) {
  std::vector<int64_t> owners;
  for (int64_t s = calendar_.Floor(Interval::kMinor, from_ms); s < to_ms;
       s = calendar_.Next(Interval::kMinor, s)) {
    const int64_t w = WindowOf(s);
    if (owners.empty() || owners.back() != w) owners.push_back(w);
  }
  auto put = db_->Prepare("INSERT OR REPLACE INTO rollups VALUES (?1, ?2, ?3)");
  auto del = db_->Prepare("DELETE FROM rollups WHERE signal_id = ?1 AND window_ms = ?2");
  if (!put) return put.error();
  if (!del) return del.error();
  for (int64_t w : owners) {
    auto aggs = ComputeMinorLocked(signal, w, sealed);
    if (!aggs) return aggs.error();
    Statement& st = aggs->empty() ? *del : *put;
    st.Reset();
    st.Bind(1, signal).Bind(2, w);
    if (!aggs->empty()) st.BindBlob(3, EncodeRollups(w, *aggs));
    if (Status s = st.Run(); !s.ok()) return s;
  }
  return Status::Ok();
}

Result<std::vector<Aggregate>> Engine::MinorsLocked(int64_t signal, int64_t from_ms,
                                                    int64_t to_ms) {
  std::map<int64_t, std::vector<Aggregate>> by_window;
  auto st = db_->Prepare(
      "SELECT window_ms, data FROM rollups WHERE signal_id = ?1 AND window_ms >= ?2 AND"
      " window_ms < ?3");
  if (!st) return Fail(st.error());
  st->Bind(1, signal).Bind(2, WindowOf(from_ms)).Bind(3, to_ms);
  while (true) {
    auto row = st->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    auto aggs = DecodeRollups(st->Int(0), st->Blob(1));
    if (!aggs) return Fail(aggs.error());
    by_window[st->Int(0)] = std::move(*aggs);
  }
  // Windows not sealed yet (the head): computed now from the raw samples.
  if (auto h = heads_.find(signal); h != heads_.end()) {
    std::vector<int64_t> open;
    for (const Point& p : h->second) {
      const int64_t w = WindowOf(p.ts_ms);
      if ((open.empty() || open.back() != w) && w + options_.block_window_ms > from_ms &&
          w < to_ms) {
        open.push_back(w);
      }
    }
    for (int64_t w : open) {
      auto aggs = ComputeMinorLocked(signal, w);
      if (!aggs) return Fail(aggs.error());
      by_window[w] = std::move(*aggs);
    }
  }
  std::vector<Aggregate> out;
  for (auto& [w, aggs] : by_window) {
    for (auto& a : aggs) {
      if (a.start_ms >= from_ms && a.start_ms < to_ms) out.push_back(a);
    }
  }
  return out;
}

namespace {

// Combines `parts` (sorted by start) into the intervals starting at `starts` (each ending at
// `next(start)`); intervals without parts with data are left out.
template <typename NextFn>
std::vector<Aggregate> Group(std::span<const Aggregate> parts, const std::vector<int64_t>& starts,
                             NextFn next, MinMaxFrom from) {
  std::vector<Aggregate> out;
  size_t i = 0;
  for (int64_t s : starts) {
    const int64_t e = next(s);
    while (i < parts.size() && parts[i].start_ms < s) ++i;
    const size_t first = i;
    while (i < parts.size() && parts[i].start_ms < e) ++i;
    if (i == first) continue;
    Aggregate a = Combine(s, e, parts.subspan(first, i - first), from);
    if (a.count > 0 || a.weighted_ms > 0) out.push_back(a);
  }
  return out;
}

}  // namespace

Result<std::vector<Aggregate>> Engine::Aggregates(int64_t signal_id, Interval interval,
                                                  int64_t from_ms, int64_t to_ms,
                                                  std::optional<Interval> minmax_from) {
  if (minmax_from && static_cast<uint8_t>(*minmax_from) >= static_cast<uint8_t>(interval)) {
    return Fail(InvalidArgument(fmt::format("min/max from {} values: must be finer than {}",
                                            IntervalName(*minmax_from), IntervalName(interval))));
  }
  from_ms = std::max(from_ms, Calendar::kMinMs);
  to_ms = std::min(to_ms, Calendar::kMaxMs);
  std::vector<Aggregate> out;
  if (from_ms >= to_ms) return out;
  // Bound the work before asking the calendar for every start.
  const int64_t shortest = interval == Interval::kMinor  ? options_.minor.count() * 60'000
                           : interval == Interval::kHour ? 1'800'000  // a DST half hour
                                                         : 3'600'000;
  if ((to_ms - from_ms) / shortest > 100'000) {
    return Fail(InvalidArgument("more than 100,000 intervals asked for; use a coarser interval"));
  }
  std::lock_guard lock(mu_);
  const auto starts = calendar_.Starts(interval, from_ms, to_ms);
  if (starts.empty()) return out;
  const int64_t begin = starts.front();
  const int64_t end = calendar_.Next(interval, starts.back());
  auto minors = MinorsLocked(signal_id, begin, end);
  if (!minors) return Fail(minors.error());
  if (interval == Interval::kMinor) return *minors;
  auto next = [this](Interval i) { return [this, i](int64_t s) { return calendar_.Next(i, s); }; };
  if (!minmax_from) return Group(*minors, starts, next(interval), MinMaxFrom::kSamples);
  std::vector<Aggregate> ref = *minmax_from == Interval::kMinor
                                   ? *minors
                                   : Group(*minors, calendar_.Starts(*minmax_from, begin, end),
                                           next(*minmax_from), MinMaxFrom::kSamples);
  return Group(ref, starts, next(interval), MinMaxFrom::kMeans);
}

Result<std::vector<StoredSample>> Engine::Chart(int64_t signal_id, int64_t from_ms, int64_t to_ms,
                                                size_t max_points) {
  if (max_points < 2) return Fail(InvalidArgument("a chart needs at least 2 points"));
  from_ms = std::max(from_ms, Calendar::kMinMs);
  to_ms = std::min(to_ms, Calendar::kMaxMs);
  std::vector<StoredSample> out;
  if (from_ms >= to_ms) return out;
  const int64_t buckets = static_cast<int64_t>(max_points / 2);
  const int64_t width = (to_ms - from_ms + buckets - 1) / buckets;
  std::lock_guard lock(mu_);
  const int64_t minor_ms = options_.minor.count() * 60'000;
  if (width < 2 * minor_ms) {
    auto raw = RangeLocked(signal_id, from_ms, to_ms, std::numeric_limits<size_t>::max());
    if (!raw) return Fail(raw.error());
    return DownsampleMinMax(*raw, from_ms, to_ms, max_points);
  }
  // Whole minor intervals from the rollups; the partial ones at both ends from raw samples.
  int64_t inner_from = calendar_.Floor(Interval::kMinor, from_ms);
  if (inner_from < from_ms) inner_from = calendar_.Next(Interval::kMinor, inner_from);
  const int64_t inner_to = std::max(inner_from, calendar_.Floor(Interval::kMinor, to_ms));
  auto minors = MinorsLocked(signal_id, inner_from, inner_to);
  if (!minors) return Fail(minors.error());
  std::vector<Aggregate> parts;
  RollupOptions ro;
  for (auto [a, b] : {std::pair{from_ms, inner_from}, std::pair{inner_to, to_ms}}) {
    if (a >= b) continue;
    auto raw = RangeLocked(signal_id, a, b, std::numeric_limits<size_t>::max());
    if (!raw) return Fail(raw.error());
    std::vector<Sample> samples;
    for (const auto& r : *raw) samples.push_back({r.ts_ms, r.value});
    Aggregate edge = Compute(a, b, samples, std::nullopt, std::nullopt, ro);
    if (edge.count > 0) parts.push_back(edge);
  }
  parts.insert(parts.end(), minors->begin(), minors->end());
  std::sort(parts.begin(), parts.end(),
            [](const Aggregate& x, const Aggregate& y) { return x.start_ms < y.start_ms; });
  // Each bucket keeps the extreme samples of its parts, in time order.
  size_t i = 0;
  for (int64_t b = 0; b < buckets; ++b) {
    const int64_t s = from_ms + b * width;
    const int64_t e = std::min(to_ms, s + width);
    const size_t first = i;
    while (i < parts.size() && parts[i].start_ms < e) ++i;
    if (i == first) continue;
    // A minor interval that starts in this bucket belongs to it, even where it ends past it.
    auto in_bucket = std::span(parts).subspan(first, i - first);
    Aggregate a = Combine(s, std::max(e, in_bucket.back().end_ms), in_bucket, MinMaxFrom::kSamples);
    if (a.count == 0) continue;
    StoredSample lo{signal_id, a.min_ts_ms, a.min, Quality::kGood};
    StoredSample hi{signal_id, a.max_ts_ms, a.max, Quality::kGood};
    if (hi.ts_ms < lo.ts_ms) std::swap(lo, hi);
    out.push_back(lo);
    if (hi.ts_ms != lo.ts_ms) out.push_back(hi);
  }
  return out;
}

Status Engine::SetRetention(std::optional<int64_t> signal_id, Retention r) {
  if (r.raw_ms < 0 || r.rollup_ms < 0) {
    return InvalidArgument("retention: times must be 0 (forever) or positive");
  }
  std::lock_guard lock(mu_);
  // Row 0 holds the default (signal ids start at 1).
  auto st = db_->Prepare("INSERT OR REPLACE INTO retention VALUES (?1, ?2, ?3)");
  if (!st) return st.error();
  st->Bind(1, signal_id.value_or(0)).Bind(2, r.raw_ms).Bind(3, r.rollup_ms);
  return st->Run();
}

Result<Retention> Engine::GetRetention(int64_t signal_id) {
  std::lock_guard lock(mu_);
  auto st = db_->Prepare(
      "SELECT raw_ms, rollup_ms FROM retention WHERE signal_id IN (?1, 0) ORDER BY signal_id DESC"
      " LIMIT 1");
  if (!st) return Fail(st.error());
  st->Bind(1, signal_id);
  auto row = st->Step();
  if (!row) return Fail(row.error());
  if (!*row) return Retention{};
  return Retention{st->Int(0), st->Int(1)};
}

Result<uint64_t> Engine::ApplyRetention(int64_t now_ms) {
  // Which signals, with which limits: the default applies to every signal without its own row.
  std::vector<std::pair<int64_t, Retention>> plan;
  {
    std::lock_guard lock(mu_);
    // A tail may point into a block retention deletes: forget them all (the next seals of each
    // signal learn them again).
    tails_.clear();
    auto st = db_->Prepare(
        "SELECT s.signal_id, COALESCE(r.raw_ms, d.raw_ms, 0), COALESCE(r.rollup_ms, d.rollup_ms,"
        " 0) FROM (SELECT DISTINCT signal_id FROM blocks UNION SELECT DISTINCT signal_id FROM"
        " rollups) s LEFT JOIN retention r ON r.signal_id = s.signal_id LEFT JOIN retention d ON"
        " d.signal_id = 0");
    if (!st) return Fail(st.error());
    while (true) {
      auto row = st->Step();
      if (!row) return Fail(row.error());
      if (!*row) break;
      Retention r{st->Int(1), st->Int(2)};
      if (r.raw_ms > 0 || r.rollup_ms > 0) plan.emplace_back(st->Int(0), r);
    }
  }
  uint64_t deleted = 0;
  for (const auto& [signal, r] : plan) {
    struct Target {
      int64_t limit_ms;
      const char* sql;
      uint64_t EngineStats::*counter;
    };
    const Target targets[] = {
        {r.raw_ms,
         "DELETE FROM blocks WHERE signal_id = ?1 AND start_ms IN (SELECT start_ms FROM blocks"
         " WHERE signal_id = ?1 AND end_ms < ?2 ORDER BY start_ms LIMIT ?3)",
         &EngineStats::blocks_expired},
        {r.rollup_ms,
         "DELETE FROM rollups WHERE signal_id = ?1 AND window_ms IN (SELECT window_ms FROM rollups"
         " WHERE signal_id = ?1 AND window_ms + ?4 <= ?2 ORDER BY window_ms LIMIT ?3)",
         &EngineStats::rollups_expired}};
    for (const Target& t : targets) {
      if (t.limit_ms <= 0) continue;
      const int64_t cutoff = now_ms - t.limit_ms;
      // Blocks of higher signals that refer to the raw blocks about to go are re-encoded on
      // their own first, in steps of their own.
      while (t.counter == &EngineStats::blocks_expired) {
        std::lock_guard lock(mu_);
        auto oldest = db_->Prepare("SELECT MIN(start_ms) FROM blocks WHERE signal_id = ?1");
        if (!oldest) return Fail(oldest.error());
        oldest->Bind(1, signal);
        auto row = oldest->Step();
        if (!row) return Fail(row.error());
        if (!*row || oldest->IsNull(0)) break;
        const int64_t from = oldest->Int(0);
        oldest->Reset();
        size_t n = 0;
        const int64_t id = signal;  // a structured binding: clang < 16 cannot capture it
        Status s = InTransaction(*db_, [&]() -> Status {
          auto done = DetachReferencesLocked(id, from, cutoff,
                                             static_cast<size_t>(options_.compaction_step_rows));
          if (!done) return done.error();
          n = *done;
          return Status::Ok();
        });
        if (!s.ok()) return Fail(s);
        ++stats_.compaction_steps;
        if (n < static_cast<size_t>(options_.compaction_step_rows)) break;
      }
      while (true) {
        // One step per transaction; the lock is free between steps.
        std::lock_guard lock(mu_);
        auto st = db_->Prepare(t.sql);
        if (!st) return Fail(st.error());
        st->Bind(1, signal).Bind(2, cutoff).Bind(
            3, static_cast<int64_t>(options_.compaction_step_rows));
        if (std::string_view(t.sql).find("?4") != std::string_view::npos) {
          st->Bind(4, options_.block_window_ms);
        }
        if (Status s = st->Run(); !s.ok()) return Fail(s);
        const auto n = static_cast<uint64_t>(db_->Changes());
        ++stats_.compaction_steps;
        stats_.*t.counter += n;
        deleted += n;
        if (n < static_cast<uint64_t>(options_.compaction_step_rows)) break;
      }
    }
  }
  if (deleted > 0) spdlog::info("historian: retention deleted {} rows", deleted);
  return deleted;
}

Result<std::vector<int64_t>> Engine::Signals() {
  std::lock_guard lock(mu_);
  auto st = db_->Prepare("SELECT DISTINCT signal_id FROM blocks");
  if (!st) return Fail(st.error());
  std::vector<int64_t> out;
  while (true) {
    auto row = st->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    out.push_back(st->Int(0));
  }
  for (const auto& [id, h] : heads_) out.push_back(id);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

EngineStats Engine::stats() {
  std::lock_guard lock(mu_);
  EngineStats s = stats_;
  s.head_samples = 0;
  for (const auto& [id, h] : heads_) s.head_samples += h.size();
  s.wal_bytes = wal_->stats().disk_bytes;
  auto st = db_->Prepare(
      "SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0), COALESCE(SUM(count), 0),"
      " COALESCE(SUM(ref_mask != 0), 0) FROM blocks");
  if (st && st->Step().value_or(false)) {
    s.blocks = static_cast<uint64_t>(st->Int(0));
    s.block_bytes = static_cast<uint64_t>(st->Int(1));
    s.block_samples = static_cast<uint64_t>(st->Int(2));
    s.referenced_blocks = static_cast<uint64_t>(st->Int(3));
  }
  return s;
}

Status ImportRowStore(const std::filesystem::path& path, SampleStore& into) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::Ok();
  auto db = SqliteDb::Open(path.string());
  if (!db) return db.error();
  spdlog::info("historian: importing the samples of {} ...", path.string());
  // The statement must be finalized before the connection closes: it lives in this lambda.
  auto copy = [&]() -> Result<uint64_t> {
    auto st = (*db)->Prepare(
        "SELECT signal_id, ts_ms, value, quality FROM samples ORDER BY signal_id, ts_ms");
    if (!st) return Fail(st.error());
    uint64_t total = 0;
    std::vector<StoredSample> batch;
    while (true) {
      auto row = st->Step();
      if (!row) return Fail(row.error());
      if (*row) {
        batch.push_back({st->Int(0), st->Int(1), st->Double(2), static_cast<Quality>(st->Int(3))});
      }
      if (batch.size() == 100'000 || (!*row && !batch.empty())) {
        if (Status s = into.Append(batch); !s.ok()) return Fail(s);
        total += batch.size();
        batch.clear();
        if (total % 1'000'000 == 0) spdlog::info("historian: {} samples imported", total);
      }
      if (!*row) return total;
    }
  };
  auto total = copy();
  if (!total) return total.error();
  db->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::path from = path.string() + suffix;
    if (std::filesystem::exists(from, ec))
      std::filesystem::rename(from, path.string() + ".imported" + suffix, ec);
    if (ec) return Internal("cannot rename " + from.string() + ": " + ec.message());
  }
  spdlog::info("historian: imported {} samples; the old file is now {}.imported", *total,
               path.string());
  return Status::Ok();
}

}  // namespace wattline::historian
