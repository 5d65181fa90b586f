#pragma once
/// The settings both daemons share for their operator-facing side: the admin listener
/// (`admin_listen`, `admin_token_file`) and the log format (`log_format`). Each daemon's config
/// holds one `AdminSettings` and declares it with bindAdminSettings().
#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace pc::config {
class Binder;
}

namespace pc::admin {

enum class LogFormat { kText, kJson };

struct AdminSettings {
  /// "HOST:PORT" of the admin listener (/metrics, the dashboard); empty = no listener. HOST is an
  /// IP literal (IPv6 in brackets) or `localhost`.
  std::string listen;
  /// A file (mode 0600, owned by the daemon's user) holding the admin token. Without one only
  /// loopback clients are served; with one, other clients must send `Authorization: Bearer
  /// <token>`. Never a token on the command line (it would show in `ps`).
  std::filesystem::path tokenFile;
  LogFormat logFormat = LogFormat::kText;

  /// Errors: `admin_listen` is not HOST:PORT, or a token file without a listener.
  [[nodiscard]] Result<void> validate() const;
};

/// Declares admin_listen (--admin-listen), admin_token_file (--admin-token-file) and log_format
/// (--log-format text|json) on `b`.
void bindAdminSettings(config::Binder& b, AdminSettings& s);

/// "text" | "json" → the format. Errors name the value.
Result<LogFormat> parseLogFormat(std::string_view text);

}  // namespace pc::admin
