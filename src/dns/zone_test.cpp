#include "dns/zone.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace pc::dns {
namespace {

namespace wire = net::dns;
using wire::Message;
using wire::Rcode;
using wire::Type;

Zone makeZone(std::vector<std::string> ns = {}) {
  ZoneSettings s;
  s.domain = "example.org";
  s.nameServers = std::move(ns);
  s.ttl = 30;
  s.serial = 1000;
  auto z = Zone::create(s).value();
  Addresses a;
  a.v4.push_back({192, 0, 2, 1});
  a.v4.push_back({192, 0, 2, 2});
  a.v6.push_back({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  EXPECT_TRUE(z.setAddresses(a));
  return z;
}

struct QueryOpts {
  std::uint16_t flags = wire::kFlagRecursionDesired;
  bool edns = false;
  std::uint16_t ednsSize = 4096;
  std::uint32_t ednsTtl = 0;
  std::uint16_t qclass = wire::kClassIn;
};

Bytes query(std::string_view name, Type type, QueryOpts o = {}) {
  Message m;
  m.id = 0x1234;
  m.flags = o.flags;
  m.questions.push_back(wire::Question{wire::parseName(name).value(), type, o.qclass, false});
  if (o.edns) {
    m.additionals.push_back(
        wire::Record{{}, Type::kOpt, o.ednsSize, false, o.ednsTtl, wire::Opaque{}});
  }
  return wire::encode(m).value();
}

Message ask(const Zone& z, std::string_view name, Type type, QueryOpts o = {},
            Transport t = Transport::kUdp) {
  const auto r = z.respond(query(name, type, o), t);
  EXPECT_FALSE(r.bytes.empty());
  return wire::decode(r.bytes).value();
}

Rcode rcode(const Message& m) { return static_cast<Rcode>(m.flags & wire::kRcodeMask); }
bool flag(const Message& m, std::uint16_t f) { return (m.flags & f) != 0; }
Bytes rdata(const wire::Record& r) { return std::get<wire::Opaque>(r.data).bytes; }

TEST(Zone, AddressesForTheApexAndEveryNameUnderIt) {
  const auto z = makeZone();
  for (std::string_view name : {"example.org", "Dep-X.Example.ORG", "a.b.c.example.org"}) {
    const auto m = ask(z, name, Type::kA);
    EXPECT_EQ(m.id, 0x1234);
    EXPECT_EQ(rcode(m), Rcode::kNoError);
    EXPECT_TRUE(flag(m, wire::kFlagAuthoritative));
    EXPECT_TRUE(flag(m, wire::kFlagResponse));
    EXPECT_TRUE(flag(m, wire::kFlagRecursionDesired));  // copied
    EXPECT_FALSE(flag(m, wire::kFlagRecursionAvailable));
    ASSERT_EQ(m.answers.size(), 2u);
    // The name as asked, case included (0x20 mixed-case resolvers check it).
    EXPECT_EQ(wire::toString(m.answers[0].name), name);
    EXPECT_EQ(m.answers[0].ttl, 30u);
    EXPECT_EQ(rdata(m.answers[1]), (Bytes{192, 0, 2, 2}));
  }
  const auto six = ask(z, "x.example.org", Type::kAaaa);
  ASSERT_EQ(six.answers.size(), 1u);
  EXPECT_EQ(six.answers[0].type, Type::kAaaa);
  EXPECT_EQ(rdata(six.answers[0]).size(), 16u);
  const auto any = ask(z, "x.example.org", Type::kAny);
  EXPECT_EQ(any.answers.size(), 3u);
}

TEST(Zone, SoaAndNsAtTheApex) {
  const auto z = makeZone();
  const auto soa = ask(z, "EXAMPLE.org", Type::kSoa);
  ASSERT_EQ(soa.answers.size(), 1u);
  EXPECT_EQ(soa.answers[0].type, Type::kSoa);
  EXPECT_EQ(soa.answers[0].ttl, kSoaTtl);
  const auto d = rdata(soa.answers[0]);
  Bytes expect = wire::nameToWire(wire::parseName("ns1.example.org").value()).value();
  append(expect, wire::nameToWire(wire::parseName("hostmaster.example.org").value()).value());
  ASSERT_EQ(d.size(), expect.size() + 20);
  EXPECT_TRUE(std::equal(expect.begin(), expect.end(), d.begin()));
  const std::size_t at = expect.size();
  const std::uint32_t serial = (std::uint32_t{d[at]} << 24) | (std::uint32_t{d[at + 1]} << 16) |
                               (std::uint32_t{d[at + 2]} << 8) | d[at + 3];
  EXPECT_EQ(serial, z.serial());
  EXPECT_EQ(d.back(), 30u);  // the SOA minimum: kNegativeTtl, or the shorter address TTL (30)

  const auto ns = ask(makeZone({"ns1.example.org", "ns.other.net"}), "example.org", Type::kNs);
  ASSERT_EQ(ns.answers.size(), 2u);
  EXPECT_EQ(rdata(ns.answers[1]),
            wire::nameToWire(wire::parseName("ns.other.net").value()).value());
  EXPECT_EQ(ask(z, "example.org", Type::kNs).answers.size(), 1u);  // default ns1.<domain>
}

TEST(Zone, OtherTypesAndSoaBelowTheApexAreNoDataNeverNxDomain) {
  const auto z = makeZone();
  for (auto [name, type] :
       {std::pair{"www.example.org", Type::kSoa}, std::pair{"www.example.org", Type::kNs},
        std::pair{"example.org", static_cast<Type>(15)},  // MX
        std::pair{"_acme-challenge.example.org", Type::kTxt}}) {
    const auto m = ask(z, name, type);
    EXPECT_EQ(rcode(m), Rcode::kNoError) << name;
    EXPECT_TRUE(flag(m, wire::kFlagAuthoritative));
    EXPECT_TRUE(m.answers.empty());
    ASSERT_EQ(m.authorities.size(), 1u);
    EXPECT_EQ(m.authorities[0].type, Type::kSoa);
    EXPECT_EQ(m.authorities[0].ttl, std::min(kNegativeTtl, 30u));
    EXPECT_TRUE(wire::sameName(m.authorities[0].name, z.apex()));
  }
}

TEST(Zone, RefusesEverythingOutsideTheZone) {
  const auto z = makeZone();
  for (std::string_view name : {"example.com", "badexample.org", "org", "example.org.evil.net"}) {
    const auto m = ask(z, name, Type::kA);
    EXPECT_EQ(rcode(m), Rcode::kRefused) << name;
    EXPECT_FALSE(flag(m, wire::kFlagAuthoritative));
    EXPECT_TRUE(m.answers.empty());
  }
  QueryOpts chaos;
  chaos.qclass = 3;  // CH: version.bind and friends
  EXPECT_EQ(rcode(ask(z, "example.org", Type::kTxt, chaos)), Rcode::kRefused);
  EXPECT_EQ(rcode(ask(z, "example.org", Type::kAxfr, {}, Transport::kTcp)), Rcode::kRefused);
  EXPECT_EQ(rcode(ask(z, "example.org", Type::kIxfr)), Rcode::kRefused);
}

TEST(Zone, ChallengeTxtValuesComeAndGo) {
  auto z = makeZone();
  const auto before = z.serial();
  ASSERT_TRUE(z.setChallenge("_acme-challenge.Example.org.", {"wildcard-digest", "apex-digest"}));
  EXPECT_GT(z.serial(), before);
  const auto m = ask(z, "_ACME-challenge.example.org", Type::kTxt);
  ASSERT_EQ(m.answers.size(), 2u);
  EXPECT_EQ(std::get<wire::Txt>(m.answers[0].data).strings,
            std::vector<std::string>{"wildcard-digest"});
  EXPECT_EQ(std::get<wire::Txt>(m.answers[1].data).strings,
            std::vector<std::string>{"apex-digest"});
  EXPECT_EQ(wire::toString(m.answers[0].name), "_ACME-challenge.example.org");
  z.clearChallenge("_acme-challenge.example.org");
  EXPECT_TRUE(ask(z, "_acme-challenge.example.org", Type::kTxt).answers.empty());

  EXPECT_FALSE(z.setChallenge("_acme-challenge.example.com", {"x"}));
  EXPECT_FALSE(z.setChallenge("_acme-challenge.example.org", {}));
  EXPECT_FALSE(z.setChallenge("_acme-challenge.example.org", {std::string(256, 'a')}));
  EXPECT_FALSE(z.setChallenge("_acme-challenge.example.org",
                              std::vector<std::string>(kMaxChallengeValues + 1, "v")));
  for (std::size_t i = 0; i < kMaxChallengeNames; ++i) {
    ASSERT_TRUE(z.setChallenge("n" + std::to_string(i) + ".example.org", {"v"}));
  }
  EXPECT_FALSE(z.setChallenge("one-more.example.org", {"v"}));
  EXPECT_TRUE(z.setChallenge("n0.example.org", {"replaced"}));  // an existing name: no new room
}

TEST(Zone, AddressesAreReplaceableAtRunTime) {
  auto z = makeZone();
  Addresses next;
  next.v4.push_back({198, 51, 100, 7});
  ASSERT_TRUE(z.setAddresses(next));
  z.setTtl(5);
  const auto m = ask(z, "a.example.org", Type::kA);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(rdata(m.answers[0]), (Bytes{198, 51, 100, 7}));
  EXPECT_EQ(m.answers[0].ttl, 5u);
  // No IPv6 now: AAAA is NODATA.
  EXPECT_TRUE(ask(z, "a.example.org", Type::kAaaa).answers.empty());
  Addresses tooMany;
  tooMany.v4.resize(kMaxAddresses + 1);
  EXPECT_FALSE(z.setAddresses(tooMany));
}

TEST(Zone, MalformedQueriesAreFormErrOrDropped) {
  const auto z = makeZone();
  EXPECT_TRUE(z.respond(Bytes{1, 2, 3}, Transport::kUdp).bytes.empty());  // no header
  auto response = query("example.org", Type::kA, {wire::kFlagResponse});
  EXPECT_EQ(z.respond(response, Transport::kUdp).outcome, Outcome::kDropped);  // QR=1
  // A header promising a question that is not there.
  const Bytes junk{0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xff};
  const auto r = z.respond(junk, Transport::kUdp);
  EXPECT_EQ(r.outcome, Outcome::kFormErr);
  const auto m = wire::decode(r.bytes).value();
  EXPECT_EQ(m.id, 0xabcd);
  EXPECT_EQ(rcode(m), Rcode::kFormErr);
  // Two questions.
  Message two = wire::decode(query("a.example.org", Type::kA)).value();
  two.questions.push_back(two.questions.front());
  EXPECT_EQ(
      rcode(wire::decode(z.respond(wire::encode(two).value(), Transport::kUdp).bytes).value()),
      Rcode::kFormErr);
  // A query carrying an answer record.
  Message withAnswer = wire::decode(query("a.example.org", Type::kA)).value();
  withAnswer.answers.push_back(ask(z, "a.example.org", Type::kA).answers.front());
  EXPECT_EQ(z.respond(wire::encode(withAnswer).value(), Transport::kUdp).outcome,
            Outcome::kFormErr);
}

TEST(Zone, OpcodesOtherThanQueryAreNotImplemented) {
  const auto z = makeZone();
  for (std::uint16_t opcode : {1, 2, 4, 5}) {  // IQUERY, STATUS, NOTIFY, UPDATE
    QueryOpts o;
    o.flags = static_cast<std::uint16_t>(opcode << 11);
    const auto m = ask(z, "example.org", Type::kSoa, o);
    EXPECT_EQ(rcode(m), Rcode::kNotImp);
    EXPECT_EQ(m.flags & wire::kOpcodeMask, opcode << 11);
    EXPECT_TRUE(m.answers.empty());
  }
}

TEST(Zone, EdnsGetsAnOptAndALargerUdpSize) {
  const auto z = makeZone();
  QueryOpts o;
  o.edns = true;
  o.ednsTtl = 0x8000;  // DO
  const auto m = ask(z, "example.org", Type::kA, o);
  ASSERT_EQ(m.additionals.size(), 1u);
  EXPECT_EQ(m.additionals[0].type, Type::kOpt);
  EXPECT_EQ(wire::fullClass(m.additionals[0].rclass, m.additionals[0].cacheFlush),
            kMaxUdpPayloadEdns);
  EXPECT_EQ(m.additionals[0].ttl, 0x8000u);
  // Without EDNS: no OPT.
  EXPECT_TRUE(ask(z, "example.org", Type::kA).additionals.empty());
  // Version 1: BADVERS (extended rcode 1 in the OPT, 0 in the header).
  o.ednsTtl = 0x00010000;
  const auto bad = ask(z, "example.org", Type::kA, o);
  EXPECT_EQ(rcode(bad), Rcode::kNoError);
  ASSERT_EQ(bad.additionals.size(), 1u);
  EXPECT_EQ(bad.additionals[0].ttl >> 24, 1u);
  EXPECT_TRUE(bad.answers.empty());
  // Two OPTs: FORMERR.
  Message twoOpt =
      wire::decode(query("example.org", Type::kA, QueryOpts{0, true, 4096, 0, wire::kClassIn}))
          .value();
  twoOpt.additionals.push_back(twoOpt.additionals.front());
  EXPECT_EQ(z.respond(wire::encode(twoOpt).value(), Transport::kUdp).outcome, Outcome::kFormErr);
}

TEST(Zone, LargeAnswersAreTruncatedOverUdpAndWholeOverTcp) {
  auto z = makeZone();
  Addresses many;
  for (std::uint8_t i = 0; i < 24; ++i) {
    many.v6.push_back({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i});
  }
  ASSERT_TRUE(z.setAddresses(many));
  // 24 AAAA records (28 bytes each) do not fit 512 bytes.
  const auto plain = ask(z, "dep.example.org", Type::kAaaa);
  EXPECT_TRUE(flag(plain, wire::kFlagTruncated));
  EXPECT_TRUE(plain.answers.empty());
  ASSERT_EQ(plain.questions.size(), 1u);
  // EDNS with 1232 bytes: they fit.
  QueryOpts o;
  o.edns = true;
  const auto edns = ask(z, "dep.example.org", Type::kAaaa, o);
  EXPECT_FALSE(flag(edns, wire::kFlagTruncated));
  EXPECT_EQ(edns.answers.size(), 24u);
  // A client announcing less than 512 still gets 512; one announcing 64 KiB gets 1232.
  o.ednsSize = 100;
  EXPECT_TRUE(flag(ask(z, "dep.example.org", Type::kAaaa, o), wire::kFlagTruncated));
  // TCP: everything.
  const auto tcp = ask(z, "dep.example.org", Type::kAaaa, {}, Transport::kTcp);
  EXPECT_FALSE(flag(tcp, wire::kFlagTruncated));
  EXPECT_EQ(tcp.answers.size(), 24u);
}

TEST(Zone, SlipIsAnEmptyTruncatedAnswerNoBiggerThanTheQuery) {
  const auto z = makeZone();
  const auto q = query("some.example.org", Type::kA);
  const auto r = z.respond(q, Transport::kUdp, /*slip=*/true);
  EXPECT_EQ(r.outcome, Outcome::kTruncated);
  EXPECT_EQ(r.bytes.size(), q.size());
  const auto m = wire::decode(r.bytes).value();
  EXPECT_TRUE(flag(m, wire::kFlagTruncated));
  EXPECT_TRUE(m.answers.empty());
}

TEST(Zone, RejectsBadSettings) {
  EXPECT_FALSE(Zone::create(ZoneSettings{"", {}, 60, 1}));
  EXPECT_FALSE(Zone::create(ZoneSettings{"a..b", {}, 60, 1}));
  EXPECT_FALSE(Zone::create(ZoneSettings{"example.org", {"bad..ns"}, 60, 1}));
}

RC_GTEST_PROP(ZoneProperty, AnyBytesGetAResponseWithTheirIdOrNone, (std::vector<std::uint8_t> b)) {
  static const Zone z = makeZone();
  for (auto t : {Transport::kUdp, Transport::kTcp}) {
    const auto r = z.respond(b, t);
    if (r.bytes.empty()) continue;
    RC_ASSERT(b.size() >= wire::kHeaderSize);
    RC_ASSERT(r.bytes[0] == b[0] && r.bytes[1] == b[1]);
    RC_ASSERT((r.bytes[2] & 0x80) != 0);  // a response
    RC_ASSERT(r.bytes.size() <= (t == Transport::kUdp ? kMaxUdpPayloadEdns : kMaxTcpResponse));
  }
}

}  // namespace
}  // namespace pc::dns
