#include "net/mdns/service.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <bit>
#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cerrno>
#include <cstring>

namespace pc::net::mdns {
namespace {

using udp = asio::ip::udp;

Error sysFail(const char* what) {
  return fail(Errc::kUnreachable,
              std::string("mDNS: ") + what + " failed: " + std::strerror(errno));
}

unsigned prefixLength(const sockaddr* mask) {
  if (!mask) return 0;
  unsigned bits = 0;
  if (mask->sa_family == AF_INET) {
    bits = static_cast<unsigned>(
        std::popcount(reinterpret_cast<const sockaddr_in*>(mask)->sin_addr.s_addr));
  } else if (mask->sa_family == AF_INET6) {
    for (auto b : reinterpret_cast<const sockaddr_in6*>(mask)->sin6_addr.s6_addr) {
      bits += static_cast<unsigned>(std::popcount(b));
    }
  }
  return bits;
}

std::optional<asio::ip::address> toAddress(const sockaddr* sa) {
  if (!sa) return std::nullopt;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return asio::ip::address_v4(ntohl(in->sin_addr.s_addr));
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    asio::ip::address_v6::bytes_type b;
    std::memcpy(b.data(), in6->sin6_addr.s6_addr, b.size());
    return asio::ip::address_v6(b);
  }
  return std::nullopt;
}

bool prefixMatch(const unsigned char* a, const unsigned char* b, unsigned bits) {
  const unsigned full = bits / 8;
  if (std::memcmp(a, b, full) != 0) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

std::optional<asio::ip::address> hostAddress(const Multiaddr& a) {
  auto t = a.tcpTarget();
  if (!t || (t->hostProto != Proto::kIp4 && t->hostProto != Proto::kIp6)) return std::nullopt;
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(t->host, ec);
  if (ec) return std::nullopt;
  return ip;
}

Result<Multiaddr> tcpAddr(const asio::ip::address& ip, std::uint16_t port) {
  return Multiaddr::parse(std::string(ip.is_v4() ? "/ip4/" : "/ip6/") + ip.to_string() + "/tcp/" +
                          std::to_string(port));
}

}  // namespace

bool onLink(const asio::ip::address& addr,
            const std::vector<std::pair<asio::ip::address, unsigned>>& nets) {
  for (const auto& [net, bits] : nets) {
    if (addr.is_v4() && net.is_v4()) {
      const auto a = addr.to_v4().to_bytes();
      const auto n = net.to_v4().to_bytes();
      if (prefixMatch(a.data(), n.data(), std::min(bits, 32u))) return true;
    } else if (addr.is_v6() && net.is_v6()) {
      const auto a = addr.to_v6().to_bytes();
      const auto n = net.to_v6().to_bytes();
      if (prefixMatch(a.data(), n.data(), std::min(bits, 128u))) return true;
    }
  }
  return false;
}

Service::Service(asio::any_io_executor ex, crypto::PeerId self, AddrSource addrs,
                 ServiceConfig config)
    : ex_(ex),
      self_(std::move(self)),
      addrs_(std::move(addrs)),
      config_(std::move(config)),
      peerName_(randomPeerName()),
      socket_(ex),
      table_(config_.preferred),
      changed_(ex),
      queryTimer_(ex),
      tasks_(ex) {}

Service::~Service() {
  boost::system::error_code ec;
  socket_.close(ec);
}

Result<std::shared_ptr<Service>> Service::start(asio::any_io_executor ex, crypto::PeerId self,
                                                AddrSource addrs, ServiceConfig config) {
  auto service = parseName(config.serviceName);
  if (!service) return service.error().context("mDNS service name");
  std::shared_ptr<Service> s(new Service(ex, std::move(self), std::move(addrs), std::move(config)));
  s->service_ = std::move(*service);
  if (auto r = s->open(); !r) return r.error();
  s->scanInterfaces();
  s->tasks_.spawn([s] { return s->receiveLoop(); });
  s->tasks_.spawn([s] { return s->queryLoop(); });
  return s;
}

Result<void> Service::open() {
  boost::system::error_code ec;
  socket_.open(udp::v4(), ec);
  if (ec) return fail(Errc::kUnreachable, "mDNS: cannot open a UDP socket: " + ec.message());
  const int fd = socket_.native_handle();
  const int one = 1;
  // Port 5353 is shared by every mDNS responder on the host: all must set these options.
  socket_.set_option(udp::socket::reuse_address(true), ec);
  if (ec) return fail(Errc::kUnreachable, "mDNS: SO_REUSEADDR: " + ec.message());
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    return sysFail("SO_REUSEPORT");
  }
  // The receiving interface of each packet: answers go back on that interface only, and
  // senders must be on that link.
  if (::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0) return sysFail("IP_PKTINFO");
  socket_.set_option(asio::ip::multicast::enable_loopback(true), ec);
  if (ec) return fail(Errc::kUnreachable, "mDNS: IP_MULTICAST_LOOP: " + ec.message());
  // RFC 6762 §11: mDNS packets are sent with IP TTL 255.
  socket_.set_option(asio::ip::multicast::hops(255), ec);
  if (ec) return fail(Errc::kUnreachable, "mDNS: IP_MULTICAST_TTL: " + ec.message());
  socket_.bind(udp::endpoint(asio::ip::address_v4::any(), config_.port), ec);
  if (ec && config_.ephemeralFallback) {
    spdlog::debug("mDNS: cannot share port {} ({}); querying from an ephemeral port", config_.port,
                  ec.message());
    socket_.bind(udp::endpoint(asio::ip::address_v4::any(), 0), ec);
  }
  if (ec) {
    return fail(Errc::kUnreachable, "mDNS: cannot bind UDP port " + std::to_string(config_.port) +
                                        ": " + ec.message() +
                                        " (another program holds it without SO_REUSEADDR?)");
  }
  localPort_ = socket_.local_endpoint().port();
  socket_.non_blocking(true, ec);
  return {};
}

void Service::scanInterfaces() {
  if (stopped_) return;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    spdlog::debug("mDNS: getifaddrs failed: {}", std::strerror(errno));
    return;
  }
  std::vector<Iface> found;
  for (auto* i = list; i; i = i->ifa_next) {
    // Up with a carrier, multicast-capable, not loopback (nobody else is on that link).
    if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || !(i->ifa_flags & IFF_RUNNING) ||
        !(i->ifa_flags & IFF_MULTICAST) || (i->ifa_flags & IFF_LOOPBACK)) {
      continue;
    }
    auto ip = toAddress(i->ifa_addr);
    if (!ip) continue;
    const unsigned index = ::if_nametoindex(i->ifa_name);
    if (index == 0) continue;
    auto it =
        std::find_if(found.begin(), found.end(), [&](const Iface& f) { return f.index == index; });
    if (it == found.end()) {
      found.push_back(Iface{index, i->ifa_name, {}, {}, {}, false});
      it = found.end() - 1;
    }
    it->addrs.push_back(*ip);
    it->nets.emplace_back(*ip, prefixLength(i->ifa_netmask));
  }
  ::freeifaddrs(list);
  // An IPv4 socket can only use interfaces that have an IPv4 address.
  std::erase_if(found, [](const Iface& f) {
    return std::none_of(f.addrs.begin(), f.addrs.end(), [](const auto& a) { return a.is_v4(); });
  });
  for (auto& f : found) {
    if (auto* old = ifaceByIndex(f.index)) {
      f.lastResponse = old->lastResponse;
      f.responsePending = old->responsePending;
      continue;
    }
    ip_mreqn mreq{};
    mreq.imr_multiaddr.s_addr = htonl(asio::ip::make_address_v4(kGroupV4).to_uint());
    mreq.imr_ifindex = static_cast<int>(f.index);
    if (::setsockopt(socket_.native_handle(), IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) !=
            0 &&
        errno != EADDRINUSE) {
      spdlog::debug("mDNS: cannot join {} on {}: {}", kGroupV4, f.name, std::strerror(errno));
      continue;
    }
    spdlog::debug("mDNS: joined {} on {}", kGroupV4, f.name);
  }
  ifaces_ = std::move(found);
}

Service::Iface* Service::ifaceByIndex(unsigned index) {
  auto it = std::find_if(ifaces_.begin(), ifaces_.end(),
                         [&](const Iface& f) { return f.index == index; });
  return it == ifaces_.end() ? nullptr : &*it;
}

asio::awaitable<void> Service::receiveLoop() {
  // One extra byte: a datagram that fills it is over the limit (MSG_TRUNC says so too).
  std::vector<std::uint8_t> buf(kMaxMessageSize + 1);
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(in_pktinfo))> control{};
  while (!stopped_) {
    auto [ec] = co_await socket_.async_wait(udp::socket::wait_read, kNoThrow);
    if (ec || stopped_) break;
    // A bounded batch per wake-up, so a flood cannot starve the other coroutines.
    for (int n = 0; n < 64 && !stopped_; ++n) {
      sockaddr_in from{};
      iovec iov{buf.data(), buf.size()};
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      const ssize_t got = ::recvmsg(socket_.native_handle(), &msg, MSG_DONTWAIT);
      if (got < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          spdlog::debug("mDNS: recvmsg: {}", std::strerror(errno));
        }
        break;
      }
      const udp::endpoint source(asio::ip::address_v4(ntohl(from.sin_addr.s_addr)),
                                 ntohs(from.sin_port));
      if ((msg.msg_flags & MSG_TRUNC) || static_cast<std::size_t>(got) > kMaxMessageSize) {
        spdlog::debug("mDNS: dropped a datagram over {} bytes from {}", kMaxMessageSize,
                      source.address().to_string());
        continue;
      }
      unsigned ifindex = 0;
      for (auto* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
          in_pktinfo info;
          std::memcpy(&info, CMSG_DATA(c), sizeof info);
          ifindex = static_cast<unsigned>(info.ipi_ifindex);
        }
      }
      handlePacket(BytesView(buf.data(), static_cast<std::size_t>(got)), source, ifindex);
    }
  }
}

asio::awaitable<void> Service::queryLoop() {
  auto interval = config_.firstInterval;
  while (!stopped_) {
    scanInterfaces();
    table_.expire(std::chrono::steady_clock::now());
    queryNow();
    queryTimer_.expires_after(interval);
    co_await queryTimer_.async_wait(kNoThrow);
    interval = std::min(interval * 2, config_.maxInterval);
  }
}

void Service::queryNow() {
  if (stopped_) return;
  auto bytes = encode(makeQuery(service_));
  if (!bytes) return;
  const udp::endpoint group(asio::ip::make_address_v4(kGroupV4), config_.port);
  for (const auto& f : ifaces_) sendOn(f, *bytes, group);
}

void Service::sendOn(const Iface& iface, BytesView packet, const udp::endpoint& to) {
  ip_mreqn mreq{};
  mreq.imr_ifindex = static_cast<int>(iface.index);
  if (::setsockopt(socket_.native_handle(), IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq) != 0) {
    spdlog::debug("mDNS: IP_MULTICAST_IF {}: {}", iface.name, std::strerror(errno));
    return;
  }
  boost::system::error_code ec;
  // Non-blocking: a full socket buffer drops this datagram (mDNS tolerates loss; the next
  // query or answer repeats it) instead of stalling the loop.
  socket_.send_to(asio::buffer(packet.data(), packet.size()), to, 0, ec);
  if (ec)
    spdlog::debug("mDNS: send on {} to {}: {}", iface.name, to.address().to_string(), ec.message());
}

void Service::handlePacket(BytesView packet, const udp::endpoint& from, unsigned ifindex) {
  auto* iface = ifaceByIndex(ifindex);
  if (!iface) {
    scanInterfaces();  // an interface that came up since the last scan
    iface = ifaceByIndex(ifindex);
  }
  if (!iface) {
    spdlog::debug("mDNS: dropped a packet from {} on an interface we did not join",
                  from.address().to_string());
    return;
  }
  // RFC 6762 §11 source check: only senders on the receiving link count. Stops an off-link
  // host (spoofing, or routed unicast to 5353) from injecting announcements or making us
  // send unicast replies to arbitrary addresses.
  if (!onLink(from.address(), iface->nets)) {
    spdlog::debug("mDNS: dropped a packet from off-link {} on {}", from.address().to_string(),
                  iface->name);
    return;
  }
  auto m = decode(packet);
  if (!m) {
    spdlog::debug("mDNS: dropped a bad packet from {}: {}", from.address().to_string(),
                  m.error().message());
    return;
  }
  if (!m->isResponse()) {
    if (config_.respond && asksFor(*m, service_)) answer(*iface, *m, from);
    return;
  }
  std::vector<std::string> dropped;
  auto found = readAnnouncements(*m, service_, &dropped);
  for (const auto& why : dropped) {
    spdlog::debug("mDNS: from {}: ignored {}", from.address().to_string(), why);
  }
  const auto now = std::chrono::steady_clock::now();
  for (auto& a : found) {
    // Our own answers come back through IP_MULTICAST_LOOP: never learn ourselves.
    if (sameName(Name{a.instance.front()}, Name{peerName_}) || a.peer == self_) continue;
    // Only addresses on this link: an announcement on a LAN cannot send us dialing hosts
    // elsewhere (the spec: mDNS is for link-local discovery). Also drops loopback.
    std::erase_if(a.addrs, [&](const Multiaddr& addr) {
      auto ip = hostAddress(addr);
      const bool keep = ip && onLink(*ip, iface->nets);
      if (!keep) spdlog::debug("mDNS: ignored off-link address {}", addr.toString());
      return !keep;
    });
    if (a.addrs.empty()) continue;
    if (table_.learn(a, now)) {
      if (auto p = table_.find(a.peer); p && onPeer_) onPeer_(*p);
    }
  }
  changed_.notify();
}

void Service::answer(Iface& iface, const Message& query, const udp::endpoint& from) {
  if (from.port() != config_.port) {
    // Legacy unicast query (RFC 6762 §6.7): answer to its port, with its id and question,
    // TTL ≤ 10 s. Budgeted per second: our answer is bigger than the query (amplification).
    const auto now = std::chrono::steady_clock::now();
    if (now - unicastWindow_ >= std::chrono::seconds(1)) {
      unicastWindow_ = now;
      unicastBudget_ = kMaxUnicastRepliesPerSecond;
    }
    if (unicastBudget_ <= 0) {
      spdlog::debug("mDNS: unicast reply budget spent; ignored query from {}",
                    from.address().to_string());
      return;
    }
    auto addrs = announceable(iface);
    if (addrs.empty()) return;
    auto r = makeResponse(service_, peerName_, addrs, std::min<std::uint32_t>(config_.ttl, 10));
    if (!r) return;
    r->id = query.id;
    r->questions = makeQuery(service_).questions;
    auto bytes = encode(*r);
    if (!bytes) return;
    --unicastBudget_;
    answeredOnce_ = true;
    sendOn(iface, *bytes, from);
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - iface.lastResponse >= kMinResponseInterval) {
    sendResponse(iface.index, config_.ttl);
    return;
  }
  if (iface.responsePending) return;  // queries within the second share one answer
  iface.responsePending = true;
  auto t = std::make_shared<asio::steady_timer>(ex_, iface.lastResponse + kMinResponseInterval);
  t->async_wait([t, weak = weak_from_this(), index = iface.index](boost::system::error_code ec) {
    auto s = weak.lock();
    if (ec || !s || s->stopped_) return;
    s->sendResponse(index, s->config_.ttl);
  });
}

void Service::sendResponse(unsigned ifindex, std::uint32_t ttl) {
  auto* iface = ifaceByIndex(ifindex);
  if (!iface || stopped_) return;
  iface->responsePending = false;
  auto addrs = announceable(*iface);
  if (addrs.empty()) {
    spdlog::debug("mDNS: nothing to announce on {}", iface->name);
    return;
  }
  auto r = makeResponse(service_, peerName_, addrs, ttl);
  if (!r) return;
  auto bytes = encode(*r);
  if (!bytes) return;
  iface->lastResponse = std::chrono::steady_clock::now();
  answeredOnce_ = true;
  sendOn(*iface, *bytes, udp::endpoint(asio::ip::make_address_v4(kGroupV4), config_.port));
}

std::vector<Multiaddr> Service::announceable(const Iface& iface) const {
  std::vector<Multiaddr> out;
  auto add = [&](const asio::ip::address& ip, std::uint16_t port) {
    auto a = tcpAddr(ip, port);
    if (!a) return;
    auto full = a->withPeerId(self_);
    if (std::find(out.begin(), out.end(), full) == out.end()) out.push_back(std::move(full));
  };
  if (!addrs_) return out;
  for (const auto& a : addrs_()) {
    auto ip = hostAddress(a);
    if (!ip) continue;
    const auto port = a.tcpTarget()->port;
    if (ip->is_unspecified()) {
      for (const auto& mine : iface.addrs) {
        if (mine.is_v4() == ip->is_v4() && !(mine.is_v6() && mine.to_v6().is_link_local())) {
          add(mine, port);
        }
      }
      continue;
    }
    // Only this interface's own addresses: loopback and other links' addresses are useless
    // (or misleading) to a peer on this link. IPv6 link-local needs a zone we cannot express.
    if (ip->is_v6() && ip->to_v6().is_link_local()) continue;
    if (std::find(iface.addrs.begin(), iface.addrs.end(), *ip) != iface.addrs.end()) add(*ip, port);
  }
  return out;
}

std::vector<DiscoveredPeer> Service::peers() {
  table_.expire(std::chrono::steady_clock::now());
  return table_.peers();
}

std::optional<DiscoveredPeer> Service::find(const crypto::PeerId& id) {
  table_.expire(std::chrono::steady_clock::now());
  return table_.find(id);
}

asio::awaitable<std::optional<DiscoveredPeer>> Service::waitFor(const crypto::PeerId& id,
                                                                std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::steady_timer wake(ex_, deadline);
  wake.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (auto s = weak.lock(); s && !ec) s->changed_.notify();
  });
  std::optional<DiscoveredPeer> p;
  while (!(p = find(id)) && !stopped_ && std::chrono::steady_clock::now() < deadline) {
    co_await changed_.wait();
  }
  wake.cancel();
  co_return p;
}

void Service::stop() {
  if (stopped_) return;
  if (answeredOnce_ && config_.respond) {
    // Goodbye (RFC 6762 §10.1): peers that honour TTL 0 forget our addresses at once.
    for (const auto& f : ifaces_) sendResponse(f.index, 0);
  }
  stopped_ = true;
  queryTimer_.cancel();
  boost::system::error_code ec;
  socket_.close(ec);
  changed_.notify();
}

asio::awaitable<void> Service::shutdown() {
  auto self = shared_from_this();
  stop();
  co_await tasks_.join();
}

}  // namespace pc::net::mdns
