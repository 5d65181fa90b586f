#pragma once
/// File helpers for state that must never be half-written or silently lost.
#include <filesystem>
#include <string>

#include "core/bytes.hpp"

namespace pc::fs {

/// Reads a whole file of at most `maxSize` bytes (a bigger file is an error, not a truncation).
Result<std::string> readFile(const std::filesystem::path& path, std::size_t maxSize);

/// Reads a state file that decides who is trusted (trust list, allowlist, identity, config): like
/// readFile, but a symbolic link (O_NOFOLLOW), a file owned by another user (root aside) or one
/// writable by
/// group or others is refused (kPermissions, with the chown/chmod that fixes it).
Result<std::string> readStateFile(const std::filesystem::path& path, std::size_t maxSize);

/// Reads a configuration file: a regular file must pass checkOwnedAndNotShared; symbolic links
/// (an admin's /etc layout) and pipes (`--config <(…)`) are read as they are.
Result<std::string> readConfigFile(const std::filesystem::path& path, std::size_t maxSize);

/// Refuses a file or directory (`uid`, `mode` from stat) that another user owns or may write.
/// Errors: kPermissions naming the command that fixes it.
Result<void> checkOwnedAndNotShared(const std::filesystem::path& path, unsigned uid, unsigned mode);

/// Makes `path` a regular file (not a symbolic link) of this user with mode 0600, creating it
/// when `create` (a missing file is fine otherwise). For files another library opens by name
/// (SQLite), so that they never exist with wider permissions. Errors: kPermissions, kIo.
Result<void> makePrivateFile(const std::filesystem::path& path, bool create);

/// Replaces `path` atomically: writes a temporary file in the same directory with `mode`,
/// fsyncs it, renames it over `path` and fsyncs the directory. A crash or a full disk leaves
/// either the old content or the new one, never a mix.
Result<void> writeFileAtomic(const std::filesystem::path& path, std::string_view data,
                             unsigned mode);

/// Creates `dir` (and parents) with mode 0700 when missing; an existing `dir` must be owned by
/// this user and not writable by group or others (checkOwnedAndNotShared).
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
