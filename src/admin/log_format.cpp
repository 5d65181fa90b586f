#include "admin/log_format.hpp"

#include <spdlog/cfg/env.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "core/time.hpp"
#include "core/utf8.hpp"

namespace pc::admin {

namespace {

constexpr char kHex[] = "0123456789abcdef";

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line;
    line.reserve(96 + msg.payload.size());
    line += R"({"time":")";
    line += time::formatRfc3339(msg.time, time::Precision::kMillis);
    line += R"(","level":")";
    const auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += R"(","logger":")";
    appendJsonEscaped(line, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    line += R"(","message":")";
    appendJsonEscaped(line, std::string_view(msg.payload.data(), msg.payload.size()));
    line += "\"}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

void appendJsonEscaped(std::string& out, std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t len = utf8::sequenceLength(s, i);
      if (len == 0) {
        out += "\\ufffd";  // not UTF-8: a JSON parser would reject the whole line
        ++i;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
}

std::unique_ptr<spdlog::formatter> makeJsonFormatter() { return std::make_unique<JsonFormatter>(); }

void installLogger(const std::string& name, LogFormat format) {
  if (auto existing = spdlog::get(name)) {
    spdlog::drop(name);
  }
  std::shared_ptr<spdlog::logger> logger;
  if (format == LogFormat::kJson) {
    logger = spdlog::stderr_logger_mt(name);
    logger->set_formatter(makeJsonFormatter());
  } else {
    logger = spdlog::stderr_color_mt(name);
  }
  spdlog::set_default_logger(logger);
  spdlog::cfg::load_env_levels();  // SPDLOG_LEVEL=debug, e.g. to follow hole punching
  // Flushed per line: a daemon's refusals must reach its log at once, not when stdio buffers
  // happen to fill.
  spdlog::flush_on(spdlog::level::info);
}

}  // namespace pc::admin
