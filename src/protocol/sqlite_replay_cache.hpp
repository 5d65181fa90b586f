#pragma once
/// A ReplayCache in SQLite, so replay protection survives provider restarts.
///
/// Lives in its own target, pc_protocol_sqlite, so that clients (peerctl) linking pc_protocol
/// do not depend on SQLite. It uses its own connection and one table, `replay_cache`, which may
/// share the provider's database file with other tables (WAL mode, busy timeout 5 s).
#include <filesystem>
#include <memory>

#include "protocol/checks.hpp"

struct sqlite3;

namespace pc::protocol {

class SqliteReplayCache final : public ReplayCache {
 public:
  /// Opens (creating if needed) the database at `path`. Errc::kStorage on failure.
  static Result<std::unique_ptr<SqliteReplayCache>> open(const std::filesystem::path& path,
                                                         ReplayLimits limits = {});
  ~SqliteReplayCache() override;
  SqliteReplayCache(const SqliteReplayCache&) = delete;
  SqliteReplayCache& operator=(const SqliteReplayCache&) = delete;

  /// See ReplayCache. An entry is durable (committed) before this returns success, so a
  /// request accepted just before a crash is still refused as a replay after the restart.
  Result<void> remember(std::string_view requester, std::string_view requestId,
                        std::int64_t timestampMs, std::int64_t nowMs) override;
  /// Number of stored entries.
  Result<std::size_t> size();

 private:
  SqliteReplayCache(sqlite3* db, ReplayLimits limits) : db_(db), limits_(limits) {}
  Result<void> exec(const char* sql);
  /// Inside remember's transaction: the share and cap checks (Errc::kReplayQuota,
  /// kReplayCacheFull, kStorage).
  Result<void> checkRoom(std::string_view requester, std::int64_t nowMs);
  sqlite3* db_;
  ReplayLimits limits_;
  std::mutex mutex_;
};

}  // namespace pc::protocol
