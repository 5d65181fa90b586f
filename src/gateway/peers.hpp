#pragma once
/// GatewayPeers: the gateways of one domain, told about each other explicitly (`peer_gateways`,
/// each `<multiaddr>/p2p/<id>`), speaking `/peercompute/gateway-peer/1.0.0` (peer_codec.hpp)
/// over the same libp2p host providers dial.
///
/// Trust is mutual, like every trust edge here: the node's stream gate lets only listed peers
/// open the protocol, and a gateway hears a peer only if that peer lists it too. A peer that
/// serves another domain is refused (logged).
///
/// Each gateway keeps one stream open to each peer and writes on it only: a heartbeat every
/// `heartbeat` (its domain, its public addresses, whether it orders the wildcard, the expiry of
/// the certificate it serves), challenge TXT values, certificates. What the peer sends arrives on
/// the stream the peer opened. PeerLiveness turns heartbeats into alive/dead; the DNS zone then
/// names this gateway's addresses and every live peer's, and a peer that misses
/// `missedBeforeDead` heartbeats leaves the answers at the next tick.
///
/// With `tls = acme` and dns-01 the peers also share the one wildcard certificate (see
/// deferOrder, publishChallenge, shareCertificate; the README says why: a public CA caps
/// duplicate certificates).
///
/// Threading: everything runs on the host's executor (one thread); no locks.
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gateway/peer_codec.hpp"
#include "gateway/peer_liveness.hpp"
#include "net/asio.hpp"
#include "net/multiaddr.hpp"
#include "net/task_group.hpp"

namespace pc::net {
class Host;
struct Connection;
}  // namespace pc::net
namespace pc::net::yamux {
class Stream;
}
namespace pc::dns {
class DnsServer;
}

namespace pc::gateway {

class CertManager;

inline constexpr std::string_view kGatewayPeerProtocol = "/peercompute/gateway-peer/1.0.0";

namespace peer {
/// Frames waiting on one peer's stream. A peer that does not read them is dropped and dialled
/// again, rather than let the queue grow.
inline constexpr std::size_t kMaxQueuedFrames = 64;
/// Redial back-off to a peer gateway: short, so a peer that comes back is heard well within
/// the time it takes to be counted dead (a restarted orderer must hear its peers' certificate).
inline constexpr std::chrono::milliseconds kMinRedial{200};
inline constexpr std::chrono::milliseconds kMaxRedial{2000};
/// How long the orderer waits for every live peer to confirm new TXT values before it lets the
/// CA look them up (the CA may ask any of the domain's name servers).
inline constexpr std::chrono::seconds kChallengeAckTimeout{5};
/// One peer is asked for one certificate at most this often.
inline constexpr std::chrono::seconds kCertRequestInterval{30};
/// The only TXT names a peer may set in our zone.
inline constexpr std::string_view kChallengeLabel = "_acme-challenge.";
}  // namespace peer

struct GatewayPeersOptions {
  std::string domain;
  std::vector<net::Multiaddr> peers;  ///< each ending in /p2p/<id>
  dns::Addresses ownAddresses;        ///< this gateway's --public-ip
  peer::LivenessSettings liveness;
  bool ordersWildcard = false;  ///< tls = acme with dns-01
};

class GatewayPeers : public std::enable_shared_from_this<GatewayPeers> {
 public:
  /// Errors: a peer address without /p2p/<id>, this gateway's own id, one listed twice, more
  /// than kMaxPeerGateways, more than kMaxAddressesPerGateway own addresses.
  static Result<std::shared_ptr<GatewayPeers>> create(std::shared_ptr<net::Host> host,
                                                      std::weak_ptr<dns::DnsServer> dns,
                                                      GatewayPeersOptions options);
  ~GatewayPeers();

  /// Registers the protocol handler on the host.
  void install();
  /// Starts dialling every peer and the liveness ticks.
  void start();
  /// Resets every stream and cancels the tasks; returns at once.
  void stop();
  /// stop(), then waits for the tasks to end. Not cancel-safe.
  net::asio::awaitable<void> shutdown();

  /// True for a listed peer gateway (the node's stream gate asks before the protocol opens).
  [[nodiscard]] bool isListed(const crypto::PeerId& peer) const;
  /// Live peers now, and one peer's state (tests, logs).
  [[nodiscard]] std::vector<crypto::PeerId> alivePeers() const;
  [[nodiscard]] peer::PeerState state(const crypto::PeerId& peer) const;

  // ---- the wildcard certificate (dns-01; see certs.hpp) ----
  /// The certificate manager whose wildcard is announced, handed out and replaced by peers'.
  void attachCertificates(std::weak_ptr<CertManager> certs);
  /// Why this gateway must not order the wildcard now (a lower-id peer orders it, a peer has
  /// not been heard yet, a peer holds a fresher one), or nullopt: order.
  [[nodiscard]] std::optional<std::string> deferOrder() const;
  /// Sends TXT values for `name` to every live peer (our own zone is set by the caller).
  void publishChallenge(const std::string& name, const std::vector<std::string>& values);
  /// Completes once every live peer sent the values confirmed them, a peer died, or
  /// kChallengeAckTimeout passed (logged: the CA may then not find them there). Never fails.
  /// Cancel-safe.
  net::Task<void> awaitChallenge();
  void withdrawChallenge(const std::string& name);
  /// Sends the wildcard certificate (and key) to every live peer (after a new one was issued).
  void shareCertificate();

 private:
  struct Link;
  GatewayPeers(std::shared_ptr<net::Host> host, std::weak_ptr<dns::DnsServer> dns,
               GatewayPeersOptions options, std::vector<crypto::PeerId> ids);
  net::asio::awaitable<void> dialLoop(crypto::PeerId id);
  net::asio::awaitable<void> sendLoop(Link& link, std::shared_ptr<net::yamux::Stream> stream);
  net::asio::awaitable<void> serveInbound(std::shared_ptr<net::yamux::Stream> stream,
                                          std::shared_ptr<net::Connection> conn);
  net::asio::awaitable<void> tickLoop();
  /// Handles one message from `link`'s peer; false ends its stream.
  bool onMessage(Link& link, peer::Message& m, bool first);
  bool onHeartbeat(Link& link, const peer::Heartbeat& h);
  void onChallengeSet(Link& link, const peer::ChallengeSet& s);
  void onCertificate(Link& link, const peer::Certificate& c);
  /// Queues `m` on `link`'s stream (dropped when it is not connected).
  bool send(Link& link, const peer::Message& m);
  [[nodiscard]] peer::Heartbeat heartbeat() const;
  /// Dead peers leave the DNS answers, their TXT values leave the zone.
  void applyTransitions(const std::vector<peer::Transition>& changes);
  void updateZone();
  void fetchFresherCertificate();
  [[nodiscard]] std::uint64_t ourCertNotAfter() const;
  /// The live peer with a later certificate we can use (not expired, not refused before).
  [[nodiscard]] std::optional<crypto::PeerId> fresherPeer() const;

  std::shared_ptr<net::Host> host_;
  std::weak_ptr<dns::DnsServer> dns_;
  GatewayPeersOptions options_;
  std::string domain_;  ///< lower-case, as sent and compared
  peer::PeerLiveness liveness_;
  std::map<crypto::PeerId, std::unique_ptr<Link>> links_;
  std::weak_ptr<CertManager> certs_;
  std::uint32_t challengeSeq_ = 0;
  std::map<std::string, peer::ChallengeSet> challenges_;  ///< published, not yet withdrawn
  net::Signal acked_;  ///< a challenge ack arrived or a peer died
  std::optional<dns::Addresses> published_;
  bool stopped_ = false;
  net::TaskGroup tasks_;  ///< dial loops, send loops, the tick loop
};

}  // namespace pc::gateway
