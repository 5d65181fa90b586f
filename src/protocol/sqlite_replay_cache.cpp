#include "protocol/sqlite_replay_cache.hpp"

#include <sqlite3.h>

#include "core/sqlite_stmt.hpp"
#include "protocol/error.hpp"

namespace pc::protocol {
namespace {

using sqlite::Stmt;

Error storageError(sqlite3* db, std::string_view what) {
  return fail(Errc::kStorage, "replay cache: " + std::string(what) + ": " +
                                  (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

Result<std::unique_ptr<SqliteReplayCache>> SqliteReplayCache::open(
    const std::filesystem::path& path, std::size_t capacity) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
      nullptr);
  if (rc != SQLITE_OK) {
    Error e = storageError(db, "cannot open " + path.string());
    sqlite3_close(db);
    return e;
  }
  std::unique_ptr<SqliteReplayCache> cache(new SqliteReplayCache(db, capacity));
  sqlite3_busy_timeout(db, 5000);
  for (const char* sql : {"PRAGMA journal_mode=WAL",
                          // FULL: the accepting commit reaches the disk before we act on the
                          // request, so a crash cannot make an accepted request replayable.
                          "PRAGMA synchronous=FULL",
                          "CREATE TABLE IF NOT EXISTS replay_cache ("
                          " requester TEXT NOT NULL, request_id TEXT NOT NULL,"
                          " timestamp_ms INTEGER NOT NULL,"
                          " PRIMARY KEY (requester, request_id)) WITHOUT ROWID",
                          "CREATE INDEX IF NOT EXISTS replay_cache_by_time"
                          " ON replay_cache (timestamp_ms)"}) {
    if (auto r = cache->exec(sql); !r) return r.error();
  }
  return cache;
}

SqliteReplayCache::~SqliteReplayCache() { sqlite3_close(db_); }

Result<void> SqliteReplayCache::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg != nullptr ? msg : "unknown error";
    sqlite3_free(msg);
    return fail(Errc::kStorage, "replay cache: " + m);
  }
  return {};
}

Result<void> SqliteReplayCache::remember(std::string_view requester, std::string_view requestId,
                                         std::int64_t timestampMs, std::int64_t nowMs) {
  std::lock_guard lock(mutex_);
  // One immediate transaction: the existence check, eviction, cap and insert see one state even
  // when another process shares the file.
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;
  auto rollback = [&](Error e) -> Result<void> {
    (void)exec("ROLLBACK");
    return e;
  };
  {
    Stmt seen(db_, "SELECT 1 FROM replay_cache WHERE requester = ?1 AND request_id = ?2");
    if (!seen.ok() || !seen.bindText(1, requester) || !seen.bindText(2, requestId)) {
      return rollback(storageError(db_, "lookup"));
    }
    const int rc = sqlite3_step(seen.get());
    if (rc == SQLITE_ROW) {
      return rollback(fail(Errc::kReplay, "request " + std::string(requestId) + " from " +
                                              std::string(requester) +
                                              " was already received (replay)"));
    }
    if (rc != SQLITE_DONE) return rollback(storageError(db_, "lookup"));
  }
  {
    Stmt evict(db_, "DELETE FROM replay_cache WHERE timestamp_ms < ?1");
    if (!evict.ok() || !evict.bindInt(1, nowMs - kMaxClockSkewMs) ||
        sqlite3_step(evict.get()) != SQLITE_DONE) {
      return rollback(storageError(db_, "eviction"));
    }
  }
  {
    Stmt count(db_, "SELECT COUNT(*) FROM replay_cache");
    if (!count.ok() || sqlite3_step(count.get()) != SQLITE_ROW) {
      return rollback(storageError(db_, "count"));
    }
    if (static_cast<std::size_t>(sqlite3_column_int64(count.get(), 0)) >= capacity_) {
      return rollback(fail(Errc::kReplayCacheFull, "the replay cache holds " +
                                                       std::to_string(capacity_) +
                                                       " recent requests; retry in a few minutes"));
    }
  }
  {
    Stmt insert(db_,
                "INSERT INTO replay_cache (requester, request_id, timestamp_ms) VALUES (?1,?2,?3)");
    if (!insert.ok() || !insert.bindText(1, requester) || !insert.bindText(2, requestId) ||
        !insert.bindInt(3, timestampMs) || sqlite3_step(insert.get()) != SQLITE_DONE) {
      return rollback(storageError(db_, "insert"));
    }
  }
  if (auto r = exec("COMMIT"); !r) return rollback(r.error());
  return {};
}

Result<std::size_t> SqliteReplayCache::size() {
  std::lock_guard lock(mutex_);
  Stmt count(db_, "SELECT COUNT(*) FROM replay_cache");
  if (!count.ok() || sqlite3_step(count.get()) != SQLITE_ROW) {
    return storageError(db_, "count");
  }
  return static_cast<std::size_t>(sqlite3_column_int64(count.get(), 0));
}

}  // namespace pc::protocol
