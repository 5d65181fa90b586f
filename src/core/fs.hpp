#pragma once
/// File helpers for state that must never be half-written or silently lost.
#include <filesystem>
#include <string>

#include "core/bytes.hpp"

namespace pc::fs {

/// Reads a whole file of at most `maxSize` bytes (a bigger file is an error, not a truncation).
Result<std::string> readFile(const std::filesystem::path& path, std::size_t maxSize);

/// Replaces `path` atomically: writes a temporary file in the same directory with `mode`,
/// fsyncs it, renames it over `path` and fsyncs the directory. A crash or a full disk leaves
/// either the old content or the new one, never a mix.
Result<void> writeFileAtomic(const std::filesystem::path& path, std::string_view data,
                             unsigned mode);

/// Creates `dir` (and parents) with mode 0700 when missing.
Result<void> ensurePrivateDir(const std::filesystem::path& dir);

/// An exclusive advisory lock (flock) on a lock file, released on destruction. Serialises
/// read-modify-write cycles of concurrent processes on the same state file.
class FileLock {
 public:
  /// Blocks until the lock on `path` is held; creates `path` (0600) if needed.
  static Result<FileLock> exclusive(const std::filesystem::path& path);
  FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

/// `$PEERCOMPUTE_HOME`, else `$HOME/.peercompute`.
std::filesystem::path defaultHome();

}  // namespace pc::fs
