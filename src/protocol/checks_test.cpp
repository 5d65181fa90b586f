#include <gtest/gtest.h>

#include "protocol/checks.hpp"
#include "protocol/error.hpp"
#include "protocol/signing.hpp"
#include "protocol/sqlite_replay_cache.hpp"
#include "protocol/test_util.hpp"
#include "support/temp_dir.hpp"

namespace pc::protocol {
namespace {
using test::kNow;
using test::seedIdentity;

StopRequest signedStop(const crypto::Identity& id, std::int64_t ts,
                       std::string requestId = newRequestId()) {
  StopRequest s{test::header(std::move(requestId)), "dep-abcdefghijklmnop", false};
  s.header.timestampMs = ts;
  EXPECT_TRUE(sign(s, id));
  return s;
}

TEST(Checks, AcceptsAFreshSignedRequestOnce) {
  const auto alice = seedIdentity();
  MemoryReplayCache cache;
  const auto s = signedStop(alice, kNow);
  EXPECT_TRUE(checkRequest(s, alice.peerId(), kNow, cache));
  auto again = checkRequest(s, alice.peerId(), kNow + 1000, cache);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), Errc::kReplay);
  EXPECT_NE(again.error().message().find(s.header.requestId), std::string::npos);
}

TEST(Checks, RequesterMustBeTheAuthenticatedPeer) {
  const auto alice = seedIdentity(0);
  const auto bob = seedIdentity(100);
  MemoryReplayCache cache;
  auto r = checkRequest(signedStop(alice, kNow), bob.peerId(), kNow, cache);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kRequesterMismatch);
  EXPECT_EQ(cache.size(), 0U);
}

TEST(Checks, TimestampDriftBothWays) {
  const auto alice = seedIdentity();
  MemoryReplayCache cache;
  for (std::int64_t drift : {kMaxClockSkewMs + 1, -kMaxClockSkewMs - 1, std::int64_t{3'600'000}}) {
    auto r = checkRequest(signedStop(alice, kNow + drift), alice.peerId(), kNow, cache);
    ASSERT_FALSE(r) << drift;
    EXPECT_EQ(r.error(), Errc::kClockSkew);
  }
  EXPECT_TRUE(checkRequest(signedStop(alice, kNow + kMaxClockSkewMs), alice.peerId(), kNow, cache));
  EXPECT_TRUE(checkRequest(signedStop(alice, kNow - kMaxClockSkewMs), alice.peerId(), kNow, cache));
}

TEST(Checks, BadSignatureIsNotRemembered) {
  const auto alice = seedIdentity();
  MemoryReplayCache cache;
  auto s = signedStop(alice, kNow);
  s.force = true;  // altered after signing
  auto r = checkRequest(s, alice.peerId(), kNow, cache);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kBadSignature);
  EXPECT_EQ(cache.size(), 0U);
}

TEST(Checks, NonRequestRejected) {
  MemoryReplayCache cache;
  auto r = checkRequest(Heartbeat{kNow}, seedIdentity().peerId(), kNow, cache);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kNotARequest);
}

TEST(ReplayCacheMemory, EvictsOnlyExpiredAndFailsClosedAtCap) {
  MemoryReplayCache cache(2);
  EXPECT_TRUE(cache.remember("p", "a", kNow, kNow));
  EXPECT_TRUE(cache.remember("q", "a", kNow, kNow));  // per requester
  auto full = cache.remember("p", "b", kNow, kNow + 1);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error(), Errc::kReplayCacheFull);
  // Once the old entries are past the drift window they go, and room returns.
  EXPECT_TRUE(cache.remember("p", "b", kNow + kMaxClockSkewMs + 2, kNow + kMaxClockSkewMs + 2));
  EXPECT_EQ(cache.size(), 1U);
  // An entry still inside the window is never evicted, even under pressure.
  EXPECT_EQ(cache.remember("p", "b", kNow, kNow + kMaxClockSkewMs + 3).error(), Errc::kReplay);
}

TEST(ReplayCacheSqlite, SurvivesRestart) {
  pc::test::TempDir dir;
  const auto path = dir.path() / "provider.db";
  const auto alice = seedIdentity();
  const auto s = signedStop(alice, kNow);
  {
    auto cache = SqliteReplayCache::open(path).value();
    EXPECT_TRUE(checkRequest(s, alice.peerId(), kNow, *cache));
  }
  auto cache = SqliteReplayCache::open(path).value();
  auto r = checkRequest(s, alice.peerId(), kNow + 1000, *cache);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kReplay);
  EXPECT_EQ(cache->size().value(), 1U);
}

TEST(ReplayCacheSqlite, EvictionAndCap) {
  pc::test::TempDir dir;
  auto cache = SqliteReplayCache::open(dir.path() / "r.db", 2).value();
  EXPECT_TRUE(cache->remember("p", "a", kNow, kNow));
  EXPECT_TRUE(cache->remember("q", "a", kNow, kNow));
  EXPECT_EQ(cache->remember("p", "a", kNow, kNow).error(), Errc::kReplay);
  EXPECT_EQ(cache->remember("p", "b", kNow, kNow + 1).error(), Errc::kReplayCacheFull);
  EXPECT_TRUE(cache->remember("p", "b", kNow + kMaxClockSkewMs + 2, kNow + kMaxClockSkewMs + 2));
  EXPECT_EQ(cache->size().value(), 1U);
}

TEST(ReplayCacheSqlite, OpenFailureIsAValue) {
  auto r = SqliteReplayCache::open("/nonexistent-dir/x/y.db");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kStorage);
}

}  // namespace
}  // namespace pc::protocol
