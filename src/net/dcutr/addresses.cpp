#include "net/dcutr/addresses.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>

namespace pc::net::dcutr {
namespace {

/// Whether `a` is a plain ip4|ip6/tcp address we may punch to.
bool usable(const Multiaddr& a, AddrPolicy policy) {
  if (a.isCircuit()) return false;
  const auto t = a.tcpTarget();
  if (!t || (t->hostProto != Proto::kIp4 && t->hostProto != Proto::kIp6) || t->port == 0) {
    return false;
  }
  // Only ip/tcp, optionally /p2p: an address with more after tcp is another transport.
  const auto plain = a.withoutPeerId();
  if (plain.components().size() != 2) return false;
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(t->host, ec);
  if (ec || ip.is_unspecified() || ip.is_multicast()) return false;
  if (ip.is_loopback()) return policy.allowLoopback;
  if (ip.is_v6() && ip.to_v6().is_link_local()) return false;
  if (ip.is_v4() && (ip.to_v4().to_uint() >> 16) == 0xA9FEu) return false;  // 169.254/16
  return true;
}

}  // namespace

bool isPrivateNetwork(const Multiaddr& a) {
  const auto t = a.tcpTarget();
  if (!t) return false;
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(t->host, ec);
  if (ec) return false;
  if (ip.is_v6()) return (ip.to_v6().to_bytes()[0] & 0xFEu) == 0xFCu;  // fc00::/7
  const auto v = ip.to_v4().to_uint();
  return (v >> 24) == 10 || (v >> 20) == 0xAC1u || (v >> 16) == 0xC0A8u ||  // 10/8 172.16/12
         (v >> 22) == (100u << 2 | 1u);                                     // 192.168/16 100.64/10
}

std::vector<Multiaddr> selectCandidates(const std::vector<Multiaddr>& addrs, AddrPolicy policy) {
  std::vector<Multiaddr> out;
  for (const auto& a : addrs) {
    if (out.size() >= kMaxCandidates) break;
    if (!usable(a, policy)) continue;
    auto plain = a.withoutPeerId();
    if (std::find(out.begin(), out.end(), plain) == out.end()) out.push_back(std::move(plain));
  }
  return out;
}

std::vector<Multiaddr> ownCandidates(const std::vector<Multiaddr>& observed,
                                     std::uint16_t listenPort,
                                     const std::vector<Multiaddr>& listenAddrs, AddrPolicy policy) {
  std::vector<Multiaddr> all = observed;
  if (listenPort != 0) {
    for (const auto& o : observed) {
      const auto t = o.tcpTarget();
      if (!t || (t->hostProto != Proto::kIp4 && t->hostProto != Proto::kIp6)) continue;
      const auto proto = t->hostProto == Proto::kIp4 ? "/ip4/" : "/ip6/";
      if (auto m = Multiaddr::parse(proto + t->host + "/tcp/" + std::to_string(listenPort))) {
        all.push_back(std::move(*m));
      }
    }
  }
  all.insert(all.end(), listenAddrs.begin(), listenAddrs.end());
  return selectCandidates(all, policy);
}

}  // namespace pc::net::dcutr
