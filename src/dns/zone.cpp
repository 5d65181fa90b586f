#include "dns/zone.hpp"

#include <algorithm>

namespace pc::dns {

namespace wire = net::dns;
using wire::Message;
using wire::Rcode;
using wire::Record;
using wire::Type;

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool sameLabel(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

/// The key of a TXT name: its dotted form (labels escaped, so "a.b" as one label stays apart
/// from two labels), lower-cased.
std::string key(const Name& name) {
  std::string s = wire::toString(name);
  std::transform(s.begin(), s.end(), s.begin(), lower);
  return s;
}

std::uint16_t u16At(BytesView b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

/// The flags of a response to a query with `queryFlags`: QR, the query's opcode and RD (RFC 1035
/// §4.1.1 copies both), never RA (no recursion here), and `rcode`'s low 4 bits.
std::uint16_t responseFlags(std::uint16_t queryFlags, Rcode rcode) {
  return static_cast<std::uint16_t>(
      wire::kFlagResponse | (queryFlags & (wire::kOpcodeMask | wire::kFlagRecursionDesired)) |
      (static_cast<std::uint16_t>(rcode) & wire::kRcodeMask));
}

/// A 12-byte answer to a query we could not decode: its id, FORMERR, no sections.
Response formErrHeader(BytesView query) {
  Message m;
  m.id = u16At(query, 0);
  m.flags = responseFlags(u16At(query, 2), Rcode::kFormErr);
  auto bytes = wire::encode(m);
  return {bytes ? std::move(*bytes) : Bytes{}, Outcome::kFormErr};
}

Record addressRecord(const Name& name, Type type, std::uint32_t ttl, Bytes data) {
  return Record{name, type, wire::kClassIn, false, ttl, wire::Opaque{std::move(data)}};
}

void appendU32(Bytes& b, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
}

}  // namespace

struct Zone::Query {
  const Message& msg;
  Transport transport;
  bool edns = false;
  std::uint16_t ednsSize = 0;
  bool dnssecOk = false;
  /// The apex labels in the question's case (answers use the case asked; the codec then
  /// compresses them into pointers to the question).
  Name apexAsAsked;
};

bool inZone(const Name& name, const Name& apex) {
  if (name.size() < apex.size()) return false;
  const auto offset = static_cast<std::ptrdiff_t>(name.size() - apex.size());
  return std::equal(name.begin() + offset, name.end(), apex.begin(), apex.end(), sameLabel);
}

const char* outcomeName(Outcome o) {
  static constexpr std::array<const char*, kOutcomeCount> kNames{
      "dropped", "answered", "truncated", "refused", "formerr", "notimp", "badvers"};
  static_assert(static_cast<std::size_t>(Outcome::kBadVersion) + 1 == kOutcomeCount);
  return kNames.at(static_cast<std::size_t>(o));
}

Result<Zone> Zone::create(const ZoneSettings& settings) {
  Zone z;
  auto apex = wire::parseName(settings.domain);
  if (!apex) return apex.error().context("domain");
  if (apex->empty()) return fail(Errc::kInvalidArgument, "domain: the root is not a zone");
  z.apex_ = std::move(*apex);
  for (const auto& ns : settings.nameServers) {
    auto n = wire::parseName(ns);
    if (!n || n->empty())
      return fail(Errc::kInvalidArgument, "dns_ns: '" + ns + "' is not a DNS name");
    z.nameServers_.push_back(std::move(*n));
  }
  if (z.nameServers_.empty()) {
    Name ns1 = z.apex_;
    ns1.insert(ns1.begin(), "ns1");
    z.nameServers_.push_back(std::move(ns1));
  }
  z.ttl_ = settings.ttl;
  z.serial_ = settings.serial;
  return z;
}

Result<void> Zone::setAddresses(Addresses addresses) {
  if (addresses.size() > kMaxAddresses) {
    return fail(Errc::kInvalidArgument,
                "more than " + std::to_string(kMaxAddresses) + " public addresses");
  }
  addresses_ = std::move(addresses);
  ++serial_;
  return {};
}

Result<void> Zone::setChallenge(std::string_view name, const std::vector<std::string>& values) {
  auto n = wire::parseName(name);
  if (!n || !inZone(*n, apex_)) {
    return fail(Errc::kInvalidArgument, "TXT name '" + std::string(name) + "' is not in the zone");
  }
  if (values.empty() || values.size() > kMaxChallengeValues) {
    return fail(Errc::kInvalidArgument,
                "1 to " + std::to_string(kMaxChallengeValues) + " TXT values per name");
  }
  for (const auto& v : values) {
    if (v.empty() || v.size() > kMaxTxtValueLength) {
      return fail(Errc::kInvalidArgument, "a TXT value must be 1 to 255 bytes");
    }
  }
  const auto k = key(*n);
  if (!challenges_.contains(k) && challenges_.size() >= kMaxChallengeNames) {
    return fail(Errc::kInvalidArgument,
                "more than " + std::to_string(kMaxChallengeNames) + " TXT names pending");
  }
  challenges_[k] = values;
  ++serial_;
  return {};
}

void Zone::clearChallenge(std::string_view name) {
  auto n = wire::parseName(name);
  if (n && challenges_.erase(key(*n)) > 0) ++serial_;
}

void Zone::addSoa(const Name& apexAsAsked, std::vector<Record>& section, std::uint32_t ttl) const {
  Bytes rdata = wire::nameToWire(nameServers_.front()).value();
  Name mailbox = apex_;
  mailbox.insert(mailbox.begin(), std::string(kHostmasterLabel));
  append(rdata, wire::nameToWire(mailbox).value());
  for (std::uint32_t v : {serial_, kSoaRefresh, kSoaRetry, kSoaExpire, negativeTtl()}) {
    appendU32(rdata, v);
  }
  section.push_back(addressRecord(apexAsAsked, Type::kSoa, ttl, std::move(rdata)));
}

void Zone::answerIn(const Query& q, Message& out) const {
  const auto& question = q.msg.questions.front();
  const Name& name = question.name;
  const bool atApex = name.size() == apex_.size();
  auto& answers = out.answers;
  const bool any = question.type == Type::kAny;
  // ANY gets the addresses only: a subset is what RFC 8482 §4.2 allows, and it keeps ANY from
  // being a bigger reflector than A/AAAA.
  if (question.type == Type::kA || any) {
    for (const auto& a : addresses_.v4) {
      answers.push_back(addressRecord(name, Type::kA, ttl_, Bytes(a.begin(), a.end())));
    }
  }
  if (question.type == Type::kAaaa || any) {
    for (const auto& a : addresses_.v6) {
      answers.push_back(addressRecord(name, Type::kAaaa, ttl_, Bytes(a.begin(), a.end())));
    }
  }
  if (question.type == Type::kSoa && atApex) addSoa(name, answers, kSoaTtl);
  if (question.type == Type::kNs && atApex) {
    for (const auto& ns : nameServers_) {
      answers.push_back(addressRecord(name, Type::kNs, kNsTtl, wire::nameToWire(ns).value()));
    }
  }
  if (question.type == Type::kTxt) {
    if (auto it = challenges_.find(key(name)); it != challenges_.end()) {
      for (const auto& v : it->second) {
        answers.push_back(Record{name, Type::kTxt, wire::kClassIn, false, ttl_, wire::Txt{{v}}});
      }
    }
  }
  // Every name under the zone exists (wildcard zone), so no NXDOMAIN: a type it lacks is NODATA,
  // with the SOA for negative caching (RFC 2308 §2.2: its TTL bounds the caching). Never longer
  // than the addresses' TTL: a gateway that comes back (its AAAA after a NODATA) is seen as soon.
  if (answers.empty()) addSoa(q.apexAsAsked, out.authorities, std::min(kSoaTtl, negativeTtl()));
}

Response Zone::render(const Query& q, Message m, std::size_t limit, Outcome outcome) const {
  if (q.edns) {
    // Our OPT: the UDP size we accept, extended rcode (BADVERS's high bits), version 0, the DO
    // bit copied (RFC 3225 §3).
    const auto rcode = static_cast<std::uint32_t>(outcome == Outcome::kBadVersion ? 16 : 0);
    const std::uint32_t ttl = ((rcode >> 4) << 24) | (q.dnssecOk ? 0x8000u : 0u);
    m.additionals.push_back(Record{Name{}, Type::kOpt,
                                   static_cast<std::uint16_t>(kMaxUdpPayloadEdns), false, ttl,
                                   wire::Opaque{}});
  }
  auto bytes = wire::encode(m);
  if (bytes && bytes->size() > limit) {
    // The answer does not fit: say so (TC) with no records, rather than a partial RRset (RFC
    // 2181 §9); the client asks again over TCP.
    m.answers.clear();
    m.authorities.clear();
    m.flags |= wire::kFlagTruncated;
    bytes = wire::encode(m);
    outcome = Outcome::kTruncated;
  }
  if (!bytes) {
    m.answers.clear();
    m.authorities.clear();
    m.flags = static_cast<std::uint16_t>((m.flags & ~wire::kRcodeMask) |
                                         static_cast<std::uint16_t>(Rcode::kServFail));
    bytes = wire::encode(m);
  }
  return {bytes ? std::move(*bytes) : Bytes{}, outcome};
}

Response Zone::respond(BytesView query, Transport transport, bool slip) const {
  if (query.size() < wire::kHeaderSize) return {};
  const std::uint16_t flags = u16At(query, 2);
  // Never answer a response: two servers (or a spoofed one) could bounce packets forever.
  if ((flags & wire::kFlagResponse) != 0) return {};
  auto decoded = wire::decode(query);
  if (!decoded) return formErrHeader(query);
  Query q{*decoded, transport, false, 0, false, {}};
  Message out;
  out.id = decoded->id;
  out.questions = decoded->questions;
  const auto reply = [&](Rcode rcode, Outcome outcome, std::size_t limit) {
    out.flags = responseFlags(flags, rcode);
    return render(q, std::move(out), limit, outcome);
  };
  if ((flags & wire::kOpcodeMask) != 0) return reply(Rcode::kNotImp, Outcome::kNotImp, 512);
  // One question (RFC 9619), and a query carries no answers or authorities.
  if (decoded->questions.size() != 1 || !decoded->answers.empty() ||
      !decoded->authorities.empty()) {
    out.questions.clear();
    return reply(Rcode::kFormErr, Outcome::kFormErr, kMaxUdpPayloadPlain);
  }
  std::size_t opts = 0;
  for (const auto& r : decoded->additionals) {
    if (r.type != Type::kOpt) continue;   // TSIG and the like: not offered, ignored
    if (++opts > 1 || !r.name.empty()) {  // RFC 6891 §6.1.1
      return reply(Rcode::kFormErr, Outcome::kFormErr, kMaxUdpPayloadPlain);
    }
    q.edns = true;
    q.ednsSize = wire::fullClass(r.rclass, r.cacheFlush);
    q.dnssecOk = (r.ttl & 0x8000u) != 0;
    if (((r.ttl >> 16) & 0xff) != 0) {
      return reply(Rcode::kNoError, Outcome::kBadVersion, kMaxUdpPayloadPlain);
    }
  }
  const std::size_t limit =
      transport == Transport::kTcp
          ? kMaxTcpResponse
          : (q.edns ? std::clamp<std::size_t>(q.ednsSize, kMaxUdpPayloadPlain, kMaxUdpPayloadEdns)
                    : kMaxUdpPayloadPlain);
  if (slip) return reply(Rcode::kNoError, Outcome::kTruncated, 0);
  const auto& question = decoded->questions.front();
  // Only IN; no zone transfers (nothing to transfer: the zone is computed); nothing outside the
  // zone — answering other names would make this an open resolver or a reflector for them.
  if (question.qclass != wire::kClassIn || question.unicastResponse ||
      question.type == Type::kAxfr || question.type == Type::kIxfr ||
      !inZone(question.name, apex_)) {
    return reply(Rcode::kRefused, Outcome::kRefused, limit);
  }
  q.apexAsAsked.assign(question.name.end() - static_cast<std::ptrdiff_t>(apex_.size()),
                       question.name.end());
  out.flags = responseFlags(flags, Rcode::kNoError) | wire::kFlagAuthoritative;
  answerIn(q, out);
  return render(q, std::move(out), limit, Outcome::kAnswered);
}

}  // namespace pc::dns
