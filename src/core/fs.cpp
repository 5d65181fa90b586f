#include "core/fs.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>
#include <utility>

namespace pc::fs {
namespace {
Error sysError(const std::string& what, const std::filesystem::path& path) {
  const int err = errno;
  return Error(make_error_code(Errc::kIo), what + " " + path.string() + ": " + std::strerror(err));
}

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  Fd& operator=(Fd&&) = delete;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

namespace {

Result<std::string> readAll(const Fd& f, const std::filesystem::path& path, std::size_t maxSize) {
  std::string out;
  char buf[16384];
  for (;;) {
    const auto n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sysError("cannot read", path);
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > maxSize) {
      return fail(Errc::kTooLarge,
                  path.string() + " is larger than " + std::to_string(maxSize) + " bytes");
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

/// Opens `path`; a missing file is kNotFound, a symbolic link refused by O_NOFOLLOW kPermissions.
Result<Fd> openFile(const std::filesystem::path& path, int flags, mode_t mode = 0) {
  Fd f{::open(path.c_str(), flags | O_CLOEXEC, mode)};
  if (f.fd < 0) {
    if (errno == ENOENT) return fail(Errc::kNotFound, path.string() + " does not exist");
    if (errno == ELOOP) {
      return fail(Errc::kPermissions,
                  path.string() + " is a symbolic link; state files must be regular files");
    }
    return sysError("cannot open", path);
  }
  return f;
}

Result<struct stat> statOf(const Fd& f, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return sysError("cannot stat", path);
  return st;
}

}  // namespace

Result<void> checkOwnedAndNotShared(const std::filesystem::path& path, unsigned uid,
                                    unsigned mode) {
  // Another user who owns, or may write, a state file or directory could rewrite the trust
  // list or the identity under us (it is reloaded live): refuse instead of trusting it.
  const auto me = static_cast<unsigned>(::geteuid());
  // root may own them too: whoever runs as root can replace anything anyway.
  if (uid != me && uid != 0) {
    return fail(Errc::kPermissions, path.string() + " is owned by uid " + std::to_string(uid) +
                                        ", not by this user (uid " + std::to_string(me) +
                                        "); run: chown " + std::to_string(me) + " " +
                                        path.string());
  }
  if ((mode & (S_IWGRP | S_IWOTH)) != 0) {
    return fail(Errc::kPermissions,
                path.string() + " is writable by other users; run: chmod go-w " + path.string());
  }
  return {};
}

Result<std::string> readFile(const std::filesystem::path& path, std::size_t maxSize) {
  auto f = openFile(path, O_RDONLY);
  if (!f) return f.error();
  return readAll(*f, path, maxSize);
}

Result<std::string> readStateFile(const std::filesystem::path& path, std::size_t maxSize) {
  auto f = openFile(path, O_RDONLY | O_NOFOLLOW);
  if (!f) return f.error();
  auto st = statOf(*f, path);
  if (!st) return st.error();
  if (!S_ISREG(st->st_mode)) return fail(Errc::kPermissions, path.string() + " is not a file");
  if (auto r = checkOwnedAndNotShared(path, st->st_uid, st->st_mode); !r) return r.error();
  return readAll(*f, path, maxSize);
}

Result<std::string> readConfigFile(const std::filesystem::path& path, std::size_t maxSize) {
  auto f = openFile(path, O_RDONLY);
  if (!f) return f.error();
  auto st = statOf(*f, path);
  if (!st) return st.error();
  if (S_ISREG(st->st_mode)) {
    if (auto r = checkOwnedAndNotShared(path, st->st_uid, st->st_mode); !r) return r.error();
  }
  return readAll(*f, path, maxSize);
}

Result<void> writeFileAtomic(const std::filesystem::path& path, std::string_view data,
                             unsigned mode) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::random_device rd;
  const auto tmp = dir / ("." + path.filename().string() + ".tmp." + std::to_string(rd()));
  Fd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)};
  if (f.fd < 0) return sysError("cannot create", tmp);
  auto cleanup = [&](Error e) {
    ::unlink(tmp.c_str());
    return e;
  };
  // O_CREAT's mode is filtered by the umask; set it explicitly so 0600 means 0600.
  if (::fchmod(f.fd, mode) != 0) return cleanup(sysError("cannot chmod", tmp));
  std::size_t off = 0;
  while (off < data.size()) {
    const auto n = ::write(f.fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return cleanup(sysError("cannot write", tmp));
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(f.fd) != 0) return cleanup(sysError("cannot fsync", tmp));
  ::close(std::exchange(f.fd, -1));
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return cleanup(sysError("cannot rename onto", path));
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd >= 0) ::fsync(d.fd);
  return {};
}

Result<void> makePrivateFile(const std::filesystem::path& path, bool create) {
  auto f = openFile(path, O_RDWR | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
  if (!f) {
    if (!create && f.error() == make_error_code(Errc::kNotFound)) return {};
    return f.error();
  }
  auto st = statOf(*f, path);
  if (!st) return st.error();
  if (!S_ISREG(st->st_mode)) return fail(Errc::kPermissions, path.string() + " is not a file");
  if (st->st_uid != static_cast<uid_t>(::geteuid())) {
    return checkOwnedAndNotShared(path, st->st_uid, st->st_mode);
  }
  // Ours but made readable by an older version (umask 022): tighten it rather than refuse.
  if ((st->st_mode & 077) != 0 && ::fchmod(f->fd, 0600) != 0) {
    return sysError("cannot chmod 600", path);
  }
  return {};
}

Result<void> ensurePrivateDir(const std::filesystem::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return fail(Errc::kInvalidArgument, dir.string() + " exists and is not a directory");
    }
    return checkOwnedAndNotShared(dir, st.st_uid, st.st_mode);
  }
  std::error_code ec;
  if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return sysError("cannot create directory", dir);
  }
  return {};
}

Result<FileLock> FileLock::exclusive(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return sysError("cannot open lock file", path);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      auto e = sysError("cannot lock", path);
      ::close(fd);
      return e;
    }
  }
  return FileLock(fd);
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

std::filesystem::path defaultHome() {
  if (const char* h = std::getenv("PEERCOMPUTE_HOME"); h != nullptr && *h != '\0') {
    return h;
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr && *home != '\0' ? home : ".") / ".peercompute";
}

}  // namespace pc::fs
