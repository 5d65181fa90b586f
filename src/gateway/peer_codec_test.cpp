#include "gateway/peer_codec.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace pc::gateway::peer {
namespace {

Heartbeat beat() {
  Heartbeat h;
  h.flags = kFlagOrdersWildcard;
  h.domain = "example.org";
  h.addresses.v4.push_back({192, 0, 2, 1});
  h.addresses.v6.push_back({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  h.certNotAfter = 1'800'000'000;
  h.intervalMs = 2500;
  return h;
}

std::vector<Message> samples() {
  return {beat(),
          ChallengeSet{7, "_acme-challenge.example.org", {"abcDEF-_123", "xyz"}},
          ChallengeAck{7},
          ChallengeClear{"_acme-challenge.example.org"},
          CertificateRequest{},
          Certificate{"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                      "-----BEGIN PRIVATE KEY-----\nBBBB\n-----END PRIVATE KEY-----\n"}};
}

Result<std::optional<Message>> decodeAll(const Bytes& frame) {
  FrameDecoder d;
  return d.feed(frame);
}

TEST(PeerCodec, EveryMessageRoundTrips) {
  for (const auto& m : samples()) {
    auto frame = encode(m);
    ASSERT_TRUE(frame) << frame.error().message();
    auto back = decodeAll(*frame);
    ASSERT_TRUE(back) << back.error().message();
    ASSERT_TRUE(back->has_value());
    EXPECT_EQ(**back, m);
  }
}

TEST(PeerCodec, FramesSplitAnywhereAndBackToBack) {
  Bytes stream;
  for (const auto& m : samples()) append(stream, encode(m).value());
  for (std::size_t step : {1u, 3u, 7u, 4096u}) {
    FrameDecoder d;
    std::vector<Message> got;
    for (std::size_t off = 0; off < stream.size(); off += step) {
      auto m = d.feed(BytesView(stream).subspan(off, std::min(step, stream.size() - off)));
      while (m && *m) {
        got.push_back(**m);
        m = d.next();
      }
      ASSERT_TRUE(m) << m.error().message();
    }
    EXPECT_EQ(got, samples()) << "step " << step;
    EXPECT_FALSE(d.hasPartial());
  }
}

TEST(PeerCodec, RefusesUnknownTypeAndOversizeFromTheHeader) {
  FrameDecoder unknown;
  auto u = unknown.feed(Bytes{0x09, 0, 0, 0, 0});
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error(), make_error_code(Errc::kUnknownCode));
  // A certificate frame announcing more than its bound: refused before any body byte arrives.
  FrameDecoder big;
  const auto len = static_cast<std::uint32_t>(kMaxCertificateBody + 1);
  auto b = big.feed(Bytes{0x06, static_cast<std::uint8_t>(len >> 24),
                          static_cast<std::uint8_t>(len >> 16), static_cast<std::uint8_t>(len >> 8),
                          static_cast<std::uint8_t>(len)});
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error(), make_error_code(Errc::kTooLarge));
  // A heartbeat may not be certificate-sized.
  FrameDecoder hb;
  EXPECT_FALSE(hb.feed(Bytes{0x01, 0, 0, 0x10, 0}));
  // Errors are final.
  EXPECT_FALSE(hb.feed(encode(beat()).value()));
}

TEST(PeerCodec, RefusesBadFields) {
  auto bad = [](Message m) { return !encode(m); };
  Heartbeat h = beat();
  h.flags = 0x80;
  EXPECT_TRUE(bad(h)) << "unknown flag";
  h = beat();
  h.domain = "Example.org";
  EXPECT_TRUE(bad(h)) << "upper case";
  h.domain = "";
  EXPECT_TRUE(bad(h)) << "empty domain";
  h = beat();
  h.addresses = {};
  EXPECT_TRUE(bad(h)) << "no address";
  h = beat();
  h.addresses.v4.resize(kMaxAddressesPerGateway);
  EXPECT_TRUE(bad(h)) << "over kMaxAddressesPerGateway";
  h = beat();
  h.certNotAfter = kMaxUnixSeconds + 1;
  EXPECT_TRUE(bad(h));
  h = beat();
  h.intervalMs = kMinHeartbeatMs - 1;
  EXPECT_TRUE(bad(h)) << "interval below the range";
  h.intervalMs = kMaxHeartbeatMs + 1;
  EXPECT_TRUE(bad(h)) << "interval above the range: a silent peer would stay named for hours";
  EXPECT_TRUE(bad(ChallengeSet{1, "_acme-challenge.example.org", {}})) << "no value";
  EXPECT_TRUE(bad(ChallengeSet{1, "_acme-challenge.example.org", {"a b"}})) << "space";
  EXPECT_TRUE(bad(ChallengeSet{1, "_acme-challenge.example.org", {std::string(256, 'a')}}));
  EXPECT_TRUE(bad(ChallengeSet{1, "_acme-challenge.example.org",
                               std::vector<std::string>(dns::kMaxChallengeValues + 1, "v")}));
  EXPECT_TRUE(bad(ChallengeClear{std::string(kMaxNameLength + 1, 'a')}));
  EXPECT_TRUE(bad(Certificate{std::string(kMaxChainPem + 1, 'A'), "k"})) << "chain too large";
  EXPECT_TRUE(bad(Certificate{"c", ""})) << "no key";
  EXPECT_TRUE(bad(Certificate{"c\x01", "k"})) << "not PEM text";
}

TEST(PeerCodec, RefusesTrailingAndShortBodies) {
  auto frame = encode(ChallengeAck{1}).value();
  frame[4] = 5;  // body length 5: one byte more than an ack has
  frame.push_back(0);
  EXPECT_FALSE(decodeAll(frame));
  auto hb = encode(beat()).value();
  hb[4] = static_cast<std::uint8_t>(hb[4] - 1);  // the body ends inside cert_not_after
  hb.pop_back();
  EXPECT_FALSE(decodeAll(hb));
}

RC_GTEST_PROP(PeerCodec, NeverCrashesAndWhatDecodesReEncodes,
              (const std::vector<std::uint8_t>& in)) {
  FrameDecoder d;
  auto m = d.feed(in);
  std::size_t used = 0;
  while (m && *m) {
    const auto again = encode(**m);
    RC_ASSERT(static_cast<bool>(again));
    RC_ASSERT(used + again->size() <= in.size());
    const bool same =
        std::equal(again->begin(), again->end(), in.begin() + static_cast<long>(used));
    RC_ASSERT(same);
    used += again->size();
    m = d.next();
  }
}

RC_GTEST_PROP(PeerCodec, ChallengeSetsRoundTrip, (std::uint32_t seq, std::uint8_t count)) {
  ChallengeSet s;
  s.seq = seq;
  s.name = "_acme-challenge.a-b.example";
  const std::size_t n = 1 + count % dns::kMaxChallengeValues;
  for (std::size_t i = 0; i < n; ++i) {
    const auto len = *rc::gen::inRange<std::size_t>(1, dns::kMaxTxtValueLength + 1);
    s.values.push_back(*rc::gen::container<std::string>(len, rc::gen::inRange<char>('!', '~')));
  }
  auto frame = encode(s);
  RC_ASSERT(static_cast<bool>(frame));
  auto back = decodeAll(*frame);
  const bool decoded = back && back->has_value();
  RC_ASSERT(decoded);
  const bool same = **back == Message(s);
  RC_ASSERT(same);
}

}  // namespace
}  // namespace pc::gateway::peer
