#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "protocol/error.hpp"
#include "protocol/frame.hpp"

namespace pc::protocol {
namespace {

Bytes frame(MessageType t, std::string_view body) { return encodeFrame(t, body).value(); }

std::vector<Frame> drain(FrameDecoder& d, BytesView in) {
  std::vector<Frame> out;
  auto f = d.feed(in);
  while (true) {
    EXPECT_TRUE(f) << f.error().message();
    if (!f || !*f) return out;
    out.push_back(std::move(**f));
    f = d.next();
  }
}

TEST(Frame, EncodesHeaderBigEndian) {
  auto b = frame(MessageType::kStopRequest, std::string(0x010203, 'x'));
  ASSERT_EQ(b.size(), kFrameHeaderSize + 0x010203);
  EXPECT_EQ(toHex(BytesView(b).first(5)), "1000010203");
}

TEST(Frame, DecodesSeveralFramesInOneChunk) {
  Bytes wire = frame(MessageType::kDeployRequest, "{}");
  append(wire, frame(MessageType::kLogEntry, "{\"a\":1}"));
  append(wire, frame(MessageType::kLogsEnd, ""));
  FrameDecoder d;
  auto frames = drain(d, wire);
  ASSERT_EQ(frames.size(), 3U);
  EXPECT_EQ(frames[0], (Frame{MessageType::kDeployRequest, "{}"}));
  EXPECT_EQ(frames[1], (Frame{MessageType::kLogEntry, "{\"a\":1}"}));
  EXPECT_EQ(frames[2], (Frame{MessageType::kLogsEnd, ""}));
  EXPECT_FALSE(d.hasPartial());
}

TEST(Frame, ByteByByte) {
  Bytes wire = frame(MessageType::kStatusResponse, std::string(70000, 'y'));
  append(wire, frame(MessageType::kHeartbeat, "{}"));
  FrameDecoder d;
  std::vector<Frame> frames;
  for (auto b : wire) {
    for (auto& f : drain(d, BytesView(&b, 1))) frames.push_back(std::move(f));
  }
  ASSERT_EQ(frames.size(), 2U);
  EXPECT_EQ(frames[0].body.size(), 70000U);
  EXPECT_EQ(frames[1].type, MessageType::kHeartbeat);
}

TEST(Frame, PartialIsReported) {
  FrameDecoder d;
  auto wire = frame(MessageType::kError, "{\"x\":1}");
  auto f = d.feed(BytesView(wire).first(7));
  ASSERT_TRUE(f);
  EXPECT_FALSE(*f);
  EXPECT_TRUE(d.hasPartial());
}

TEST(Frame, UnknownTypeRejectedFromHeader) {
  FrameDecoder d;
  const std::uint8_t hdr[] = {0x99, 0, 0, 0, 2};
  auto f = d.feed(hdr);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error(), Errc::kUnknownType);
  EXPECT_NE(f.error().message().find("0x99"), std::string::npos) << f.error().message();
  // Final: later input cannot resynchronise the stream.
  auto again = d.feed(frame(MessageType::kHeartbeat, "{}"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), Errc::kUnknownType);
}

TEST(Frame, OversizeRejectedBeforeBody) {
  FrameDecoder d;
  // Announces 1 MiB + 1 with no body bytes: refused from the 5 header bytes alone.
  const std::uint8_t hdr[] = {0x01, 0x00, 0x10, 0x00, 0x01};
  auto f = d.feed(hdr);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error(), Errc::kTooLarge);
  EXPECT_NE(f.error().message().find("1048576"), std::string::npos) << f.error().message();
  EXPECT_FALSE(d.hasPartial());
}

TEST(Frame, ExactlyAtLimitAccepted) {
  auto d = FrameDecoder::create(16).value();
  auto ok = drain(d, frame(MessageType::kLogEntry, std::string(16, 'a')));
  EXPECT_EQ(ok.size(), 1U);
  auto bad = d.feed(frame(MessageType::kLogEntry, std::string(17, 'a')));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), Errc::kTooLarge);
}

TEST(Frame, LimitConfiguration) {
  EXPECT_FALSE(FrameDecoder::create(0));
  EXPECT_FALSE(FrameDecoder::create(kHardMaxFrameBody + 1));
  auto d = FrameDecoder::create(kHardMaxFrameBody);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->maxBody(), kHardMaxFrameBody);
  EXPECT_EQ(FrameDecoder().maxBody(), kDefaultMaxFrameBody);
  EXPECT_FALSE(encodeFrame(MessageType::kLogEntry, std::string(kHardMaxFrameBody + 1, 'a')));
}

TEST(Frame, TypeNamesAreDistinct) {
  std::set<std::string_view> names;
  int known = 0;
  for (int b = 0; b < 256; ++b) {
    auto t = messageTypeFromByte(static_cast<std::uint8_t>(b));
    if (!t) continue;
    ++known;
    names.insert(messageTypeName(*t));
    EXPECT_EQ(static_cast<int>(*t), b);
  }
  EXPECT_EQ(known, 15);
  EXPECT_EQ(names.size(), 15U);
}

RC_GTEST_PROP(FrameProp, RoundTripAnyChunking,
              (const std::vector<std::string>& bodies, std::vector<std::size_t> cuts)) {
  const std::vector<MessageType> types = {MessageType::kDeployRequest, MessageType::kLogEntry,
                                          MessageType::kError};
  Bytes wire;
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    append(wire, frame(types[i % types.size()], bodies[i]));
  }
  FrameDecoder d;
  std::vector<Frame> got;
  std::size_t pos = 0;
  for (std::size_t c : cuts) {
    const std::size_t n = std::min(c % 64, wire.size() - pos);
    for (auto& f : drain(d, BytesView(wire).subspan(pos, n))) got.push_back(std::move(f));
    pos += n;
  }
  for (auto& f : drain(d, BytesView(wire).subspan(pos))) got.push_back(std::move(f));
  RC_ASSERT(got.size() == bodies.size());
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    RC_ASSERT(got[i].body == bodies[i]);
    RC_ASSERT(got[i].type == types[i % types.size()]);
  }
  RC_ASSERT(!d.hasPartial());
}

RC_GTEST_PROP(FrameProp, ArbitraryBytesNeverCrash, (const std::vector<std::uint8_t>& bytes)) {
  auto d = FrameDecoder::create(256).value();
  auto f = d.feed(bytes);
  while (f && *f) f = d.next();
}

}  // namespace
}  // namespace pc::protocol
