#include "provider/relays.hpp"

namespace pc::provider {

RelayPresence::RelayPresence(std::shared_ptr<net::Host> host,
                             const std::vector<net::Multiaddr>& relays)
    : host_(std::move(host)) {
  for (const auto& relay : relays) {
    net::relay::KeeperOptions o;
    o.relay = relay;
    o.onChange = [this](const std::vector<net::Multiaddr>&) { changed(); };
    keepers_.push_back(std::make_shared<net::relay::ReservationKeeper>(host_, std::move(o)));
  }
}

void RelayPresence::start() {
  for (auto& k : keepers_) k->start();
}

void RelayPresence::stop() {
  for (auto& k : keepers_) k->stop();
}

std::vector<net::Multiaddr> RelayPresence::addrs() const {
  std::vector<net::Multiaddr> out;
  for (const auto& k : keepers_) {
    for (const auto& a : k->addrs()) out.push_back(a.withPeerId(host_->peerId()));
  }
  return out;
}

void RelayPresence::changed() {
  // Identify lists the relayed addresses like listen addresses (without our id, as those).
  std::vector<net::Multiaddr> advertised;
  for (const auto& k : keepers_) {
    advertised.insert(advertised.end(), k->addrs().begin(), k->addrs().end());
  }
  host_->setAdvertisedAddrs(std::move(advertised));
  if (listener_) listener_(addrs());
}

}  // namespace pc::provider
