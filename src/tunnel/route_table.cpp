#include "tunnel/route_table.hpp"

#include "core/counts.hpp"

namespace pc::tunnel {

StreamLease::StreamLease(std::shared_ptr<Counts> counts, StreamClaim claim)
    : counts_(std::move(counts)), claim_(std::move(claim)) {
  ++counts_->tunnel[claim_.tunnel];
  ++counts_->client[{claim_.tunnel, claim_.clientBlock}];
  ++counts_->deployment[claim_.deploymentId];
}

StreamLease::StreamLease(StreamLease&& o) noexcept
    : counts_(std::move(o.counts_)), claim_(std::move(o.claim_)) {}

StreamLease& StreamLease::operator=(StreamLease&& o) noexcept {
  if (this != &o) {
    reset();
    counts_ = std::move(o.counts_);
    claim_ = std::move(o.claim_);
  }
  return *this;
}

void StreamLease::reset() {
  if (!counts_) {
    return;
  }
  countDown(counts_->tunnel, claim_.tunnel);
  countDown(counts_->client, std::pair{claim_.tunnel, claim_.clientBlock});
  countDown(counts_->deployment, claim_.deploymentId);
  counts_.reset();
}

RouteEntry* RouteTable::find(const std::string& deploymentId) {
  auto it = routes_.find(deploymentId);
  return it == routes_.end() ? nullptr : &it->second;
}

const RouteEntry* RouteTable::find(const std::string& deploymentId) const {
  auto it = routes_.find(deploymentId);
  return it == routes_.end() ? nullptr : &it->second;
}

bool RouteTable::put(const std::string& deploymentId, RouteEntry e) {
  auto it = routes_.find(deploymentId);
  if (it == routes_.end()) {
    routes_.emplace(deploymentId, std::move(e));
    return true;
  }
  if (it->second.provider != e.provider) {
    return false;
  }
  it->second = std::move(e);
  return true;
}

void RouteTable::remove(const std::string& deploymentId, const crypto::PeerId& provider) {
  auto it = routes_.find(deploymentId);
  if (it != routes_.end() && it->second.provider == provider) {
    routes_.erase(it);
  }
}

std::size_t RouteTable::removeConnection(const net::Connection* conn) {
  std::size_t n = 0;
  for (auto it = routes_.begin(); it != routes_.end();) {
    if (it->second.conn.get() == conn) {
      it = routes_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

StreamUse RouteTable::streamsInUse(const StreamClaim& claim) const {
  return {countOf(streams_->tunnel, claim.tunnel),
          countOf(streams_->client, std::pair{claim.tunnel, claim.clientBlock}),
          countOf(streams_->deployment, claim.deploymentId)};
}

StreamLease RouteTable::leaseStream(StreamClaim claim) {
  return StreamLease(streams_, std::move(claim));
}

std::size_t RouteTable::routesOf(const crypto::PeerId& provider) const {
  std::size_t n = 0;
  for (const auto& [id, e] : routes_) {
    if (e.provider == provider) {
      ++n;
    }
  }
  return n;
}

}  // namespace pc::tunnel
