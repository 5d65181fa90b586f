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
  for (std::int64_t drift : {kMaxFutureSkewMs + 1, -kMaxClockSkewMs - 1, std::int64_t{3'600'000}}) {
    auto r = checkRequest(signedStop(alice, kNow + drift), alice.peerId(), kNow, cache);
    ASSERT_FALSE(r) << drift;
    EXPECT_EQ(r.error(), Errc::kClockSkew);
  }
  EXPECT_TRUE(
      checkRequest(signedStop(alice, kNow + kMaxFutureSkewMs), alice.peerId(), kNow, cache));
  EXPECT_TRUE(checkRequest(signedStop(alice, kNow - kMaxClockSkewMs), alice.peerId(), kNow, cache));
}

// Issue 14 item 5: a request dated 5 minutes ahead was accepted and stayed in the replay cache
// for 10 minutes. The lead allowed is now 60 s (the age allowed stays 5 minutes).
TEST(Checks, FutureAllowanceIsSmallerThanThePastOne) {
  static_assert(kMaxFutureSkewMs == 60'000 && kMaxClockSkewMs == 300'000);
  const auto alice = seedIdentity();
  MemoryReplayCache cache;
  auto ahead = checkRequest(signedStop(alice, kNow + 5 * 60 * 1000), alice.peerId(), kNow, cache);
  ASSERT_FALSE(ahead);
  EXPECT_EQ(ahead.error(), Errc::kClockSkew);
  EXPECT_NE(ahead.error().message().find("in the future, more than the allowed 60 s"),
            std::string::npos)
      << ahead.error().message();
  auto late = checkRequest(signedStop(alice, kNow - 4 * 60 * 1000), alice.peerId(), kNow, cache);
  EXPECT_TRUE(late);
  EXPECT_EQ(cache.size(), 1U);
}

// Issue 14 item 5: one trusted peer filling the whole (default) cache refused every other peer.
TEST(ReplayCacheMemory, OneRequesterFillingItsShareNeverRefusesAnother) {
  MemoryReplayCache cache;  // the defaults a provider runs with
  std::size_t accepted = 0;
  Result<void> last;
  for (std::size_t i = 0; i < kDefaultReplayCacheCapacity + 10; ++i) {
    last = cache.remember("flooder", std::to_string(i), kNow + kMaxFutureSkewMs, kNow);
    if (!last) {
      break;
    }
    ++accepted;
  }
  EXPECT_EQ(accepted, kDefaultReplayQuotaPerRequester);
  ASSERT_FALSE(last);
  EXPECT_EQ(last.error(), Errc::kReplayQuota);
  EXPECT_NE(last.error().message().find("replay_quota_per_peer"), std::string::npos);
  // The entries live until kNow + kMaxFutureSkewMs + kMaxClockSkewMs: 360 s.
  EXPECT_NE(last.error().message().find("retry after 360 s"), std::string::npos)
      << last.error().message();
  EXPECT_TRUE(cache.remember("other", "a", kNow, kNow + 1));
  // Its entries expire on time, and it is served again.
  const std::int64_t later = kNow + kReplayEntryLifetimeMs + 1;
  EXPECT_TRUE(cache.remember("flooder", "again", later, later));
}

TEST(ReplayCacheMemory, CapStillHoldsForManyRequesters) {
  MemoryReplayCache cache(ReplayLimits{.capacity = 4, .perRequester = 2});
  EXPECT_TRUE(cache.remember("p", "a", kNow, kNow));
  EXPECT_TRUE(cache.remember("p", "b", kNow, kNow));
  EXPECT_EQ(cache.remember("p", "c", kNow, kNow).error(), Errc::kReplayQuota);
  EXPECT_TRUE(cache.remember("q", "a", kNow, kNow));
  EXPECT_TRUE(cache.remember("q", "b", kNow, kNow));
  auto full = cache.remember("r", "a", kNow, kNow + 1000);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error(), Errc::kReplayCacheFull);
  EXPECT_NE(full.error().message().find("replay_cache_capacity"), std::string::npos);
  EXPECT_NE(full.error().message().find("retry after 299 s"), std::string::npos)
      << full.error().message();
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
  MemoryReplayCache cache(ReplayLimits{.capacity = 2});
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
  auto cache = SqliteReplayCache::open(dir.path() / "r.db", ReplayLimits{.capacity = 2}).value();
  EXPECT_TRUE(cache->remember("p", "a", kNow, kNow));
  EXPECT_TRUE(cache->remember("q", "a", kNow, kNow));
  EXPECT_EQ(cache->remember("p", "a", kNow, kNow).error(), Errc::kReplay);
  EXPECT_EQ(cache->remember("p", "b", kNow, kNow + 1).error(), Errc::kReplayCacheFull);
  EXPECT_TRUE(cache->remember("p", "b", kNow + kMaxClockSkewMs + 2, kNow + kMaxClockSkewMs + 2));
  EXPECT_EQ(cache->size().value(), 1U);
}

// Issue 14 item 5, in the cache the provider runs: one requester's share is bounded, the others
// are still served, and its share comes back as its entries expire.
TEST(ReplayCacheSqlite, PerRequesterShare) {
  pc::test::TempDir dir;
  auto cache =
      SqliteReplayCache::open(dir.path() / "r.db", ReplayLimits{.capacity = 10, .perRequester = 3})
          .value();
  for (const char* id : {"a", "b", "c"}) {
    EXPECT_TRUE(cache->remember("p", id, kNow, kNow));
  }
  auto over = cache->remember("p", "d", kNow, kNow + 1000);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error(), Errc::kReplayQuota);
  EXPECT_NE(over.error().message().find("(replay_quota_per_peer); retry after 299 s"),
            std::string::npos)
      << over.error().message();
  EXPECT_TRUE(cache->remember("q", "a", kNow, kNow + 1000));
  EXPECT_EQ(cache->size().value(), 4U);
  const std::int64_t later = kNow + kMaxClockSkewMs + 1;
  EXPECT_TRUE(cache->remember("p", "d", later, later));
}

TEST(ReplayCacheSqlite, OpenFailureIsAValue) {
  auto r = SqliteReplayCache::open("/nonexistent-dir/x/y.db");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kStorage);
}

}  // namespace
}  // namespace pc::protocol
