// SqliteSampleStore: SampleStore on SQLite, one row per sample (signal, ts) plus a table of
// each signal's newest sample. It owns its connection (a database file of its own).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "historian/sample_store.h"
#include "historian/sqlite_db.h"

namespace wattline::historian {

class SqliteSampleStore final : public SampleStore {
 public:
  // Opens or creates the store at `path`. kUnavailable when the file cannot be opened.
  static Result<std::unique_ptr<SqliteSampleStore>> Open(const std::string& path);

  Status Append(std::span<const StoredSample> samples) override;
  Result<std::vector<StoredSample>> Latest(std::span<const int64_t> signal_ids) override;
  Result<std::vector<StoredSample>> Range(int64_t signal_id, int64_t from_ms, int64_t to_ms,
                                          size_t limit) override;
  Result<int64_t> Count(int64_t signal_id, int64_t from_ms, int64_t to_ms) override;

 private:
  explicit SqliteSampleStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;
};

}  // namespace wattline::historian
