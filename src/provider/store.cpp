#include "provider/store.hpp"

#include "core/fs.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <system_error>

#include "core/sqlite_stmt.hpp"
#include "provider/error.hpp"

namespace pc::provider {
namespace {

Error storageError(sqlite3* db, std::string_view what) {
  return fail(Errc::kStorage, "state database: " + std::string(what) + ": " +
                                  (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
}

using sqlite::Stmt;

constexpr const char* kColumns =
    "id, requester, image, cpu_millis, memory_bytes, expose_port, state, container_id, host_port,"
    " url, created_at_ms, started_at_ms, finished_at_ms, exit_code, oom_killed, error, id_salt,"
    " network, more_urls";

Result<Deployment> readRow(Stmt& s) {
  Deployment d;
  d.id = s.columnText(0);
  d.requester = s.columnText(1);
  d.image = s.columnText(2);
  d.cpuMillis = static_cast<std::uint32_t>(s.columnInt(3));
  d.memoryBytes = static_cast<std::uint64_t>(s.columnInt(4));
  if (auto p = s.columnOptional(5)) d.exposePort = static_cast<std::uint16_t>(*p);
  const std::string state = s.columnText(6);
  auto st = protocol::deploymentStateFromString(state);
  // A state we do not know means the file was written by something else: refuse to guess.
  if (!st) {
    return fail(Errc::kStorage,
                "state database: deployment " + d.id + " has unknown state '" + state + "'");
  }
  d.state = *st;
  d.containerId = s.columnText(7);
  if (auto p = s.columnOptional(8)) d.hostPort = static_cast<std::uint16_t>(*p);
  if (!s.isNull(9)) d.url = s.columnText(9);
  d.createdAtMs = s.columnInt(10);
  d.startedAtMs = s.columnOptional(11);
  d.finishedAtMs = s.columnOptional(12);
  d.exitCode = s.columnOptional(13);
  d.oomKilled = s.columnInt(14) != 0;
  d.error = s.columnText(15);
  d.idSalt = s.columnText(16);
  auto network = egress::parseMode(s.columnText(17));
  if (!network) {
    return fail(Errc::kStorage, "state database: deployment " + d.id + " has unknown network '" +
                                    s.columnText(17) + "'");
  }
  d.network = *network;
  // Space-separated: a URL has no spaces (the gateway's answer passed protocol::urlForm).
  std::string more = s.columnText(18);
  for (std::size_t at = 0; at < more.size();) {
    const auto end = std::min(more.find(' ', at), more.size());
    if (end > at) d.moreUrls.push_back(more.substr(at, end - at));
    at = end + 1;
  }
  return d;
}

}  // namespace

bool Deployment::active() const {
  using S = protocol::DeploymentState;
  return state == S::kPending || state == S::kPulling || state == S::kStarting ||
         state == S::kRunning || state == S::kStopping;
}

std::vector<std::string> Deployment::urls() const {
  std::vector<std::string> out;
  if (url) {
    out.push_back(*url);
    out.insert(out.end(), moreUrls.begin(), moreUrls.end());
  }
  return out;
}

void Deployment::setUrls(const std::vector<std::string>& urls) {
  if (urls.empty()) return;
  url = urls.front();
  moreUrls.assign(urls.begin() + 1, urls.end());
}

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& path) {
  const std::string recover =
      "; the provider will not start with unreadable state. Stop it, move " + path.string() +
      " aside (its deployments' containers keep running and carry the label "
      "peercompute.managed), and start again: containers without a record are then removed";
  // SQLite takes an empty file for a valid empty database: a provider.db truncated to nothing
  // would start the provider with no deployments, silently forgetting every record. The file is
  // therefore only ever created whole (schema built under another name, then renamed into
  // place), so an empty provider.db can only be a damaged one.
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    if (std::filesystem::file_size(path, ec) == 0 && !ec) {
      return fail(Errc::kStorage, "state database " + path.string() +
                                      " is empty (0 bytes): it was truncated" + recover);
    }
  } else if (!ec) {
    auto fresh = path;
    fresh += ".new";
    std::filesystem::remove(fresh, ec);
    {
      auto made = openFile(fresh, recover);
      if (!made) return made.error();
    }
    std::filesystem::rename(fresh, path, ec);
    if (ec) {
      return fail(Errc::kStorage,
                  "state database: cannot create " + path.string() + ": " + ec.message());
    }
  }
  return openFile(path, recover);
}

Result<std::unique_ptr<Store>> Store::openFile(const std::filesystem::path& path,
                                               const std::string& recover) {
  // The database and its WAL files are 0600 and never symbolic links: they hold who deployed
  // what and the replay cache (SQLite gives the -wal and -shm files the database's mode).
  for (const char* suffix : {"", "-wal", "-shm"}) {
    auto f = path;
    f += suffix;
    if (auto r = fs::makePrivateFile(f, *suffix == '\0'); !r) {
      return Error(r.error().code(), "state database: " + r.error().message() + recover);
    }
  }
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
      nullptr);
  if (rc != SQLITE_OK) {
    Error e = storageError(db, "cannot open " + path.string());
    sqlite3_close(db);
    return Error(e.code(), e.message() + recover);
  }
  std::unique_ptr<Store> store(new Store(db));
  sqlite3_busy_timeout(db, 5000);
  // quick_check reads every page: a truncated or scribbled file is caught here, at start-up,
  // not later in the middle of a deploy.
  {
    Stmt check(db, "PRAGMA quick_check");
    if (!check.ok() || sqlite3_step(check.get()) != SQLITE_ROW || check.columnText(0) != "ok") {
      const std::string why = check.ok() ? check.columnText(0) : sqlite3_errmsg(db);
      return fail(Errc::kStorage,
                  "state database " + path.string() + " is corrupt (" + why + ")" + recover);
    }
  }
  for (const char* sql :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
        "CREATE TABLE IF NOT EXISTS deployments ("
        " id TEXT PRIMARY KEY, requester TEXT NOT NULL, image TEXT NOT NULL,"
        " cpu_millis INTEGER NOT NULL, memory_bytes INTEGER NOT NULL, expose_port INTEGER,"
        " state TEXT NOT NULL, container_id TEXT NOT NULL, host_port INTEGER, url TEXT,"
        " created_at_ms INTEGER NOT NULL, started_at_ms INTEGER, finished_at_ms INTEGER,"
        " exit_code INTEGER, oom_killed INTEGER NOT NULL, error TEXT NOT NULL,"
        " id_salt TEXT NOT NULL DEFAULT '', network TEXT NOT NULL DEFAULT 'internet',"
        " more_urls TEXT NOT NULL DEFAULT '')",
        "CREATE INDEX IF NOT EXISTS deployments_by_requester ON deployments (requester)",
        "CREATE TABLE IF NOT EXISTS pulled_images ("
        " image TEXT PRIMARY KEY, bytes INTEGER NOT NULL, pulled_at_ms INTEGER NOT NULL)"}) {
    if (auto r = store->exec(sql); !r) {
      return Error(r.error().code(), r.error().message() + recover);
    }
  }
  if (auto r = store->addColumnIfMissing("network", "TEXT NOT NULL DEFAULT 'internet'"); !r) {
    return Error(r.error().code(), r.error().message() + recover);
  }
  if (auto r = store->addColumnIfMissing("more_urls", "TEXT NOT NULL DEFAULT ''"); !r) {
    return Error(r.error().code(), r.error().message() + recover);
  }
  return store;
}

Store::~Store() { sqlite3_close(db_); }

Result<void> Store::addColumnIfMissing(const char* column, const char* definition) {
  // A database written by an older provider lacks the newer columns; their defaults describe
  // what those deployments had (e.g. every older deployment could open the internet).
  Stmt info(db_, "PRAGMA table_info(deployments)");
  if (!info.ok()) return storageError(db_, "reading the table's columns");
  while (sqlite3_step(info.get()) == SQLITE_ROW) {
    if (info.columnText(1) == column) return {};
  }
  const std::string sql =
      std::string("ALTER TABLE deployments ADD COLUMN ") + column + " " + definition;
  return exec(sql.c_str());
}

Result<void> Store::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg != nullptr ? msg : "unknown error";
    sqlite3_free(msg);
    return fail(Errc::kStorage, "state database: " + m);
  }
  return {};
}

Result<void> Store::put(const Deployment& d) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("INSERT OR REPLACE INTO deployments (") + kColumns +
                          ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  Stmt s(db_, sql.c_str());
  if (!s.ok()) return storageError(db_, "prepare");
  s.bindText(1, d.id);
  s.bindText(2, d.requester);
  s.bindText(3, d.image);
  s.bindInt(4, d.cpuMillis);
  s.bindInt(5, static_cast<std::int64_t>(d.memoryBytes));
  s.bindOptional(6, d.exposePort);
  s.bindText(7, protocol::toString(d.state));
  s.bindText(8, d.containerId);
  s.bindOptional(9, d.hostPort);
  s.bindOptionalText(10, d.url);
  s.bindInt(11, d.createdAtMs);
  s.bindOptional(12, d.startedAtMs);
  s.bindOptional(13, d.finishedAtMs);
  s.bindOptional(14, d.exitCode);
  s.bindInt(15, d.oomKilled ? 1 : 0);
  s.bindText(16, d.error);
  s.bindText(17, d.idSalt);
  s.bindText(18, egress::toString(d.network));
  std::string more;
  for (const auto& u : d.moreUrls) more += (more.empty() ? "" : " ") + u;
  s.bindText(19, more);
  if (sqlite3_step(s.get()) != SQLITE_DONE) {
    return storageError(db_, "saving deployment " + d.id);
  }
  return {};
}

Result<std::optional<Deployment>> Store::get(const std::string& id) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kColumns + " FROM deployments WHERE id = ?";
  Stmt s(db_, sql.c_str());
  if (!s.ok()) return storageError(db_, "prepare");
  s.bindText(1, id);
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_DONE) return std::optional<Deployment>{};
  if (rc != SQLITE_ROW) return storageError(db_, "reading deployment " + id);
  auto d = readRow(s);
  if (!d) return d.error();
  return std::optional<Deployment>(std::move(*d));
}

Result<std::vector<Deployment>> Store::list() {
  std::lock_guard lock(mutex_);
  const std::string sql =
      std::string("SELECT ") + kColumns + " FROM deployments ORDER BY created_at_ms DESC, id";
  Stmt s(db_, sql.c_str());
  if (!s.ok()) return storageError(db_, "prepare");
  std::vector<Deployment> out;
  while (true) {
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return storageError(db_, "listing deployments");
    auto d = readRow(s);
    if (!d) return d.error();
    out.push_back(std::move(*d));
  }
  return out;
}

Result<void> Store::putPulledImage(const std::string& image, std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "INSERT OR REPLACE INTO pulled_images (image, bytes, pulled_at_ms) VALUES (?,?,?)");
  if (!s.ok() || !s.bindText(1, image) || !s.bindInt(2, static_cast<std::int64_t>(bytes)) ||
      !s.bindInt(3, protocol::unixMillisNow()) || sqlite3_step(s.get()) != SQLITE_DONE) {
    return storageError(db_, "recording pulled image " + image);
  }
  return {};
}

Result<void> Store::deletePulledImage(const std::string& image) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "DELETE FROM pulled_images WHERE image = ?");
  if (!s.ok() || !s.bindText(1, image) || sqlite3_step(s.get()) != SQLITE_DONE) {
    return storageError(db_, "forgetting pulled image " + image);
  }
  return {};
}

Result<std::map<std::string, std::uint64_t>> Store::pulledImages() {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "SELECT image, bytes FROM pulled_images");
  if (!s.ok()) return storageError(db_, "prepare");
  std::map<std::string, std::uint64_t> out;
  while (true) {
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return storageError(db_, "listing pulled images");
    out[s.columnText(0)] = static_cast<std::uint64_t>(s.columnInt(1));
  }
  return out;
}

}  // namespace pc::provider
