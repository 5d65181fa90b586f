#include "admin/log_format.hpp"

#include <gtest/gtest.h>
#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>

namespace pc::admin {
namespace {

std::string formatted(std::string_view payload, spdlog::level::level_enum level) {
  const spdlog::details::log_msg msg("peergateway", level,
                                     spdlog::string_view_t(payload.data(), payload.size()));
  spdlog::memory_buf_t buf;
  makeJsonFormatter()->format(msg, buf);
  return std::string(buf.data(), buf.size());
}

TEST(LogFormat, OneJsonObjectPerLine) {
  const auto line =
      formatted("refused 12D3Koo from 192.0.2.1:5: \"quoted\"\nforged", spdlog::level::warn);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // the newline in the message is escaped
  const auto v = boost::json::parse(line);
  const auto& o = v.as_object();
  EXPECT_EQ(o.at("level").as_string(), "warning");
  EXPECT_EQ(o.at("logger").as_string(), "peergateway");
  EXPECT_EQ(o.at("message").as_string(), "refused 12D3Koo from 192.0.2.1:5: \"quoted\"\nforged");
  EXPECT_EQ(o.at("time").as_string().size(), 24U);  // 2026-12-04T10:00:00.123Z
  EXPECT_EQ(o.size(), 4U);
}

TEST(LogFormat, EscapesControlsAndInvalidUtf8) {
  std::string out;
  appendJsonEscaped(out, std::string("a\x01\x7f\\b\t\xff\xc3\xa9", 9));
  EXPECT_EQ(out, "a\\u0001\\u007f\\\\b\\t\\ufffd\xc3\xa9");
  const auto line = formatted(std::string("bad \xc0\xaf utf8", 11), spdlog::level::info);
  EXPECT_NO_THROW((void)boost::json::parse(line));
}

TEST(LogFormat, ParsesSetting) {
  EXPECT_EQ(parseLogFormat("json").value(), LogFormat::kJson);
  EXPECT_EQ(parseLogFormat("text").value(), LogFormat::kText);
  EXPECT_FALSE(parseLogFormat("JSON"));
  EXPECT_FALSE(parseLogFormat(""));
}

}  // namespace
}  // namespace pc::admin
