#include "admin/settings.hpp"

#include "admin/listen.hpp"
#include "config/binder.hpp"

namespace pc::admin {

Result<LogFormat> parseLogFormat(std::string_view text) {
  if (text == "text") {
    return LogFormat::kText;
  }
  if (text == "json") {
    return LogFormat::kJson;
  }
  return Error(make_error_code(boost::system::errc::invalid_argument),
               "\"" + std::string(text) + "\" is not a log format (text or json)");
}

Result<void> AdminSettings::validate() const {
  if (!listen.empty()) {
    if (auto ep = parseListen(listen); !ep) {
      return ep.error().context("admin_listen");
    }
  } else if (!tokenFile.empty()) {
    return Error(make_error_code(boost::system::errc::invalid_argument),
                 "admin_token_file is set but admin_listen is not (the token guards the admin "
                 "listener; set admin_listen too)");
  }
  return {};
}

void bindAdminSettings(config::Binder& b, AdminSettings& s) {
  b.text("admin_listen", "--admin-listen",
         "HOST:PORT of the admin listener: /metrics (Prometheus) and the dashboard; loopback "
         "clients only unless --admin-token-file is given (default: off)",
         s.listen);
  b.path("admin_token_file", "--admin-token-file",
         "File (mode 0600) holding the token other clients of the admin listener must send as "
         "Authorization: Bearer <token>",
         s.tokenFile);
  b.value("log_format", "--log-format", "text (default) or json (one JSON object a line)",
          [&s](std::string_view text) -> Result<void> {
            auto f = parseLogFormat(text);
            if (!f) {
              return f.error();
            }
            s.logFormat = *f;
            return {};
          });
}

}  // namespace pc::admin
