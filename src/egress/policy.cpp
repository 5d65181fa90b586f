#include "egress/policy.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "core/fs.hpp"
#include "egress/error.hpp"

namespace pc::egress {

const char* toString(Mode m) { return m == Mode::kNone ? "none" : "internet"; }

Result<Mode> parseMode(std::string_view text) {
  if (text == "internet") return Mode::kInternet;
  if (text == "none") return Mode::kNone;
  return fail(Errc::kBadSetting,
              "egress must be \"internet\" or \"none\", not \"" + std::string(text) + "\"");
}

Mode narrower(Mode a, Mode b) { return (a == Mode::kNone || b == Mode::kNone) ? Mode::kNone : a; }

namespace {

Result<std::uint16_t> parsePort(std::string_view s, std::string_view whole) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty() || v == 0 || v > 65535) {
    return fail(Errc::kBadSetting,
                "egress_allow '" + std::string(whole) + "': port must be 1-65535");
  }
  return static_cast<std::uint16_t>(v);
}

}  // namespace

Result<AllowEntry> AllowEntry::parse(std::string_view text) {
  std::string_view net = text;
  std::optional<std::uint16_t> port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 == text.size() || text[close + 1] != ':') {
      return fail(Errc::kBadSetting, "egress_allow '" + std::string(text) +
                                         "': write an IPv6 network with a port as [fd00::/8]:443");
    }
    net = text.substr(1, close - 1);
    auto p = parsePort(text.substr(close + 2), text);
    if (!p) return p.error();
    port = *p;
  } else if (std::count(text.begin(), text.end(), ':') > 1 && text.find('/') == text.npos) {
    // "fd00::1:443" is a valid address, but did it mean port 443? Stops an entry that opens
    // every port of a host where one was meant.
    return fail(Errc::kBadSetting, "egress_allow '" + std::string(text) +
                                       "': write an IPv6 host with a port as [fd00::1]:443, or "
                                       "the whole host as fd00::1/128");
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const auto colon = text.find(':');
    net = text.substr(0, colon);
    auto p = parsePort(text.substr(colon + 1), text);
    if (!p) return p.error();
    port = *p;
  }
  auto c = Cidr::parse(net);
  if (!c) return c.error().context("egress_allow '" + std::string(text) + "'");
  // The list opens chosen private destinations; the internet is open already. A network wider
  // than kMinAllowPrefix (0.0.0.0/0, ::/0) would open every private range, the host's included.
  if (c->prefix < kMinAllowPrefix) {
    return fail(Errc::kBadSetting, "egress_allow '" + std::string(text) + "': a network of /" +
                                       std::to_string(kMinAllowPrefix) +
                                       " or narrower (it opens chosen private destinations; "
                                       "egress = \"internet\" already opens the public ones)");
  }
  return AllowEntry{*c, port};
}

std::string AllowEntry::toString() const {
  if (!port) return net.toString();
  if (net.isV6()) return "[" + net.toString() + "]:" + std::to_string(*port);
  return net.toString() + ":" + std::to_string(*port);
}

std::vector<Address> parseResolvConf(std::string_view text) {
  std::vector<Address> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line) && out.size() < kMaxResolvers) {
    std::istringstream words(line);
    std::string key;
    std::string value;
    if (!(words >> key >> value) || key != "nameserver") continue;
    if (auto pct = value.find('%'); pct != std::string::npos) value.resize(pct);
    boost::system::error_code ec;
    const Address a = boost::asio::ip::make_address(value, ec);
    if (ec || a.is_loopback() || a.is_unspecified()) continue;
    out.push_back(a);
  }
  return out;
}

std::vector<Address> hostResolvers(const std::string& path, const std::string& upstreamPath) {
  const auto text = fs::readFile(path, kMaxResolvConfBytes);
  if (!text) return {};
  auto r = parseResolvConf(*text);
  // systemd-resolved (Ubuntu): resolv.conf names only its loopback stub, and the engine gives
  // containers the upstream servers instead, which it reaches from their networks: those are
  // the resolvers to open.
  if (r.empty()) {
    if (const auto upstream = fs::readFile(upstreamPath, kMaxResolvConfBytes)) {
      r = parseResolvConf(*upstream);
    }
  }
  return r;
}

}  // namespace pc::egress
