#include "egress/address.hpp"

#include <algorithm>
#include <charconv>

#include "egress/error.hpp"

namespace pc::egress {

namespace ip = boost::asio::ip;

namespace {

// IANA's IPv4 special-purpose registry (RFC 6890 and updates), plus the private and shared
// blocks. Each entry stops a guest from reaching something on the provider's side:
constexpr Refused kV4[] = {
    {"0.0.0.0/8", "\"this network\" (RFC 791; 0.0.0.0 reaches the host itself on Linux)"},
    {"10.0.0.0/8", "private network (RFC 1918)"},
    {"100.64.0.0/10", "shared address space (carrier-grade NAT, RFC 6598)"},
    {"127.0.0.0/8", "loopback (RFC 1122)"},
    {"169.254.0.0/16", "link-local (RFC 3927; cloud metadata services live here)"},
    {"172.16.0.0/12", "private network (RFC 1918)"},
    {"192.0.0.0/24", "IETF protocol assignments (RFC 6890)"},
    {"192.0.2.0/24", "documentation (TEST-NET-1, RFC 5737)"},
    {"192.88.99.0/24", "6to4 relay anycast (deprecated, RFC 7526)"},
    {"192.168.0.0/16", "private network (RFC 1918)"},
    {"198.51.100.0/24", "documentation (TEST-NET-2, RFC 5737)"},
    {"203.0.113.0/24", "documentation (TEST-NET-3, RFC 5737)"},
    {"224.0.0.0/4", "multicast (RFC 5771)"},
    {"255.255.255.255/32", "limited broadcast (RFC 919)"},
    {"240.0.0.0/4", "reserved (RFC 1112)"},
};
// 198.18.0.0/15 (benchmarking, RFC 2544) is deliberately not refused: no LAN uses it, and the
// fake-IP mode of common proxy tools maps internet names into it, so refusing it would cut the
// internet on those hosts. A provider who wants it refused lists it in egress_deny.

// Inside 2000::/3 (global unicast); everything outside it is refused wholesale (loopback,
// unspecified, IPv4-mapped, ULA fc00::/7, link-local fe80::/10, multicast ff00::/8, discard).
constexpr Refused kV6[] = {
    {"2001::/23", "IETF protocol assignments (RFC 2928; Teredo embeds an IPv4 address)"},
    {"2001:db8::/32", "documentation (RFC 3849)"},
    {"2002::/16", "6to4 (RFC 3056; embeds an IPv4 address)"},
    {"3fff::/20", "documentation (RFC 9637)"},
};

Result<unsigned> parsePrefix(std::string_view s, unsigned max) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty() || v > max) {
    return fail(Errc::kBadSetting,
                "prefix length '" + std::string(s) + "' must be 0-" + std::to_string(max));
  }
  return v;
}

std::array<unsigned char, 16> bytesOf(const Address& a) {
  std::array<unsigned char, 16> b{};
  if (a.is_v4()) {
    auto v4 = a.to_v4().to_bytes();
    std::copy(v4.begin(), v4.end(), b.begin());
  } else {
    b = a.to_v6().to_bytes();
  }
  return b;
}

bool prefixMatches(const std::array<unsigned char, 16>& a, const std::array<unsigned char, 16>& n,
                   unsigned prefix) {
  for (unsigned i = 0; i < prefix; ++i) {
    const unsigned byte = i / 8;
    const auto bit = static_cast<unsigned char>(0x80U >> (i % 8));
    if ((a[byte] & bit) != (n[byte] & bit)) return false;
  }
  return true;
}

std::optional<std::string> refusalIn(std::span<const Refused> table, const Address& a) {
  for (const auto& r : table) {
    if (Cidr::parse(r.cidr)->contains(a)) {
      return std::string(r.what) + " " + std::string(r.cidr);
    }
  }
  return std::nullopt;
}

}  // namespace

Result<Cidr> Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  const std::string addrText(text.substr(0, slash));
  boost::system::error_code ec;
  const Address addr = ip::make_address(addrText, ec);
  if (ec || addrText.find('%') != std::string::npos) {
    return fail(Errc::kBadSetting, "'" + std::string(text) + "' is not an IP address or CIDR");
  }
  const unsigned max = addr.is_v4() ? 32 : 128;
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    auto p = parsePrefix(text.substr(slash + 1), max);
    if (!p) return p.error();
    prefix = *p;
  }
  Cidr c{addr, prefix};
  // Host bits set is almost always a typo for a different network: refuse rather than guess.
  auto b = bytesOf(addr);
  for (unsigned i = prefix; i < max; ++i) {
    if ((b[i / 8] & (0x80U >> (i % 8))) != 0) {
      return fail(Errc::kBadSetting, "'" + std::string(text) +
                                         "' has host bits set after the prefix: write its "
                                         "network address (e.g. 10.1.0.0/16)");
    }
  }
  return c;
}

bool Cidr::contains(const Address& a) const {
  if (a.is_v4() != network.is_v4()) return false;
  return prefixMatches(bytesOf(a), bytesOf(network), prefix);
}

std::string Cidr::toString() const { return network.to_string() + "/" + std::to_string(prefix); }

std::span<const Refused> refusedV4() { return kV4; }
std::span<const Refused> refusedV6() { return kV6; }

std::optional<std::string> refusal(const Address& a) {
  if (a.is_v4()) return refusalIn(kV4, a);
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) {
    return refusal(ip::make_address_v4(ip::v4_mapped, v6));
  }
  if (Cidr::parse(kNat64WellKnown)->contains(a)) {
    const auto b = v6.to_bytes();
    const ip::address_v4 embedded(ip::address_v4::bytes_type{b[12], b[13], b[14], b[15]});
    if (auto r = refusal(embedded)) return "NAT64 of " + *r;
    return std::nullopt;
  }
  if (!Cidr::parse(kGlobalUnicastV6)->contains(a)) {
    return "not global unicast (outside 2000::/3: loopback, link-local fe80::/10, unique local "
           "fc00::/7, multicast ff00::/8, IPv4-compatible, …)";
  }
  return refusalIn(kV6, a);
}

}  // namespace pc::egress
