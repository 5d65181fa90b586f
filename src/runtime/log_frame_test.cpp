#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/error.hpp"
#include "runtime/log_frame.hpp"

namespace pc::runtime {
namespace {

std::vector<LogFrame> drain(LogFrameDecoder& d) {
  std::vector<LogFrame> out;
  while (true) {
    auto f = d.next();
    EXPECT_TRUE(f) << f.error().message();
    if (!f || !*f) return out;
    out.push_back(std::move(**f));
  }
}

TEST(LogFrame, DecodesStdoutAndStderrApart) {
  LogFrameDecoder d;
  d.feed(encodeLogFrame(1, "out line\n") + encodeLogFrame(2, "err line\n") + encodeLogFrame(1, ""));
  auto frames = drain(d);
  ASSERT_EQ(frames.size(), 3U);
  EXPECT_EQ(frames[0].stream, LogStream::kStdout);
  EXPECT_EQ(frames[0].payload, "out line\n");
  EXPECT_EQ(frames[1].stream, LogStream::kStderr);
  EXPECT_EQ(frames[1].payload, "err line\n");
  EXPECT_EQ(frames[2].payload, "");
  EXPECT_FALSE(d.hasPartial());
}

TEST(LogFrame, ByteByByte) {
  const std::string wire = encodeLogFrame(2, "hello") + encodeLogFrame(1, std::string(70000, 'x'));
  LogFrameDecoder d;
  std::vector<LogFrame> frames;
  for (char c : wire) {
    d.feed(std::string_view(&c, 1));
    auto more = drain(d);
    for (auto& f : more) frames.push_back(std::move(f));
  }
  ASSERT_EQ(frames.size(), 2U);
  EXPECT_EQ(frames[0].payload, "hello");
  EXPECT_EQ(frames[1].payload.size(), 70000U);
}

TEST(LogFrame, PartialIsReported) {
  LogFrameDecoder d;
  d.feed(encodeLogFrame(1, "abc").substr(0, 9));
  auto f = d.next();
  ASSERT_TRUE(f);
  EXPECT_FALSE(*f);
  EXPECT_TRUE(d.hasPartial());
}

TEST(LogFrame, RejectsBadHeaders) {
  for (std::string wire : {std::string("\0\0\0\0\0\0\0\1x", 9), std::string("\4\0\0\0\0\0\0\0", 8),
                           std::string("\1\1\0\0\0\0\0\0", 8), std::string("hello world\n", 12)}) {
    LogFrameDecoder d;
    d.feed(wire);
    auto f = d.next();
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error(), make_error_code(Errc::kProtocolError));
    EXPECT_NE(f.error().message().find("TTY"), std::string::npos);
  }
}

TEST(LogFrame, RejectsOversizedFrameBeforeBuffering) {
  LogFrameDecoder d;
  d.feed(std::string("\1\0\0\0\x7f\xff\xff\xff", 8));
  auto f = d.next();
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error(), make_error_code(Errc::kTooLarge));
}

TEST(LogFrame, EngineErrorFrame) {
  LogFrameDecoder d;
  d.feed(encodeLogFrame(3, "log driver failed"));
  auto f = d.next();
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error(), make_error_code(Errc::kEngineError));
  EXPECT_NE(f.error().message().find("log driver failed"), std::string::npos);
}

RC_GTEST_PROP(LogFrame, RoundTripAnyChunking,
              (const std::vector<std::pair<bool, std::string>>& in,
               const std::vector<unsigned>& cuts)) {
  std::string wire;
  for (const auto& [err, text] : in) wire += encodeLogFrame(err ? 2 : 1, text);
  LogFrameDecoder d;
  std::vector<LogFrame> out;
  std::size_t pos = 0;
  std::size_t i = 0;
  while (pos < wire.size()) {
    const std::size_t n = cuts.empty() ? wire.size() : 1 + cuts[i++ % cuts.size()] % 97;
    d.feed(std::string_view(wire).substr(pos, n));
    pos += std::min(n, wire.size() - pos);
    while (true) {
      auto f = d.next();
      RC_ASSERT(f.has_value());
      if (!*f) break;
      out.push_back(std::move(**f));
    }
  }
  RC_ASSERT(out.size() == in.size());
  for (std::size_t k = 0; k < in.size(); ++k) {
    RC_ASSERT(out[k].payload == in[k].second);
    RC_ASSERT(out[k].stream == (in[k].first ? LogStream::kStderr : LogStream::kStdout));
  }
}

RC_GTEST_PROP(LogFrame, NeverCrashes, (const std::string& bytes)) {
  LogFrameDecoder d;
  d.feed(bytes);
  for (int i = 0; i < 1000; ++i) {
    auto f = d.next();
    if (!f || !*f) break;
  }
}

}  // namespace
}  // namespace pc::runtime
