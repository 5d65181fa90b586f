#pragma once
/// The gateway's route table: which provider connection (tunnel) serves each deployment id, and
/// how many proxy streams each tunnel carries for public connections.
///
/// Routes are written by the TunnelService (tunnel_service.hpp) from signed registrations and
/// read by the gateway's HTTP front. Runs on one executor (the gateway's single io_context
/// thread): no locking.
#include <map>
#include <memory>
#include <string>

#include "crypto/peer_id.hpp"
#include "net/host.hpp"

namespace pc::tunnel {

struct RouteEntry {
  crypto::PeerId provider;
  std::shared_ptr<net::Connection> conn;  ///< the provider's tunnel
  std::string url;                        ///< the deployment's public URL
  std::string requester;  ///< the developer the provider says deployed it; may be empty
};

/// Who a proxy stream is for: its tunnel, the public client's address block and the deployment.
/// Each is counted, so the HTTP front can hold each to its share of the tunnel.
struct StreamClaim {
  const net::Connection* tunnel = nullptr;
  std::string clientBlock;
  std::string deploymentId;
};

/// Streams in use now, per key of a claim.
struct StreamUse {
  std::size_t tunnel = 0;
  std::size_t client = 0;      ///< of the claim's client block on its tunnel
  std::size_t deployment = 0;  ///< of the claim's deployment
};

/// One proxy stream counted against its tunnel's bounds for as long as the lease lives; moving
/// it moves the count, destroying (or reset()) gives it back. A lease may outlive its
/// RouteTable: the counts are shared with it.
class StreamLease {
 public:
  StreamLease() = default;
  StreamLease(StreamLease&& o) noexcept;
  StreamLease& operator=(StreamLease&& o) noexcept;
  StreamLease(const StreamLease&) = delete;
  StreamLease& operator=(const StreamLease&) = delete;
  ~StreamLease() { reset(); }

  /// Gives the stream's count back now (idempotent).
  void reset();
  [[nodiscard]] bool held() const { return counts_ != nullptr; }

 private:
  friend class RouteTable;
  struct Counts {
    std::map<const net::Connection*, std::size_t> tunnel;
    std::map<std::pair<const net::Connection*, std::string>, std::size_t> client;
    std::map<std::string, std::size_t> deployment;
  };
  StreamLease(std::shared_ptr<Counts> counts, StreamClaim claim);
  std::shared_ptr<Counts> counts_;
  StreamClaim claim_;
};

class RouteTable {
 public:
  /// The route of `deploymentId`, or null. The pointer is valid until the table next changes.
  RouteEntry* find(const std::string& deploymentId);
  const RouteEntry* find(const std::string& deploymentId) const;
  /// Adds or refreshes a route. Refused (false) when another provider holds the id.
  bool put(const std::string& deploymentId, RouteEntry e);
  void remove(const std::string& deploymentId, const crypto::PeerId& provider);
  /// Removes every route served over `conn` (its tunnel dropped).
  std::size_t removeConnection(const net::Connection* conn);
  [[nodiscard]] std::size_t size() const { return routes_.size(); }
  /// Every route, by deployment id (metrics, the dashboard).
  [[nodiscard]] const std::map<std::string, RouteEntry>& all() const { return routes_; }

  /// Proxy streams leased now for the keys of `claim` (for the front's bounds).
  [[nodiscard]] StreamUse streamsInUse(const StreamClaim& claim) const;
  /// Counts one more proxy stream for `claim` until the returned lease ends. The caller checks
  /// the bounds first (streamsInUse): the table only counts.
  [[nodiscard]] StreamLease leaseStream(StreamClaim claim);
  /// The routes `provider` holds now (for the per-provider route bound).
  [[nodiscard]] std::size_t routesOf(const crypto::PeerId& provider) const;

 private:
  std::map<std::string, RouteEntry> routes_;
  std::shared_ptr<StreamLease::Counts> streams_ = std::make_shared<StreamLease::Counts>();
};

}  // namespace pc::tunnel
