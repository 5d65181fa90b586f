#include "net/mdns/discovery.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <random>

#include "crypto/identity.hpp"
#include "net/mdns/service.hpp"

namespace pc::net::mdns {
namespace {

constexpr std::string_view kKatId = "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB";
// A response exactly as js-libp2p 3 (@libp2p/mdns 12.0.30) sends it: PTR and TXT all in
// answers, a 63-character instance label, loopback among the addresses.
constexpr std::string_view kJsResponse =
    "000084000000000300000000045f703270045f756470056c6f63616c00000c00010000007800513f616263646566"
    "6768696a6b6c6d6e6f707172737475767778797a303132333435363738396162636465666768696a6b6c6d6e6f70"
    "7172737475767778797a30045f703270045f756470056c6f63616c003f6162636465666768696a6b6c6d6e6f7071"
    "72737475767778797a303132333435363738396162636465666768696a6b6c6d6e6f707172737475767778797a30"
    "045f703270045f756470056c6f63616c000010000100000078005958646e73616464723d2f6970342f31302e3737"
    "2e302e322f7463702f343030312f7032702f313244334b6f6f574134586f70314a6154334d487877594d6b436570"
    "597376346950566f704d5877437a356948596442666553423f6162636465666768696a6b6c6d6e6f707172737475"
    "767778797a303132333435363738396162636465666768696a6b6c6d6e6f707172737475767778797a30045f7032"
    "70045f756470056c6f63616c000010000100000078005958646e73616464723d2f6970342f3132372e302e302e31"
    "2f7463702f343030312f7032702f313244334b6f6f574134586f70314a6154334d487877594d6b43657059737634"
    "6950566f704d5877437a35694859644266655342";

const Name& service() {
  static const Name n = parseName(kServiceName).value();
  return n;
}
crypto::PeerId kat() { return crypto::PeerId::parse(kKatId).value(); }
Multiaddr ma(std::string_view s) { return Multiaddr::parse(s).value(); }
Name instance(std::string label) {
  Name n = service();
  n.insert(n.begin(), std::move(label));
  return n;
}
Record txt(const Name& owner, std::vector<std::string> strings, std::uint32_t ttl = 120) {
  return Record{owner, Type::kTxt, kClassIn, false, ttl, Txt{std::move(strings)}};
}
Record ptr(const Name& target, std::uint32_t ttl = 120) {
  return Record{service(), Type::kPtr, kClassIn, false, ttl, Ptr{target}};
}
Message response() {
  Message m;
  m.flags = kFlagResponse | kFlagAuthoritative;
  return m;
}

TEST(Mdns, ReadsJsResponse) {
  auto m = decode(fromHex(kJsResponse).value()).value();
  auto found = readAnnouncements(m, service());
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].peer, kat());
  ASSERT_EQ(found[0].addrs.size(), 2u);
  EXPECT_EQ(found[0].addrs[0], ma("/ip4/10.77.0.2/tcp/4001"));
  EXPECT_EQ(found[0].ttl, 120u);
}

TEST(Mdns, OurResponseFollowsTheSpecAndReadsBack) {
  const auto id = kat();
  auto m = makeResponse(service(), "ourname", {ma("/ip4/10.0.0.1/tcp/9000").withPeerId(id)}, 120)
               .value();
  // The spec: PTR as the answer, TXT dnsaddr records as additional records.
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].type, Type::kPtr);
  ASSERT_EQ(m.additionals.size(), 1u);
  EXPECT_EQ(std::get<Txt>(m.additionals[0].data).strings[0],
            std::string("dnsaddr=/ip4/10.0.0.1/tcp/9000/p2p/") + std::string(kKatId));
  auto back = decode(encode(m).value()).value();
  auto found = readAnnouncements(back, service());
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].peer, id);
  EXPECT_EQ(toString(found[0].instance), "ourname._p2p._udp.local");
  EXPECT_TRUE(asksFor(makeQuery(service()), service()));
  EXPECT_FALSE(asksFor(makeQuery(parseName("_other._udp.local").value()), service()));
}

TEST(Mdns, AnnouncementRules) {
  const auto id = kat();
  const auto other = crypto::Identity::generate().value().peerId();
  const auto inst = instance("x");
  auto m = response();
  m.answers.push_back(ptr(inst, 300));
  m.additionals.push_back(txt(inst,
                              {
                                  "DNSADDR=/ip4/10.0.0.1/tcp/1/p2p/" + id.toBase58(),
                                  "dnsaddr=/ip4/10.0.0.2/tcp/1/p2p/" + other.toBase58(),
                                  "dnsaddr=/dns4/evil.example/tcp/1/p2p/" + id.toBase58(),
                                  "dnsaddr=/ip4/10.0.0.3/tcp/1",
                                  "dnsaddr=/ip4/10.0.0.4/udp/1/quic-v1/p2p/" + id.toBase58(),
                                  "dnsaddr=not a multiaddr",
                                  "other=thing",
                              },
                              60));
  // A PTR to a name that is not <label>.<service> is ignored.
  m.answers.push_back(ptr(parseName("a.b._p2p._udp.local").value()));
  std::vector<std::string> dropped;
  auto found = readAnnouncements(m, service(), &dropped);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].peer, id);
  EXPECT_EQ(found[0].addrs, std::vector<Multiaddr>{ma("/ip4/10.0.0.1/tcp/1")});
  EXPECT_EQ(found[0].ttl, 60u);  // the smaller of PTR and TXT
  EXPECT_GE(dropped.size(), 5u);

  auto rcode = m;
  rcode.flags |= 3;
  EXPECT_TRUE(readAnnouncements(rcode, service()).empty());
  auto query = m;
  query.flags = 0;
  EXPECT_TRUE(readAnnouncements(query, service()).empty());
  auto longTtl = response();
  longTtl.answers.push_back(ptr(inst, 0xFFFFFFFF));
  longTtl.answers.push_back(
      txt(inst, {"dnsaddr=/ip4/10.0.0.1/tcp/1/p2p/" + id.toBase58()}, 0xFFFFFFFF));
  EXPECT_EQ(readAnnouncements(longTtl, service()).at(0).ttl, kMaxTtlSeconds);
}

TEST(Mdns, TableExpiresAndSaysGoodbye) {
  PeerTable t;
  const auto t0 = PeerTable::Clock::time_point{} + std::chrono::hours(1);
  Announcement a{instance("x"), kat(), {ma("/ip4/10.0.0.1/tcp/1")}, 10};
  EXPECT_TRUE(t.learn(a, t0));
  EXPECT_FALSE(t.learn(a, t0 + std::chrono::seconds(5)));  // a refresh is not news
  t.expire(t0 + std::chrono::seconds(14));
  EXPECT_TRUE(t.find(kat()));
  t.expire(t0 + std::chrono::seconds(15));
  EXPECT_FALSE(t.find(kat()));
  EXPECT_TRUE(t.learn(a, t0));
  a.ttl = 0;
  t.learn(a, t0);
  EXPECT_EQ(t.size(), 0u);
}

TEST(Mdns, TableIsBoundedAndKeepsPreferredPeers) {
  std::vector<crypto::PeerId> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(crypto::Identity::generate().value().peerId());
  const auto trusted = ids[0];
  PeerTable t([&](const crypto::PeerId& p) { return p == trusted; }, 4);
  auto now = PeerTable::Clock::time_point{} + std::chrono::hours(1);
  for (const auto& id : ids) {
    now += std::chrono::seconds(1);
    t.learn(Announcement{instance("x"), id, {ma("/ip4/10.0.0.1/tcp/1")}, 120}, now);
  }
  EXPECT_EQ(t.size(), 4u);
  EXPECT_TRUE(t.find(trusted));  // oldest, but preferred: strangers evicted instead
  EXPECT_TRUE(t.find(ids[5]));
  EXPECT_FALSE(t.find(ids[1]));

  Announcement many{instance("x"), ids[5], {}, 120};
  for (int i = 0; i < 40; ++i) {
    many.addrs = {ma("/ip4/10.0.1." + std::to_string(i) + "/tcp/1")};
    t.learn(many, now + std::chrono::seconds(i));
  }
  EXPECT_EQ(t.find(ids[5])->addrs.size(), kMaxAddrsPerPeer);
}

TEST(Mdns, OnLink) {
  const std::vector<std::pair<asio::ip::address, unsigned>> nets{
      {asio::ip::make_address("10.1.2.3"), 24}, {asio::ip::make_address("fd00::2"), 64}};
  EXPECT_TRUE(onLink(asio::ip::make_address("10.1.2.200"), nets));
  EXPECT_FALSE(onLink(asio::ip::make_address("10.1.3.1"), nets));
  EXPECT_FALSE(onLink(asio::ip::make_address("127.0.0.1"), nets));
  EXPECT_TRUE(onLink(asio::ip::make_address("fd00::99"), nets));
  EXPECT_FALSE(onLink(asio::ip::make_address("fd01::1"), nets));
}

// Two services in one process on a random port, over this machine's multicast interfaces
// (multicast loop delivers each one's packets to the other): the responder is discovered, the
// looker never announces, and neither learns itself.
TEST(MdnsService, DiscoversAnotherServiceAndNotItself) {
  asio::io_context io(1);
  const auto a = crypto::Identity::generate().value();
  const auto b = crypto::Identity::generate().value();
  std::mt19937 rng(std::random_device{}());
  ServiceConfig cfg;
  cfg.port = static_cast<std::uint16_t>(std::uniform_int_distribution<int>(20000, 60000)(rng));
  cfg.firstInterval = std::chrono::milliseconds(200);
  auto responder = Service::start(
      io.get_executor(), a.peerId(),
      [] { return std::vector<Multiaddr>{ma("/ip4/0.0.0.0/tcp/4242")}; }, cfg);
  ASSERT_TRUE(responder) << responder.error().message();
  if ((*responder)->interfaceCount() == 0) {
    (*responder)->stop();
    GTEST_SKIP() << "no multicast-capable interface is up";
  }
  cfg.respond = false;
  auto looker = Service::start(io.get_executor(), b.peerId(), {}, cfg);
  ASSERT_TRUE(looker) << looker.error().message();
  std::optional<DiscoveredPeer> seen;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        const auto id = a.peerId();
        const std::chrono::milliseconds wait(5000);
        seen = co_await (*looker)->waitFor(id, wait);
        (*looker)->stop();
        (*responder)->stop();
      },
      asio::detached);
  io.run_for(std::chrono::seconds(10));
  ASSERT_TRUE(seen) << "the responder was not discovered";
  ASSERT_FALSE(seen->addrs.empty());
  EXPECT_EQ(seen->addrs[0].tcpTarget()->port, 4242);
  EXPECT_FALSE((*responder)->find(a.peerId()));  // not itself
  EXPECT_FALSE((*responder)->find(b.peerId()));  // the looker does not answer
}

}  // namespace
}  // namespace pc::net::mdns
