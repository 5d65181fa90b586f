#include "net/mdns/discovery.hpp"
#include "core/invariant.hpp"

#include <openssl/rand.h>

#include <algorithm>

namespace pc::net::mdns {
namespace {

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != prefix[i]) return false;
  }
  return true;
}

// `<label>.<service>` with exactly one label in front of the service name.
bool isInstanceOf(const Name& instance, const Name& service) {
  if (instance.size() != service.size() + 1) return false;
  return sameName(Name(instance.begin() + 1, instance.end()), service);
}

bool dialable(const Multiaddr& a) {
  const auto& c = a.components();
  return c.size() == 2 && (c[0].proto == Proto::kIp4 || c[0].proto == Proto::kIp6) &&
         c[1].proto == Proto::kTcp;
}

void note(std::vector<std::string>* dropped, std::string why) {
  if (dropped) dropped->push_back(std::move(why));
}

}  // namespace

std::string randomPeerName() {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::uint8_t raw[kPeerNameLength];
  if (RAND_bytes(raw, sizeof raw) != 1) bug("the CSPRNG (RAND_bytes) failed");
  std::string s;
  // 36 symbols from a byte: the slight bias is irrelevant for a name that only has to be unique.
  for (auto b : raw) s += kAlphabet[b % kAlphabet.size()];
  return s;
}

Message makeQuery(const Name& service) {
  Message m;
  m.questions.push_back(Question{service, Type::kPtr, kClassIn, false});
  return m;
}

bool asksFor(const Message& query, const Name& service) {
  if (query.isResponse() || (query.flags & kOpcodeMask) != 0) return false;
  return std::any_of(query.questions.begin(), query.questions.end(), [&](const Question& q) {
    return (q.type == Type::kPtr || q.type == Type::kAny) &&
           (q.qclass == kClassIn || q.qclass == kClassAny) && sameName(q.name, service);
  });
}

Result<Message> makeResponse(const Name& service, std::string_view peerName,
                             const std::vector<Multiaddr>& addrs, std::uint32_t ttl) {
  Name instance = service;
  instance.insert(instance.begin(), std::string(peerName));
  if (peerName.empty() || peerName.size() > kMaxLabelLength) {
    return fail(Errc::kProtocolError, "mDNS peer name must be 1–63 bytes");
  }
  Message m;
  m.flags = kFlagResponse | kFlagAuthoritative;
  m.answers.push_back(Record{service, Type::kPtr, kClassIn, false, ttl, Ptr{instance}});
  for (const auto& a : addrs) {
    if (m.additionals.size() == kMaxAnnouncedAddrs) break;
    std::string txt = std::string(kDnsaddrPrefix) + a.toString();
    if (txt.size() > kMaxTxtStringLength) continue;
    m.additionals.push_back(
        Record{instance, Type::kTxt, kClassIn, true, ttl, Txt{{std::move(txt)}}});
  }
  return m;
}

std::vector<Announcement> readAnnouncements(const Message& response, const Name& service,
                                            std::vector<std::string>* dropped) {
  std::vector<Announcement> out;
  if (!response.isResponse()) return out;
  // RFC 6762 §18.3, §18.11: messages with a non-zero opcode or rcode are silently ignored.
  if ((response.flags & kOpcodeMask) != 0 || (response.flags & kRcodeMask) != 0) {
    note(dropped, "non-zero opcode or rcode");
    return out;
  }
  const std::vector<const Record*> records = [&] {
    std::vector<const Record*> v;
    for (const auto& r : response.answers) v.push_back(&r);
    for (const auto& r : response.additionals) v.push_back(&r);
    return v;
  }();
  std::vector<Name> instances;
  std::vector<std::uint32_t> ptrTtls;
  for (const auto* r : records) {
    const auto* ptr = std::get_if<Ptr>(&r->data);
    if (r->type != Type::kPtr || !ptr || !sameName(r->name, service)) continue;
    if (!isInstanceOf(ptr->target, service)) {
      note(dropped, "PTR target " + toString(ptr->target) + " is not an instance of the service");
      continue;
    }
    auto seen = std::find_if(instances.begin(), instances.end(),
                             [&](const Name& n) { return sameName(n, ptr->target); });
    if (seen != instances.end()) continue;
    instances.push_back(ptr->target);
    ptrTtls.push_back(r->ttl);
  }
  for (std::size_t i = 0; i < instances.size(); ++i) {
    std::optional<crypto::PeerId> peer;
    std::vector<Multiaddr> addrs;
    std::uint32_t ttl = ptrTtls[i];
    bool anyTxt = false;
    for (const auto* r : records) {
      const auto* txt = std::get_if<Txt>(&r->data);
      if (r->type != Type::kTxt || !txt || !sameName(r->name, instances[i])) continue;
      for (const auto& s : txt->strings) {
        if (!startsWithNoCase(s, kDnsaddrPrefix)) continue;
        auto ma = Multiaddr::parse(std::string_view(s).substr(kDnsaddrPrefix.size()));
        if (!ma) {
          note(dropped, "unparsable dnsaddr: " + ma.error().message());
          continue;
        }
        auto id = ma->peerId();
        if (!id) {
          note(dropped, "dnsaddr without /p2p/<id>");
          continue;
        }
        if (!peer) peer = *id;
        // One instance, one peer: values naming another id are dropped, so a response cannot
        // attach addresses to a peer other than the one it announces.
        if (*id != *peer) {
          note(dropped, "dnsaddr for a second peer id in one instance");
          continue;
        }
        auto plain = ma->withoutPeerId();
        if (!dialable(plain)) {
          note(dropped, "not an ip4/ip6 tcp address: " + plain.toString());
          continue;
        }
        anyTxt = true;
        ttl = std::min(ttl, r->ttl);
        if (std::find(addrs.begin(), addrs.end(), plain) != addrs.end()) continue;
        if (addrs.size() == kMaxAddrsPerPeer) {
          note(dropped, "more than " + std::to_string(kMaxAddrsPerPeer) + " addresses");
          continue;
        }
        addrs.push_back(std::move(plain));
      }
    }
    if (!peer || !anyTxt) continue;
    out.push_back(
        Announcement{instances[i], *peer, std::move(addrs), std::min(ttl, kMaxTtlSeconds)});
  }
  return out;
}

DiscoveredPeer PeerTable::view(const crypto::PeerId& id, const Entry& e) {
  DiscoveredPeer p{id, {}, {}};
  for (const auto& a : e.addrs) {
    p.addrs.push_back(a.addr);
    p.expires = std::max(p.expires, a.expires);
  }
  return p;
}

bool PeerTable::makeRoom(const crypto::PeerId& newcomer) {
  const bool newPreferred = preferred_ && preferred_(newcomer);
  auto victim = peers_.end();
  bool victimPreferred = true;
  for (auto it = peers_.begin(); it != peers_.end(); ++it) {
    const bool pref = preferred_ && preferred_(it->first);
    // Prefer evicting a non-preferred peer; among equals, the least recently seen.
    if (victim == peers_.end() || (victimPreferred && !pref) ||
        (pref == victimPreferred && it->second.lastSeen < victim->second.lastSeen)) {
      victim = it;
      victimPreferred = pref;
    }
  }
  if (victim == peers_.end()) return false;
  // A stranger never pushes out a preferred peer.
  if (victimPreferred && !newPreferred) return false;
  peers_.erase(victim);
  return true;
}

bool PeerTable::learn(const Announcement& a, Clock::time_point now) {
  expire(now);
  auto it = peers_.find(a.peer);
  if (a.ttl == 0) {
    // Goodbye (RFC 6762 §10.1): forget these addresses now.
    if (it == peers_.end()) return false;
    auto& v = it->second.addrs;
    std::erase_if(v, [&](const Addr& x) {
      return std::find(a.addrs.begin(), a.addrs.end(), x.addr) != a.addrs.end();
    });
    if (v.empty()) peers_.erase(it);
    return false;
  }
  if (a.addrs.empty()) return false;
  bool changed = false;
  if (it == peers_.end()) {
    if (peers_.size() >= maxPeers_ && !makeRoom(a.peer)) return false;
    it = peers_.emplace(a.peer, Entry{}).first;
    changed = true;
  }
  auto& e = it->second;
  e.lastSeen = now;
  const auto expires = now + std::chrono::seconds(std::min(a.ttl, kMaxTtlSeconds));
  for (const auto& addr : a.addrs) {
    auto found =
        std::find_if(e.addrs.begin(), e.addrs.end(), [&](const Addr& x) { return x.addr == addr; });
    if (found != e.addrs.end()) {
      found->expires = expires;
      continue;
    }
    if (e.addrs.size() >= kMaxAddrsPerPeer) {
      // Full: the address closest to expiry makes way (it is the least recently confirmed).
      auto oldest =
          std::min_element(e.addrs.begin(), e.addrs.end(),
                           [](const Addr& x, const Addr& y) { return x.expires < y.expires; });
      e.addrs.erase(oldest);
    }
    e.addrs.push_back(Addr{addr, expires});
    changed = true;
  }
  return changed;
}

void PeerTable::expire(Clock::time_point now) {
  for (auto it = peers_.begin(); it != peers_.end();) {
    std::erase_if(it->second.addrs, [&](const Addr& a) { return a.expires <= now; });
    if (it->second.addrs.empty()) {
      it = peers_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<DiscoveredPeer> PeerTable::peers() const {
  std::vector<DiscoveredPeer> out;
  for (const auto& [id, e] : peers_) out.push_back(view(id, e));
  std::sort(out.begin(), out.end(),
            [](const DiscoveredPeer& x, const DiscoveredPeer& y) { return x.id < y.id; });
  return out;
}

std::optional<DiscoveredPeer> PeerTable::find(const crypto::PeerId& id) const {
  auto it = peers_.find(id);
  if (it == peers_.end()) return std::nullopt;
  return view(it->first, it->second);
}

}  // namespace pc::net::mdns
