#pragma once
/// The daemons' log lines on stderr: `text` (spdlog's coloured default) or `json` — one JSON
/// object a line, {"time", "level", "logger", "message"}, for log shippers (Loki, journald's
/// JSON, Elastic). Messages carry text from peers and clients (ids, addresses, reasons): the JSON
/// form escapes quotes, backslashes and control characters, and replaces bytes that are not
/// UTF-8 with U+FFFD, so no message can forge a field or a second line.
#include <memory>
#include <string>
#include <string_view>

#include "admin/settings.hpp"

namespace spdlog {
class formatter;
}

namespace pc::admin {

/// Makes a stderr logger named `name` in `format` the default logger (flushed per line from
/// info up; levels from SPDLOG_LEVEL).
void installLogger(const std::string& name, LogFormat format);

/// The JSON line formatter (for tests and for other sinks).
std::unique_ptr<spdlog::formatter> makeJsonFormatter();

/// `s` as the body of a JSON string (no quotes): escaped, invalid UTF-8 replaced by U+FFFD.
void appendJsonEscaped(std::string& out, std::string_view s);

}  // namespace pc::admin
