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
    const std::filesystem::path& path, ReplayLimits limits) {
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
  std::unique_ptr<SqliteReplayCache> cache(new SqliteReplayCache(db, limits));
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
  if (auto room = checkRoom(requester, nowMs); !room) {
    return rollback(room.error());
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

Result<void> SqliteReplayCache::checkRoom(std::string_view requester, std::int64_t nowMs) {
  // One requester's share first (an index range of the primary key): a peer that floods signed
  // requests is refused at its share and cannot fill the cache every other peer needs.
  {
    Stmt mine(db_, "SELECT COUNT(*), MIN(timestamp_ms) FROM replay_cache WHERE requester = ?1");
    if (!mine.ok() || !mine.bindText(1, requester) || sqlite3_step(mine.get()) != SQLITE_ROW) {
      return storageError(db_, "count");
    }
    if (static_cast<std::size_t>(sqlite3_column_int64(mine.get(), 0)) >= limits_.perRequester) {
      return replayQuotaError(requester, limits_.perRequester, sqlite3_column_int64(mine.get(), 1),
                              nowMs);
    }
  }
  Stmt all(db_, "SELECT COUNT(*), MIN(timestamp_ms) FROM replay_cache");
  if (!all.ok() || sqlite3_step(all.get()) != SQLITE_ROW) {
    return storageError(db_, "count");
  }
  if (static_cast<std::size_t>(sqlite3_column_int64(all.get(), 0)) >= limits_.capacity) {
    return replayCacheFullError(limits_.capacity, sqlite3_column_int64(all.get(), 1), nowMs);
  }
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
