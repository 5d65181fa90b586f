#include "provider/audit.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <iostream>

#include "core/time.hpp"
#include "provider/error.hpp"

namespace pc::provider {
namespace {

std::string nowRfc3339Millis() {
  return time::formatRfc3339(std::chrono::system_clock::now(), time::Precision::kMillis);
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return fail(Errc::kStorage,
                "cannot open the audit log " + path.string() + ": " + std::strerror(errno));
  }
  return std::unique_ptr<AuditLog>(new AuditLog(fd));
}

AuditLog::~AuditLog() { ::close(fd_); }

Result<void> AuditLog::record(std::string_view event, std::string_view peer,
                              const std::vector<std::pair<std::string, std::string>>& fields) {
  boost::json::object o;
  o["time"] = nowRfc3339Millis();
  o["event"] = event;
  o["peer"] = peer;
  for (const auto& [k, v] : fields) o[k] = v;
  // serialize() escapes control characters, so a hostile peer's text cannot forge a second line.
  std::string line = boost::json::serialize(o);
  if (observer_) {
    observer_(event, line);
  }
  line.push_back('\n');
  std::lock_guard lock(mutex_);
  // A write cut short (disk full) would leave half a record, and the next record would be glued
  // to it: the log is cut back to where this record began, so it holds only whole lines.
  struct stat before {};
  const bool sized = ::fstat(fd_, &before) == 0;
  std::size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n == 0 ? "no progress" : std::strerror(errno);
      if (off > 0 && sized) (void)::ftruncate(fd_, before.st_size);
      std::cerr << "audit log write failed (" << why << "): " << line << std::flush;
      return fail(Errc::kStorage, "audit log write failed: " + why);
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd_) != 0) {
    const std::string why = std::strerror(errno);
    std::cerr << "audit log sync failed (" << why << ")\n" << std::flush;
    return fail(Errc::kStorage, "audit log sync failed: " + why);
  }
  return {};
}

}  // namespace pc::provider
