#pragma once
/// libp2p mDNS discovery (libp2p/specs discovery/mdns.md), without sockets: building the
/// `_p2p._udp.local PTR` query and our response (PTR answer, `dnsaddr=<multiaddr>/p2p/<id>` TXT
/// additionals), reading other peers' responses, and the bounded table of what was learned
/// with each address's TTL.
///
/// mDNS is unauthenticated: anyone on the link can announce anything. What is learned here is
/// only ever a hint of where to dial; the Noise handshake proves who answers, and callers use
/// hints only for peers on their trust list.
#include <chrono>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "crypto/peer_id.hpp"
#include "net/mdns/dns.hpp"
#include "net/multiaddr.hpp"

namespace pc::net::mdns {

inline constexpr std::string_view kServiceName = "_p2p._udp.local";
inline constexpr std::uint16_t kPort = 5353;
inline constexpr std::string_view kGroupV4 = "224.0.0.251";
inline constexpr std::string_view kDnsaddrPrefix = "dnsaddr=";
/// TTL we announce (what js-libp2p and go-libp2p use).
inline constexpr std::uint32_t kDefaultTtlSeconds = 120;
/// A learned address lives at most this long without being refreshed, whatever TTL a peer
/// claims: a stale or hostile announcement cannot pin an address forever.
inline constexpr std::uint32_t kMaxTtlSeconds = 3600;
/// Learned peers and addresses per peer: a flood of announcements (one per fake peer id, or
/// many addresses for one id) cannot grow memory without bound.
inline constexpr std::size_t kMaxPeers = 256;
inline constexpr std::size_t kMaxAddrsPerPeer = 16;
/// Addresses we put in one response (one TXT record each, ≤ 255 bytes): keeps the response
/// well under a 1500-byte MTU for typical addresses.
inline constexpr std::size_t kMaxAnnouncedAddrs = 8;
inline constexpr std::size_t kMaxTxtStringLength = 255;
/// Our random instance label (spec: ≥ 32 lowercase alphanumerics, not the peer id).
inline constexpr std::size_t kPeerNameLength = 32;
static_assert(kPeerNameLength <= kMaxLabelLength);
static_assert(kMaxAnnouncedAddrs + 1 <= kMaxEntries);

/// A fresh random instance label.
std::string randomPeerName();

/// The `<service> PTR` query (id 0, one question, class IN).
Message makeQuery(const Name& service);

/// True for a query (QR=0, opcode 0) with a question for `service`, type PTR or ANY, class IN
/// or ANY.
bool asksFor(const Message& query, const Name& service);

/// Our response: answer `<service> PTR <peerName>.<service>`, additionals one TXT
/// `dnsaddr=<addr>` per address (each must end in /p2p/<id>). Addresses whose TXT string
/// would exceed 255 bytes are left out, and at most kMaxAnnouncedAddrs are used. ttl 0 makes
/// it a goodbye. Errors: kProtocolError if peerName is not a valid label.
Result<Message> makeResponse(const Name& service, std::string_view peerName,
                             const std::vector<Multiaddr>& addrs, std::uint32_t ttl);

/// One peer's announcement read from a response.
struct Announcement {
  Name instance;                 ///< <peer-name>.<service>
  crypto::PeerId peer;           ///< from the /p2p/ component of its dnsaddr values
  std::vector<Multiaddr> addrs;  ///< without /p2p, deduplicated, at most kMaxAddrsPerPeer
  std::uint32_t ttl = 0;         ///< the smallest TTL of the PTR and TXT records used, capped
};

/// The announcements in a response. A response that is not a clean mDNS answer (QR=0, non-zero
/// opcode or rcode) yields none. Per instance: PTRs in answers or additionals (js-libp2p puts
/// everything in answers, the spec puts TXT in additionals), TXT records of that instance in
/// either section, `dnsaddr=` values (key case-insensitive) that parse as multiaddrs with a
/// /p2p/ id; the first id seen decides the peer and values naming another id are dropped (an
/// instance cannot speak for two peers). Only ip4/ip6 + tcp addresses are kept: we dial TCP
/// only, and a DNS name would let a stranger on the link make us resolve names of its choice.
/// Skipped values are described in `dropped` when given (for debug logs).
std::vector<Announcement> readAnnouncements(const Message& response, const Name& service,
                                            std::vector<std::string>* dropped = nullptr);

struct DiscoveredPeer {
  crypto::PeerId id;
  std::vector<Multiaddr> addrs;
  std::chrono::steady_clock::time_point expires;  ///< when the last address expires
};

/// What was learned, with per-address expiry (TTL) and hard caps (kMaxPeers,
/// kMaxAddrsPerPeer). When full, a new peer evicts the least recently seen one that is not
/// `preferred` (e.g. trusted), so a flood of strangers cannot push out the peers we care about.
class PeerTable {
 public:
  using Clock = std::chrono::steady_clock;
  explicit PeerTable(std::function<bool(const crypto::PeerId&)> preferred = {},
                     std::size_t maxPeers = kMaxPeers)
      : preferred_(std::move(preferred)), maxPeers_(maxPeers) {}

  /// Adds or refreshes the announced addresses (TTL 0 removes them: a goodbye). Returns true
  /// when the peer or one of its addresses is new.
  bool learn(const Announcement& a, Clock::time_point now);
  /// Drops addresses whose TTL passed, and peers left without any.
  void expire(Clock::time_point now);
  std::vector<DiscoveredPeer> peers() const;
  std::optional<DiscoveredPeer> find(const crypto::PeerId& id) const;
  std::size_t size() const { return peers_.size(); }

 private:
  struct Addr {
    Multiaddr addr;
    Clock::time_point expires;
  };
  struct Entry {
    std::vector<Addr> addrs;
    Clock::time_point lastSeen;
  };
  static DiscoveredPeer view(const crypto::PeerId& id, const Entry& e);
  bool makeRoom(const crypto::PeerId& newcomer);

  std::function<bool(const crypto::PeerId&)> preferred_;
  std::size_t maxPeers_;
  std::unordered_map<crypto::PeerId, Entry> peers_;
};

}  // namespace pc::net::mdns
