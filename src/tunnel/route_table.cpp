#include "tunnel/route_table.hpp"

namespace pc::tunnel {

StreamLease::StreamLease(std::shared_ptr<Counts> counts, const net::Connection* tunnel)
    : counts_(std::move(counts)), tunnel_(tunnel) {
  ++(*counts_)[tunnel_];
}

StreamLease::StreamLease(StreamLease&& o) noexcept
    : counts_(std::move(o.counts_)), tunnel_(o.tunnel_) {}

StreamLease& StreamLease::operator=(StreamLease&& o) noexcept {
  if (this != &o) {
    reset();
    counts_ = std::move(o.counts_);
    tunnel_ = o.tunnel_;
  }
  return *this;
}

void StreamLease::reset() {
  if (!counts_) {
    return;
  }
  auto it = counts_->find(tunnel_);
  if (it != counts_->end() && --it->second == 0) {
    counts_->erase(it);
  }
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

std::size_t RouteTable::streamsInUse(const net::Connection* tunnel) const {
  auto it = streams_->find(tunnel);
  return it == streams_->end() ? 0 : it->second;
}

StreamLease RouteTable::leaseStream(const net::Connection* tunnel) {
  return StreamLease(streams_, tunnel);
}

}  // namespace pc::tunnel
