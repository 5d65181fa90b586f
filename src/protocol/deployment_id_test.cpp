#include "protocol/deployment_id.hpp"

#include <gtest/gtest.h>

#include <set>

#include "crypto/identity.hpp"
#include "protocol/error.hpp"
#include "protocol/test_util.hpp"

namespace pc::protocol {
namespace {

constexpr std::string_view kSalt = "000102030405060708090a0b0c0d0e0f";

TEST(DeploymentId, KnownAnswer) {
  // SHA-256("peercompute/deployment-id/v1\n" ‖ PeerId bytes ‖ salt), first 10 bytes in base32:
  // computed independently, so that a change to the derivation (which would strand every
  // deployed route on a gateway running the old one) fails here.
  const auto provider = crypto::PeerId::parse(test::kSeedPeer).value();
  EXPECT_EQ(deploymentIdFor(provider, kSalt).value(), "dep-xv4zbhhwn2uk27oq");
}

TEST(DeploymentId, BoundToTheProviderAndTheSalt) {
  const auto a = crypto::PeerId::parse(test::kSeedPeer).value();
  const auto b = crypto::Identity::generate().value().peerId();
  const auto salt = newDeploymentSalt();
  EXPECT_EQ(salt.size(), kDeploymentSaltBytes * 2);
  const auto id = deploymentIdFor(a, salt).value();
  EXPECT_TRUE(isDeploymentId(id)) << id;
  EXPECT_EQ(deploymentIdFor(a, salt).value(), id);
  EXPECT_NE(deploymentIdFor(a, newDeploymentSalt()).value(), id);
  EXPECT_NE(deploymentIdFor(b, salt).value(), id);
}

TEST(DeploymentId, RefusesASaltOfAnotherForm) {
  const auto a = crypto::PeerId::parse(test::kSeedPeer).value();
  for (std::string_view bad :
       {"", "XYZ", "000102030405060708090A0B0C0D0E0F", "000102030405060708090a0b0c0d0e",
        "000102030405060708090a0b0c0d0e0f00"}) {
    auto r = deploymentIdFor(a, bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), Errc::kBadFormat);
  }
}

TEST(DeploymentId, FreshIdsAreWellFormedAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const auto id = newDeploymentId();
    EXPECT_TRUE(isDeploymentId(id)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100U);
}

TEST(DeploymentId, Form) {
  EXPECT_TRUE(isDeploymentId("dep-abcdefghijklmnop"));
  EXPECT_TRUE(isDeploymentId("dep-234567abcdefghij"));
  EXPECT_FALSE(isDeploymentId("dep-abcdefghijklmno"));
  EXPECT_FALSE(isDeploymentId("dep-abcdefghijklmnopq"));
  EXPECT_FALSE(isDeploymentId("dop-abcdefghijklmnop"));
  EXPECT_FALSE(isDeploymentId("dep-abcdefghijklmno8"));
  EXPECT_FALSE(isDeploymentId("dep-ABCDEFGHIJKLMNOP"));
  EXPECT_FALSE(isDeploymentId(""));
}

}  // namespace
}  // namespace pc::protocol
