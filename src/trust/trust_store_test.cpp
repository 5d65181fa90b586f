#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fs.hpp"
#include "crypto/identity.hpp"
#include "support/temp_dir.hpp"
#include "trust/trust_store.hpp"

namespace pc::trust {
namespace {

TrustedPeer makePeer(std::string name) {
  auto id = crypto::Identity::generate().value();
  return {id.peerId(),
          std::move(name),
          {net::Multiaddr::parse("/ip4/127.0.0.1/tcp/9000").value()},
          nowRfc3339()};
}

TEST(TrustStore, AddResolveRemove) {
  TrustStore s;
  auto alice = makePeer("alice");
  ASSERT_TRUE(s.add(alice));
  EXPECT_TRUE(s.isTrusted(alice.id));
  EXPECT_EQ(s.resolve("alice").value()->id, alice.id);
  EXPECT_EQ(s.resolve(alice.id.toBase58()).value()->name, "alice");
  EXPECT_EQ(s.resolve(alice.id.toCid()).value()->name, "alice");
  EXPECT_EQ(s.resolve("bob").error(), make_error_code(Errc::kUnknownPeer));
  EXPECT_EQ(s.remove("alice").value().id, alice.id);
  EXPECT_FALSE(s.isTrusted(alice.id));
}

TEST(TrustStore, RejectsDuplicatesAndBadNames) {
  TrustStore s;
  auto alice = makePeer("alice");
  ASSERT_TRUE(s.add(alice));
  auto again = alice;
  again.name = "other";
  EXPECT_EQ(s.add(again).error(), make_error_code(Errc::kDuplicateId));
  EXPECT_EQ(s.add(makePeer("alice")).error(), make_error_code(Errc::kDuplicateName));
  for (auto bad :
       {"", "-x", "a b", "x/y", "é", "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB"}) {
    EXPECT_EQ(s.add(makePeer(bad)).error(), make_error_code(Errc::kBadName)) << bad;
  }
  EXPECT_EQ(s.add(makePeer(std::string(kMaxNameLength + 1, 'a'))).error(),
            make_error_code(Errc::kBadName));
  auto rsa = makePeer("rsa");
  rsa.id = crypto::PeerId::parse("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N").value();
  EXPECT_EQ(s.add(rsa).error(), make_error_code(Errc::kUnsupportedPeer));
  auto wrongAddr = makePeer("wrong");
  wrongAddr.addrs = {net::Multiaddr::parse("/ip4/1.2.3.4/tcp/1").value().withPeerId(alice.id)};
  EXPECT_EQ(s.add(wrongAddr).error(), make_error_code(Errc::kUnsupportedPeer));
  EXPECT_EQ(s.peers().size(), 1u);
}

TEST(TrustStore, JsonRoundTrip) {
  TrustStore s;
  ASSERT_TRUE(s.add(makePeer("alice")));
  ASSERT_TRUE(s.add(makePeer("bob")));
  auto back = TrustStore::fromJson(s.toJson()).value();
  ASSERT_EQ(back.peers().size(), 2u);
  EXPECT_EQ(back.peers()[1].name, "bob");
  EXPECT_EQ(back.peers()[0].addrs, s.peers()[0].addrs);
  EXPECT_EQ(back.toJson(), s.toJson());
}

TEST(TrustStore, CorruptFileIsAnErrorNotAnEmptyList) {
  test::TempDir dir;
  const auto path = dir.path() / TrustStore::kFileName;
  EXPECT_TRUE(TrustStore::load(path).value().peers().empty());  // missing = empty
  for (auto text : {"", "{", "[]", "{\"version\":2,\"peers\":[]}", "{\"version\":1,\"peers\":[{}]}",
                    "{\"version\":1,\"peers\":[{\"peer_id\":\"nope\",\"name\":\"a\"}]}"}) {
    ASSERT_TRUE(fs::writeFileAtomic(path, text, 0600));
    auto r = TrustStore::load(path);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error(), make_error_code(Errc::kCorrupt));
    EXPECT_NE(r.error().message().find("move it aside"), std::string::npos);
  }
}

TEST(TrustStore, FailedModifyLeavesFileByteForByte) {
  test::TempDir dir;
  const auto path = dir.path() / TrustStore::kFileName;
  auto alice = makePeer("alice");
  ASSERT_TRUE(TrustStore::modify(path, [&](TrustStore& s) { return s.add(alice); }));
  const auto before = fs::readFile(path, kMaxFileSize).value();
  auto r = TrustStore::modify(path, [&](TrustStore& s) { return s.add(makePeer("alice")); });
  EXPECT_FALSE(r);
  EXPECT_EQ(fs::readFile(path, kMaxFileSize).value(), before);
}

TEST(TrustStore, ConcurrentProcessesLoseNothing) {
  test::TempDir dir;
  const auto path = dir.path() / "home" / TrustStore::kFileName;
  constexpr int kProcs = 6, kEach = 15;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      for (int i = 0; i < kEach; ++i) {
        auto peer = makePeer("p" + std::to_string(p) + "-" + std::to_string(i));
        if (!TrustStore::modify(path, [&](TrustStore& s) { return s.add(peer); })) _exit(1);
      }
      _exit(0);
    }
    pids.push_back(pid);
  }
  for (auto pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(TrustStore::load(path).value().peers().size(), std::size_t{kProcs * kEach});
}

}  // namespace
}  // namespace pc::trust
