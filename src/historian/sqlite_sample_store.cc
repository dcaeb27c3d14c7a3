#include "historian/sqlite_sample_store.h"

#include <algorithm>

namespace wattline::historian {

Result<std::unique_ptr<SqliteSampleStore>> SqliteSampleStore::Open(const std::string& path) {
  auto db = SqliteDb::Open(path);
  if (!db) return Fail(db.error());
  Status s = (*db)->Exec(
      "CREATE TABLE IF NOT EXISTS samples (signal_id INTEGER NOT NULL, ts_ms INTEGER NOT NULL,"
      " value REAL NOT NULL, quality INTEGER NOT NULL, PRIMARY KEY (signal_id, ts_ms)) WITHOUT "
      "ROWID;"
      "CREATE TABLE IF NOT EXISTS latest (signal_id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL,"
      " value REAL NOT NULL, quality INTEGER NOT NULL);");
  if (!s.ok()) return Fail(s);
  return std::unique_ptr<SqliteSampleStore>(new SqliteSampleStore(std::move(*db)));
}

Status SqliteSampleStore::Append(std::span<const StoredSample> samples) {
  if (samples.empty()) return Status::Ok();
  std::lock_guard lock(mu_);
  return InTransaction(*db_, [&]() -> Status {
    auto ins = db_->Prepare("INSERT OR IGNORE INTO samples VALUES (?1, ?2, ?3, ?4)");
    if (!ins) return ins.error();
    auto up = db_->Prepare(
        "INSERT INTO latest VALUES (?1, ?2, ?3, ?4) ON CONFLICT(signal_id) DO UPDATE SET"
        " ts_ms = excluded.ts_ms, value = excluded.value, quality = excluded.quality"
        " WHERE excluded.ts_ms >= latest.ts_ms");
    if (!up) return up.error();
    for (const StoredSample& s : samples) {
      for (Statement* st : {&*ins, &*up}) {
        st->Reset();
        st->Bind(1, s.signal_id)
            .Bind(2, s.ts_ms)
            .Bind(3, s.value)
            .Bind(4, static_cast<int64_t>(s.quality));
        if (Status r = st->Run(); !r.ok()) return r;
      }
    }
    return Status::Ok();
  });
}

Result<std::vector<StoredSample>> SqliteSampleStore::Latest(std::span<const int64_t> signal_ids) {
  std::lock_guard lock(mu_);
  auto st = db_->Prepare("SELECT ts_ms, value, quality FROM latest WHERE signal_id = ?1");
  if (!st) return Fail(st.error());
  std::vector<StoredSample> out;
  for (int64_t id : signal_ids) {
    st->Reset();
    st->Bind(1, id);
    auto row = st->Step();
    if (!row) return Fail(row.error());
    if (*row) out.push_back({id, st->Int(0), st->Double(1), static_cast<Quality>(st->Int(2))});
  }
  return out;
}

Result<std::vector<StoredSample>> SqliteSampleStore::Range(int64_t signal_id, int64_t from_ms,
                                                           int64_t to_ms, size_t limit) {
  std::lock_guard lock(mu_);
  auto st = db_->Prepare(
      "SELECT ts_ms, value, quality FROM samples WHERE signal_id = ?1 AND ts_ms >= ?2 AND ts_ms < "
      "?3"
      " ORDER BY ts_ms LIMIT ?4");
  if (!st) return Fail(st.error());
  st->Bind(1, signal_id).Bind(2, from_ms).Bind(3, to_ms).Bind(4, static_cast<int64_t>(limit));
  std::vector<StoredSample> out;
  while (true) {
    auto row = st->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    out.push_back({signal_id, st->Int(0), st->Double(1), static_cast<Quality>(st->Int(2))});
  }
  return out;
}

Result<int64_t> SqliteSampleStore::Count(int64_t signal_id, int64_t from_ms, int64_t to_ms) {
  std::lock_guard lock(mu_);
  auto st = db_->Prepare(
      "SELECT count(*) FROM samples WHERE signal_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3");
  if (!st) return Fail(st.error());
  st->Bind(1, signal_id).Bind(2, from_ms).Bind(3, to_ms);
  auto row = st->Step();
  if (!row) return Fail(row.error());
  return st->Int(0);
}

std::vector<StoredSample> DownsampleMinMax(const std::vector<StoredSample>& points, int64_t from_ms,
                                           int64_t to_ms, size_t max_points) {
  if (max_points < 2 || points.size() <= max_points || to_ms <= from_ms) return points;
  const size_t buckets = max_points / 2;
  const double width = static_cast<double>(to_ms - from_ms) / static_cast<double>(buckets);
  std::vector<StoredSample> out;
  out.reserve(max_points);
  size_t i = 0;
  while (i < points.size()) {
    size_t b = std::min(
        buckets - 1, static_cast<size_t>(std::max<double>(0, (points[i].ts_ms - from_ms) / width)));
    size_t lo = i, hi = i, j = i;
    for (; j < points.size(); ++j) {
      size_t bj =
          std::min(buckets - 1,
                   static_cast<size_t>(std::max<double>(0, (points[j].ts_ms - from_ms) / width)));
      if (bj != b) break;
      if (points[j].value < points[lo].value) lo = j;
      if (points[j].value > points[hi].value) hi = j;
    }
    out.push_back(points[std::min(lo, hi)]);
    if (lo != hi) out.push_back(points[std::max(lo, hi)]);
    i = j;
  }
  return out;
}

}  // namespace wattline::historian
