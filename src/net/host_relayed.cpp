// Host: connections over relayed circuits (the part of the host that net/relay builds on), and
// the role-forced upgrade they share with hole punching.
#include <spdlog/spdlog.h>

#include "net/error.hpp"
#include "net/host.hpp"

namespace pc::net {

Task<std::shared_ptr<Connection>> Host::addRelayed(std::unique_ptr<RawConn> raw, bool outbound,
                                                   crypto::PeerId expected, crypto::PeerId relay) {
  co_return co_await upgradeAs(std::move(raw), outbound, std::move(expected), std::move(relay));
}

Task<std::shared_ptr<Connection>> Host::upgradeAs(std::unique_ptr<RawConn> raw, bool client,
                                                  crypto::PeerId expected,
                                                  std::optional<crypto::PeerId> relay) {
  auto self = shared_from_this();
  if (closed_) {
    raw->reset();
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
  auto options = upgradeOptions(client ? std::nullopt : std::optional<Multiaddr>(remote));
  std::unique_ptr<SecureConn> secured;
  if (client) {
    auto sc = co_await upgradeOutbound(std::move(raw), expected, std::move(options));
    if (!sc) co_return sc.error();
    secured = std::move(*sc);
  } else {
    // The relay names the source in STOP (a punch, the peer it expects), but only the Noise
    // handshake proves who it is: a relay (or anyone who can open STOP to us, or connect from a
    // punch address) naming a trusted peer must not get another peer admitted under that name.
    const std::string who = relay ? "the relay named" : "the hole punch expected";
    options.admit = [this, remote, expected, who,
                     gate = std::move(options.admit)](const crypto::PeerId& peer) {
      if (peer != expected) {
        reject(peer, remote, "proved another id than " + who + " (" + expected.toBase58() + ")");
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
  co_return addConnection(std::move(secured), client, std::move(relay));
}

}  // namespace pc::net
