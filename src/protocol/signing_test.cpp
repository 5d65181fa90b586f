#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "protocol/error.hpp"
#include "protocol/signing.hpp"
#include "protocol/test_util.hpp"

namespace pc::protocol {
namespace {
using test::seedIdentity;

StopRequest knownStop() {
  StopRequest s;
  s.header.requestId = "000102030405060708090a0b0c0d0e0f";
  s.header.timestampMs = test::kNow;
  s.deploymentId = "dep-abcdefghijklmnop";
  s.force = true;
  return s;
}

// Known answer: identity from the seed 00..1f. The payload is written out by hand; the
// signature was computed independently (Python `cryptography`, Ed25519PrivateKey over the same
// bytes), so this pins the domain prefix, JCS form and key together.
TEST(Signing, KnownAnswerVector) {
  auto s = knownStop();
  ASSERT_TRUE(sign(s, seedIdentity())) << "sign failed";
  EXPECT_EQ(s.header.requesterId, test::kSeedPeer);
  EXPECT_EQ(signingPayload(s).value(),
            "peercompute/v1/stop_request\n"
            "{\"deployment_id\":\"dep-abcdefghijklmnop\",\"force\":true,"
            "\"request_id\":\"000102030405060708090a0b0c0d0e0f\","
            "\"requester_id\":\"12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB\","
            "\"timestamp\":1700000000000}");
  EXPECT_EQ(s.header.signature,
            "b12d76ab436f159df8c00b380defe65f9ae3410b67501bb7d6e89496b9af9bdf"
            "03d887e91b1112a0fc1eb38e79f0cdda8c98c0383340b0dc8ef988b2d6b7fa0a");
  EXPECT_TRUE(verify(s, seedIdentity().peerId()));
}

TEST(Signing, SurvivesTheWireAndMemberOrder) {
  auto d = test::deployRequest();
  ASSERT_TRUE(sign(d, seedIdentity()));
  auto back = fromJsonAs<DeployRequest>(toJson(d));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_TRUE(verify(*back, seedIdentity().peerId()));
  // Reordered members and whitespace do not matter: the signature covers the canonical form.
  const std::string reordered =
      "{ \"timeout_seconds\": 300, \"signature\": \"" + d.header.signature +
      "\", \"env\": {\"_X1\": \"\", \"GREETING\": \"hello \\\"world\\\"\\n\"}, \"expose_port\": "
      "8080, \"memory_bytes\": 268435456, \"cpu_millicores\": 500, \"image\": \"" +
      d.image + "\", \"timestamp\": 1700000000000, \"requester_id\": \"" +
      std::string(test::kSeedPeer) + "\", \"request_id\": \"000102030405060708090a0b0c0d0e0f\" }";
  auto r = fromJsonAs<DeployRequest>(reordered);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(verify(*r, seedIdentity().peerId()));
}

TEST(Signing, AnyChangeBreaksTheSignature) {
  const auto id = seedIdentity();
  auto d = test::deployRequest();
  ASSERT_TRUE(sign(d, id));
  auto expectBad = [&](DeployRequest m) {
    auto r = verify(m, id.peerId());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), Errc::kBadSignature);
  };
  auto m = d;
  m.memoryBytes += 1;
  expectBad(m);
  m = d;
  m.env["EXTRA"] = "1";
  expectBad(m);
  m = d;
  m.exposePort.reset();
  expectBad(m);
  m = d;
  m.header.timestampMs += 1;
  expectBad(m);
  m = d;
  m.header.requestId[0] = '1';
  expectBad(m);
  m = d;
  m.header.signature[10] = m.header.signature[10] == '0' ? '1' : '0';
  expectBad(m);
}

TEST(Signing, DomainSeparationStopsCrossTypeReplay) {
  // A StatusRequest for one deployment and an UnregisterRoute have identical bodies; only the
  // domain prefix differs.
  const auto id = seedIdentity();
  StatusRequest status{test::header(), "dep-abcdefghijklmnop"};
  ASSERT_TRUE(sign(status, id));
  UnregisterRoute unreg{status.header, *status.deploymentId};
  EXPECT_TRUE(verify(status, id.peerId()));
  auto r = verify(unreg, id.peerId());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kBadSignature);
  EXPECT_NE(signingPayload(status).value(), signingPayload(unreg).value());
  EXPECT_EQ(signingPayload(unreg).value().rfind("peercompute/v1/unregister_route\n", 0), 0U);
}

TEST(Signing, WrongSignerIsRejected) {
  const auto alice = seedIdentity(0);
  const auto bob = seedIdentity(100);
  auto s = knownStop();
  ASSERT_TRUE(sign(s, bob));
  auto r = verify(s, alice.peerId());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kRequesterMismatch);
  // Bob's signature under Alice's name: the requester matches, the signature does not.
  s.header.requesterId = alice.peerId().toBase58();
  r = verify(s, alice.peerId());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kBadSignature);
}

TEST(Signing, NonRequestsAndInvalidRequests) {
  Message m = LogsEnd{};
  EXPECT_EQ(sign(m, seedIdentity()).error(), Errc::kNotARequest);
  EXPECT_EQ(verify(m, seedIdentity().peerId()).error(), Errc::kNotARequest);
  EXPECT_EQ(signingPayload(m).error(), Errc::kNotARequest);
  auto d = test::deployRequest();
  d.cpuMillicores = 0;
  auto r = sign(d, seedIdentity());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kOutOfRange);
  EXPECT_NE(r.error().message().find("cpu_millicores"), std::string::npos);
}

RC_GTEST_PROP(SigningProp, SignVerifyRoundTripOverTheWire,
              (bool force, bool follow, std::uint16_t tail)) {
  const auto id = seedIdentity();
  StopRequest s{newRequestHeader(unixMillisNow()), newDeploymentId(), force};
  RC_ASSERT(sign(s, id).has_value());
  auto back = fromJsonAs<StopRequest>(toJson(s)).value();
  RC_ASSERT(verify(back, id.peerId()).has_value());
  LogsRequest l{newRequestHeader(unixMillisNow()), newDeploymentId(), follow,
                std::int64_t{tail} % (kMaxLogTail + 1), std::nullopt};
  RC_ASSERT(sign(l, id).has_value());
  RC_ASSERT(verify(fromJsonAs<LogsRequest>(toJson(l)).value(), id.peerId()).has_value());
}

}  // namespace
}  // namespace pc::protocol
