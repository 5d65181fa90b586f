// Host: connections over relayed circuits (the part of the host that net/relay builds on).
#include <spdlog/spdlog.h>

#include "net/error.hpp"
#include "net/host.hpp"

namespace pc::net {

Task<std::shared_ptr<Connection>> Host::addRelayed(std::unique_ptr<RawConn> raw, bool outbound,
                                                   crypto::PeerId expected, crypto::PeerId relay) {
  auto self = shared_from_this();
  if (closed_) {
    co_return fail(Errc::kClosed, "host is closed");
  }
  if (atConnectionLimit()) {
    raw->reset();
    co_return fail(Errc::kLimit,
                   "connection limit " + std::to_string(config_.maxConnections) + " reached");
  }
  // Counted with the connections and cut by close(), as a TCP handshake in progress.
  struct Pending {
    Host& host;
    std::list<RawConn*>::iterator it;
    ~Pending() {
      host.pendingOutbound_.erase(it);
      --host.pendingUpgrades_;
    }
  } pending{*this, pendingOutbound_.insert(pendingOutbound_.end(), raw.get())};
  ++pendingUpgrades_;
  const Multiaddr remote = raw->remoteAddr();
  auto options = upgradeOptions(outbound ? std::nullopt : std::optional<Multiaddr>(remote));
  std::unique_ptr<SecureConn> secured;
  if (outbound) {
    auto sc = co_await upgradeOutbound(std::move(raw), expected, std::move(options));
    if (!sc) co_return sc.error();
    secured = std::move(*sc);
  } else {
    // The relay names the source in STOP, but only the Noise handshake proves who it is: a
    // relay (or anyone who can open STOP to us) naming a trusted peer must not get another
    // peer admitted under that name.
    options.admit = [this, remote, expected,
                     gate = std::move(options.admit)](const crypto::PeerId& peer) {
      if (peer != expected) {
        reject(peer, remote,
               "proved another id than the relay named (" + expected.toBase58() + ")");
        return false;
      }
      return !gate || gate(peer);
    };
    auto sc = co_await upgradeInbound(std::move(raw), std::move(options));
    if (!sc) co_return sc.error();
    secured = std::move(*sc);
  }
  if (closed_) {
    secured->reset();
    co_return fail(Errc::kClosed, "host is closed");
  }
  co_return addConnection(std::move(secured), outbound, std::move(relay));
}

}  // namespace pc::net
