#pragma once
/// A prepared SQLite statement owned for one call (header-only; only code that links SQLite
/// includes it). Binding helpers return false on failure so callers can report sqlite3_errmsg.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pc::sqlite {

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  [[nodiscard]] bool ok() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() { return stmt_; }

  bool bindText(int i, std::string_view s) {
    return sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT) ==
           SQLITE_OK;
  }
  bool bindInt(int i, std::int64_t v) { return sqlite3_bind_int64(stmt_, i, v) == SQLITE_OK; }
  bool bindNull(int i) { return sqlite3_bind_null(stmt_, i) == SQLITE_OK; }
  template <class T>
  bool bindOptional(int i, const std::optional<T>& v) {
    return v ? bindInt(i, static_cast<std::int64_t>(*v)) : bindNull(i);
  }
  bool bindOptionalText(int i, const std::optional<std::string>& v) {
    return v ? bindText(i, *v) : bindNull(i);
  }

  std::string columnText(int i) {
    const auto* p = sqlite3_column_text(stmt_, i);
    return p != nullptr ? std::string(reinterpret_cast<const char*>(p),
                                      static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i)))
                        : std::string();
  }
  std::int64_t columnInt(int i) { return sqlite3_column_int64(stmt_, i); }
  bool isNull(int i) { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  std::optional<std::int64_t> columnOptional(int i) {
    if (isNull(i)) return std::nullopt;
    return columnInt(i);
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace pc::sqlite
