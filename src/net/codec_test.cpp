#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/protobuf.hpp"
#include "core/varint.hpp"
#include "net/error.hpp"
#include "net/multistream/codec.hpp"
#include "net/noise/handshake.hpp"
#include "net/yamux/frame.hpp"

namespace pc::net {
namespace {

TEST(Multistream, EncodeDecode) {
  Bytes b;
  multistream::encode("/multistream/1.0.0", b);
  multistream::encode("/noise", b);
  EXPECT_EQ(b[0], 19);
  auto m = multistream::decode(b).value();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "/multistream/1.0.0");
  auto m2 = multistream::decode(BytesView(b).subspan(m->consumed)).value();
  ASSERT_TRUE(m2);
  EXPECT_EQ(m2->text, "/noise");
  EXPECT_FALSE(multistream::decode(BytesView(b).first(5)).value());  // needs more
}

TEST(Multistream, RejectsBadMessages) {
  Bytes big;
  varint::encode(1025, big);
  EXPECT_EQ(multistream::decode(big).error(), make_error_code(Errc::kTooLarge));
  EXPECT_EQ(multistream::decode(Bytes{3, 'a', 'b', 'c'}).error(),
            make_error_code(Errc::kProtocolError));
  EXPECT_EQ(multistream::decode(Bytes{1, '\n'}).error(), make_error_code(Errc::kProtocolError));
  EXPECT_EQ(multistream::decode(Bytes{3, 'a', 0, '\n'}).error(),
            make_error_code(Errc::kProtocolError));
  EXPECT_TRUE(multistream::isValidProtocolId("/echo/1.0.0"));
  EXPECT_FALSE(multistream::isValidProtocolId("echo"));
}

RC_GTEST_PROP(MultistreamProp, DecodeNeverCrashes, (std::vector<std::uint8_t> in)) {
  (void)multistream::decode(in);
}

TEST(YamuxFrame, RoundTripAndValidation) {
  yamux::Header h{yamux::Type::kWindowUpdate, yamux::flags::kSyn, 3, 262144};
  auto enc = yamux::encode(h);
  EXPECT_EQ(toHex(enc), "000100010000000300040000");
  EXPECT_EQ(*yamux::decode(enc).value(), h);
  EXPECT_FALSE(yamux::decode(BytesView(enc).first(11)).value());
  auto bad = enc;
  bad[0] = 1;  // version
  EXPECT_FALSE(yamux::decode(bad));
  bad = enc;
  bad[1] = 4;  // type
  EXPECT_FALSE(yamux::decode(bad));
  bad = enc;
  bad[2] = 0x80;  // unknown flag
  EXPECT_FALSE(yamux::decode(bad));
  EXPECT_FALSE(yamux::decode(yamux::encode({yamux::Type::kPing, yamux::flags::kSyn, 5, 1})));
  EXPECT_FALSE(yamux::decode(yamux::encode({yamux::Type::kData, 0, 0, 1})));
}

RC_GTEST_PROP(YamuxFrameProp, DecodeNeverCrashesAndRoundTrips, (std::vector<std::uint8_t> in)) {
  auto h = yamux::decode(in);
  if (h && *h) {
    auto enc = yamux::encode(**h);
    RC_ASSERT(std::equal(enc.begin(), enc.end(), in.begin()));
  }
}

struct Pair {
  crypto::Identity a = crypto::Identity::generate().value();
  crypto::Identity b = crypto::Identity::generate().value();
};

TEST(Noise, XxHandshakeAuthenticatesBothSidesAndEncrypts) {
  Pair p;
  auto init = noise::Handshake::create(true, p.a, {"/yamux/1.0.0"}).value();
  auto resp = noise::Handshake::create(false, p.b).value();
  ASSERT_TRUE(init.ourTurn());
  auto m1 = init.writeMessage().value();
  EXPECT_EQ(m1.size(), 32u);
  ASSERT_TRUE(resp.readMessage(m1));
  auto m2 = resp.writeMessage().value();
  ASSERT_TRUE(init.readMessage(m2));
  EXPECT_EQ(*init.remotePeer(), p.b.peerId());
  auto m3 = init.writeMessage().value();
  ASSERT_TRUE(resp.readMessage(m3));
  EXPECT_EQ(*resp.remotePeer(), p.a.peerId());
  EXPECT_EQ(resp.remoteMuxers(), std::vector<std::string>{"/yamux/1.0.0"});
  ASSERT_TRUE(init.complete() && resp.complete());
  auto ki = init.split().value();
  auto kr = resp.split().value();
  Bytes msg = toBytes("hello over noise");
  Bytes ct(msg.size() + 16);
  ASSERT_TRUE(ki.send.encrypt({}, msg, ct.data()));
  Bytes pt(msg.size());
  ASSERT_TRUE(kr.recv.decrypt({}, ct, pt.data()));
  EXPECT_EQ(pt, msg);
  // Replaying the same frame fails: the receiver's nonce moved on.
  EXPECT_FALSE(kr.recv.decrypt({}, ct, pt.data()));
}

TEST(Noise, TamperedMessagesFail) {
  for (int which = 1; which <= 2; ++which) {
    Pair p;
    auto init = noise::Handshake::create(true, p.a).value();
    auto resp = noise::Handshake::create(false, p.b).value();
    ASSERT_TRUE(resp.readMessage(init.writeMessage().value()));
    auto m2 = resp.writeMessage().value();
    if (which == 1) {
      m2[40] ^= 1;
      EXPECT_EQ(init.readMessage(m2).error(), make_error_code(Errc::kHandshakeFailed));
      continue;
    }
    ASSERT_TRUE(init.readMessage(m2));
    auto m3 = init.writeMessage().value();
    m3.back() ^= 1;
    EXPECT_FALSE(resp.readMessage(m3));
  }
}

TEST(Noise, PayloadSignatureIsChecked) {
  // A payload whose signature covers a different static key must be refused even though the
  // Noise layer itself succeeds: that is the man-in-the-middle case.
  Pair p;
  noise::Payload forged{crypto::encodePublicKey(p.a.publicKey()), Bytes(64, 7), {}};
  auto enc = noise::encodePayload(forged);
  auto dec = noise::decodePayload(enc).value();
  EXPECT_EQ(dec.identityKey, forged.identityKey);
  EXPECT_FALSE(noise::decodePayload(Bytes{0x0a, 0x05, 1}));  // truncated
  Bytes dup = enc;
  append(dup, BytesView(enc).first(2 + 36));  // identity_key twice
  EXPECT_FALSE(noise::decodePayload(dup));
  Bytes unknown = enc;
  protobuf::writeVarintField(unknown, 9, 1);  // unknown fields are skipped
  EXPECT_TRUE(noise::decodePayload(unknown));
}

RC_GTEST_PROP(NoiseProp, ResponderSurvivesArbitraryFirstMessages, (std::vector<std::uint8_t> m)) {
  static const auto id = crypto::Identity::generate().value();
  auto resp = noise::Handshake::create(false, id).value();
  if (resp.readMessage(m)) (void)resp.writeMessage();
  (void)noise::decodePayload(m);
}

}  // namespace
}  // namespace pc::net
