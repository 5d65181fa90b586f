#pragma once
/// The provider's audit log, `<data-dir>/audit.jsonl`: one JSON object per line for every
/// security-relevant decision (refused connections, bad signatures, replays, accepted and refused
/// deploys and stops), each with the peer id and the reason.
///
/// Records are appended with O_APPEND and flushed to disk (fdatasync) before the call returns, so
/// a record of a refusal survives a crash right after it. Thread-safe.
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace pc::provider {

class AuditLog {
 public:
  static constexpr const char* kFileName = "audit.jsonl";
  /// Opens (creating, mode 0600) the log for appending. Errors: kStorage.
  static Result<std::unique_ptr<AuditLog>> open(const std::filesystem::path& path);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  /// Appends {"time": RFC 3339 UTC with ms, "event": event, "peer": peer, <fields>…}. A write
  /// failure is reported on stderr (the daemon keeps serving: refusing service because the log
  /// disk is full would hand an attacker an off switch) and returned.
  Result<void> record(std::string_view event, std::string_view peer,
                      const std::vector<std::pair<std::string, std::string>>& fields);
  /// Told about every record (its event and its JSON line, without the newline), written or
  /// not: the metrics count audit events by kind and the dashboard lists the recent ones.
  using Observer = std::function<void(std::string_view event, const std::string& line)>;
  void onRecord(Observer f) { observer_ = std::move(f); }

 private:
  explicit AuditLog(int fd) : fd_(fd) {}
  int fd_;
  std::mutex mutex_;
  Observer observer_;
};

}  // namespace pc::provider
