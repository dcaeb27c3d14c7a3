#include "historian/sqlite_db.h"

#include <sqlite3.h>

namespace wattline::historian {
namespace {
Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return Unavailable(msg);
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return DataLoss(msg);
  if (rc == SQLITE_FULL) return ResourceExhausted(msg);
  return Internal(msg);
}
}  // namespace

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}
Statement& Statement::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Statement& Statement::Bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Statement& Statement::Bind(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindBlob(int i, std::string_view v) {
  sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}
Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Fail(SqliteError(db_, rc, "sqlite step"));
}
Status Statement::Run() {
  while (true) {
    auto r = Step();
    if (!r) return r.error();
    if (!*r) return Status::Ok();
  }
}
void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}
int64_t Statement::Int(int c) const { return sqlite3_column_int64(stmt_, c); }
double Statement::Double(int c) const { return sqlite3_column_double(stmt_, c); }
std::string Statement::Text(int c) const {
  const unsigned char* t = sqlite3_column_text(stmt_, c);
  return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(stmt_, c))
           : std::string();
}
std::string Statement::Blob(int c) const {
  const void* b = sqlite3_column_blob(stmt_, c);
  return b ? std::string(static_cast<const char*>(b), sqlite3_column_bytes(stmt_, c))
           : std::string();
}
bool Statement::IsNull(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, int page_size) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = Unavailable("cannot open database " + path + ": " +
                           (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    sqlite3_close(db);
    return Fail(s);
  }
  std::unique_ptr<SqliteDb> out(new SqliteDb(db));
  // Before WAL mode: a new database takes its page size from its first write.
  if (page_size != 0) {
    if (Status s = out->Exec("PRAGMA page_size=" + std::to_string(page_size)); !s.ok()) {
      return Fail(s);
    }
  }
  // WAL lets readers run beside the writer; FULL makes each commit durable before it returns.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                             "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=5000"}) {
    if (Status s = out->Exec(pragma); !s.ok()) return Fail(s);
  }
  return out;
}

// close_v2: a statement still alive (a caller's mistake) delays the close instead of leaking the
// connection.
SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

Status SqliteDb::Exec(std::string_view sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return SqliteError(nullptr, rc, msg);
  }
  return Status::Ok();
}

Result<Statement> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return Fail(SqliteError(db_, rc, "prepare"));
  return Statement(db_, stmt);
}

int64_t SqliteDb::LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
int SqliteDb::Changes() const { return sqlite3_changes(db_); }

}  // namespace wattline::historian
