// SqliteDb: a thin RAII wrapper over one SQLite connection (WAL mode, synchronous=FULL so that
// a committed transaction survives a power cut) with prepared statements.
// Thread-safety: one SqliteDb must be used by one thread at a time; callers serialize.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace wattline::historian {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement(const Statement&) = delete;
  ~Statement();

  Statement& Bind(int index, int64_t v);
  Statement& Bind(int index, double v);
  Statement& Bind(int index, std::string_view v);
  Statement& BindBlob(int index, std::string_view v);
  Statement& BindNull(int index);
  // Runs one step. Returns true when a row is available, false when done; kInternal (or
  // kUnavailable when the database is busy) on failure.
  Result<bool> Step();
  // Step() until done, for statements without rows.
  Status Run();
  void Reset();

  int64_t Int(int col) const;
  double Double(int col) const;
  std::string Text(int col) const;
  std::string Blob(int col) const;
  bool IsNull(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class SqliteDb {
 public:
  // Opens or creates the database file. `page_size` (a power of two, 512..65536; 0: SQLite's
  // default) applies only when the file is created. kUnavailable when it cannot be opened.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, int page_size = 0);
  ~SqliteDb();

  Status Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);
  int64_t LastInsertId() const;
  int Changes() const;

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// Runs `fn` inside BEGIN IMMEDIATE ... COMMIT; rolls back when fn returns an error.
template <typename Fn>
Status InTransaction(SqliteDb& db, Fn&& fn) {
  if (Status s = db.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  Status s = fn();
  if (!s.ok()) {
    (void)db.Exec("ROLLBACK");
    return s;
  }
  return db.Exec("COMMIT");
}

}  // namespace wattline::historian
