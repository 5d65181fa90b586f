#include "net/dns/message.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace pc::net::dns {
namespace {

// What js-libp2p 3 (@libp2p/mdns 12 over dns-packet 5.6) puts on the wire: its query, and its
// response (everything in answers, no name compression).
constexpr std::string_view kJsQuery =
    "000000000001000000000000045f703270045f756470056c6f63616c00000c0001";

Bytes hex(std::string_view h) { return fromHex(h).value(); }

Bytes header(std::uint16_t qd, std::uint16_t an, std::uint16_t ns = 0, std::uint16_t ar = 0,
             std::uint16_t flags = 0) {
  Bytes b{0, 0, static_cast<std::uint8_t>(flags >> 8), static_cast<std::uint8_t>(flags)};
  for (auto v : {qd, an, ns, ar}) {
    b.push_back(static_cast<std::uint8_t>(v >> 8));
    b.push_back(static_cast<std::uint8_t>(v));
  }
  return b;
}

void expectRejected(const Bytes& packet, std::string_view why) {
  auto m = decode(packet);
  ASSERT_FALSE(m) << "accepted: " << why;
  EXPECT_NE(m.error().message().find(why), std::string::npos) << m.error().message();
}

TEST(Dns, DecodesJsQuery) {
  auto m = decode(hex(kJsQuery)).value();
  EXPECT_FALSE(m.isResponse());
  ASSERT_EQ(m.questions.size(), 1u);
  EXPECT_EQ(toString(m.questions[0].name), "_p2p._udp.local");
  EXPECT_EQ(m.questions[0].type, Type::kPtr);
  EXPECT_EQ(m.questions[0].qclass, kClassIn);
  EXPECT_FALSE(m.questions[0].unicastResponse);
}

TEST(Dns, RoundTripWithCompression) {
  Message m;
  m.id = 7;
  m.flags = kFlagResponse | kFlagAuthoritative;
  const Name service = parseName("_p2p._udp.local").value();
  Name instance = service;
  instance.insert(instance.begin(), "peer1");
  m.answers.push_back(Record{service, Type::kPtr, kClassIn, false, 120, Ptr{instance}});
  m.additionals.push_back(
      Record{instance, Type::kTxt, kClassIn, true, 120, Txt{{"dnsaddr=/ip4/1.2.3.4/tcp/1", ""}}});
  m.additionals.push_back(Record{parseName("host.local").value(), Type::kA, kClassIn, true, 120,
                                 Opaque{{10, 0, 0, 1}}});
  auto bytes = encode(m).value();
  // The instance name is written once and pointed at afterwards.
  EXPECT_LT(bytes.size(), 120u);
  EXPECT_EQ(decode(bytes).value(), m);
}

TEST(Dns, NamesAreCaseInsensitiveAndLabelsStayApart) {
  EXPECT_TRUE(sameName(parseName("_P2P._udp.LOCAL").value(), parseName("_p2p._udp.local").value()));
  // One label "a.b" is not the two labels "a", "b" (no confusion through the dotted form).
  EXPECT_FALSE(sameName(Name{"a.b", "local"}, Name{"a", "b", "local"}));
  EXPECT_EQ(toString(Name{"a.b", "x\x01"}), "a\\.b.x\\x01");
  EXPECT_FALSE(parseName("a..b"));
  EXPECT_FALSE(parseName(std::string(64, 'a')));
  EXPECT_TRUE(parseName(std::string(63, 'a')));
}

// ---- hostile packets: each is rejected with a reason, never read out of bounds -----------

TEST(DnsHostile, CompressionLoops) {
  // A name that points at itself: offset 12 → 12.
  auto self = header(1, 0);
  append(self, Bytes{0xC0, 12, 0, 12, 0, 1});
  expectRejected(self, "does not point backwards");
  // Two pointers pointing at each other: 12 → 14 (forward) → 12.
  auto pair = header(1, 0);
  append(pair, Bytes{0xC0, 14, 0xC0, 12, 0, 12, 0, 1});
  expectRejected(pair, "does not point backwards");
  // A label followed by a pointer back to that label: "a" → 12 → "a" → …
  auto labelLoop = header(1, 0);
  append(labelLoop, Bytes{1, 'a', 0xC0, 12, 0, 12, 0, 1});
  expectRejected(labelLoop, "does not point backwards");
}

TEST(DnsHostile, PointerIntoHeaderAndLongChains) {
  auto intoHeader = header(1, 0);
  append(intoHeader, Bytes{0xC0, 2, 0, 12, 0, 1});
  expectRejected(intoHeader, "pointer");
}

// A record of an unknown type whose (opaque) data holds a root label and a chain of `hops`
// pointers, each to the one before it, then a TXT record whose name is the last pointer.
Bytes pointerChain(int hops) {
  auto p = header(0, 2);
  append(p, Bytes{0, 0, 99, 0, 1, 0, 0, 0, 1});  // root name, type 99, class IN, ttl 1
  const auto rdlen = static_cast<std::uint16_t>(1 + 2 * hops);
  p.push_back(static_cast<std::uint8_t>(rdlen >> 8));
  p.push_back(static_cast<std::uint8_t>(rdlen));
  std::size_t prev = p.size();
  p.push_back(0);
  for (int i = 0; i < hops; ++i) {
    const std::size_t here = p.size();
    p.push_back(static_cast<std::uint8_t>(0xC0 | (prev >> 8)));
    p.push_back(static_cast<std::uint8_t>(prev));
    prev = here;
  }
  append(p, Bytes{static_cast<std::uint8_t>(0xC0 | (prev >> 8)), static_cast<std::uint8_t>(prev), 0,
                  16, 0, 1, 0, 0, 0, 1, 0, 0});
  return p;
}

TEST(DnsHostile, PointerChainsAreBounded) {
  // The whole chain counts (the record's own pointer too): kMaxPointerHops in all is fine.
  EXPECT_TRUE(decode(pointerChain(static_cast<int>(kMaxPointerHops) - 1)));
  expectRejected(pointerChain(static_cast<int>(kMaxPointerHops)), "too many compression pointers");
}

TEST(DnsHostile, LabelAndNameLengths) {
  auto ext = header(1, 0);
  append(ext, Bytes{0x40, 'a', 0, 0, 12, 0, 1});  // 0x40: extended label type
  expectRejected(ext, "unsupported label type");
  // 5 labels of 63 bytes = 320 bytes > 255.
  auto longName = header(1, 0);
  for (int i = 0; i < 5; ++i) {
    longName.push_back(63);
    longName.insert(longName.end(), 63, 'x');
  }
  append(longName, Bytes{0, 0, 12, 0, 1});
  expectRejected(longName, "name over 255 bytes");
  auto ctl = header(1, 0);
  append(ctl, Bytes{2, 'a', 0x1b, 0, 0, 12, 0, 1});  // ESC: terminal escape injection
  expectRejected(ctl, "control character");
}

TEST(DnsHostile, TruncationAndCounts) {
  expectRejected(Bytes{0, 0, 0}, "shorter than its header");
  // 65535 questions claimed in a 12-byte packet: rejected before allocating anything.
  auto lie = header(0xFFFF, 0);
  auto m = decode(lie);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), make_error_code(Errc::kTooLarge));
  expectRejected(header(3, 0), "counts larger than the packet");
  auto truncLabel = header(1, 0);
  append(truncLabel, Bytes{10, 'a', 'b', 0, 0, 0});
  expectRejected(truncLabel, "truncated");
  auto noRdata = header(0, 1);
  append(noRdata, Bytes{0, 0, 16, 0, 1, 0, 0, 0, 120, 0x10, 0});  // rdlength 4096, no data
  expectRejected(noRdata, "truncated record data");
  auto trailing = hex(kJsQuery);
  trailing.push_back(0);
  expectRejected(trailing, "trailing bytes");
  Bytes huge(kMaxMessageSize + 1, 0);
  EXPECT_EQ(decode(huge).error(), make_error_code(Errc::kTooLarge));
}

TEST(DnsHostile, RdataMustMatchItsLength) {
  // PTR whose name runs past rdlength (rdlength 1, name 3 bytes).
  auto ptr = header(0, 1);
  append(ptr, Bytes{0, 0, 12, 0, 1, 0, 0, 0, 120, 0, 1, 1, 'a', 0});
  expectRejected(ptr, "PTR data does not match its length");
  // TXT whose string claims 10 bytes inside a 3-byte rdata.
  auto txt = header(0, 1);
  append(txt, Bytes{0, 0, 16, 0, 1, 0, 0, 0, 120, 0, 3, 10, 'a', 'b'});
  expectRejected(txt, "TXT string runs past its record");
  auto a = header(0, 1);
  append(a, Bytes{0, 0, 1, 0, 1, 0, 0, 0, 120, 0, 3, 1, 2, 3});
  expectRejected(a, "A record is not 4 bytes");
}

TEST(DnsHostile, EncoderRefusesWhatTheDecoderWould) {
  Message m;
  m.questions.push_back(Question{Name{std::string(64, 'a')}, Type::kPtr, kClassIn, false});
  EXPECT_FALSE(encode(m));
  Message t;
  t.answers.push_back(
      Record{Name{"x"}, Type::kTxt, kClassIn, false, 1, Txt{{std::string(256, 'a')}}});
  EXPECT_FALSE(encode(t));
  Message wrong;
  wrong.answers.push_back(Record{Name{"x"}, Type::kPtr, kClassIn, false, 1, Txt{}});
  EXPECT_FALSE(encode(wrong));
}

RC_GTEST_PROP(DnsProperty, NeverCrashesOnRandomBytes, (const std::vector<std::uint8_t>& tail)) {
  // A valid header with small counts in front of random bytes reaches the record parsers.
  auto p = header(*rc::gen::inRange<std::uint16_t>(0, 4), *rc::gen::inRange<std::uint16_t>(0, 4), 0,
                  *rc::gen::inRange<std::uint16_t>(0, 4));
  append(p, tail);
  auto m = decode(p);
  if (m) RC_ASSERT(decode(encode(*m).value()).value() == *m);
}

RC_GTEST_PROP(DnsProperty, RoundTrip, ()) {
  const auto genLabel =
      rc::gen::map(rc::gen::container<std::string>(*rc::gen::inRange<std::size_t>(1, 12),
                                                   rc::gen::elementOf(std::string("abcXYZ019_-"))),
                   [](std::string s) { return s; });
  const auto genName = rc::gen::container<Name>(*rc::gen::inRange<std::size_t>(0, 5), genLabel);
  Message m;
  m.id = *rc::gen::arbitrary<std::uint16_t>();
  m.flags = kFlagResponse;
  const auto n = *rc::gen::inRange<std::size_t>(0, 8);
  for (std::size_t i = 0; i < n; ++i) {
    Record r;
    r.name = *genName;
    r.ttl = *rc::gen::arbitrary<std::uint32_t>();
    r.cacheFlush = *rc::gen::arbitrary<bool>();
    switch (*rc::gen::inRange(0, 3)) {
      case 0:
        r.type = Type::kPtr;
        r.data = Ptr{*genName};
        break;
      case 1:
        r.type = Type::kTxt;
        r.data = Txt{*rc::gen::container<std::vector<std::string>>(
            *rc::gen::inRange<std::size_t>(0, 4), genLabel)};
        break;
      default:
        r.type = Type::kA;
        r.data = Opaque{*rc::gen::container<Bytes>(4, rc::gen::arbitrary<std::uint8_t>())};
    }
    (i % 2 ? m.answers : m.additionals).push_back(std::move(r));
  }
  RC_ASSERT(decode(encode(m).value()).value() == m);
}

}  // namespace
}  // namespace pc::net::dns
