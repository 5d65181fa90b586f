#include "cli/node.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "net/dcutr/coordinator.hpp"
#include "net/error.hpp"
#include "net/mdns/service.hpp"
#include "net/relay/client.hpp"

namespace pc::cli {

/// When a command may go through a relay, peerctl listens for its length on one ephemeral port
/// (SO_REUSEPORT) and dials everything from it, so a relay sees the address our NAT maps that port
/// to: a provider reached through the relay can then punch a direct connection to us (DCUtR; we are
/// its client). Inbound connections are gated like any other. Without a port, the relay is kept.
void enableHolePunching(Node& node) {
  auto bound = node.host->listen(net::Multiaddr::parse("/ip4/0.0.0.0/tcp/0").value());
  if (!bound) {
    spdlog::debug("no listen port for hole punching: {}", bound.error().message());
    return;
  }
  net::dcutr::Coordinator::install(node.host);
}

Result<std::unique_ptr<Node>> openNode(const Globals& g, net::asio::any_io_executor ex,
                                       Printer& out) {
  auto id = crypto::Identity::load(g.identityPath());
  if (!id) return id.error();
  auto trust = trust::TrustStore::load(g.trustPath());
  if (!trust) return trust.error();
  auto node = std::make_unique<Node>(Node{std::move(*id), std::move(*trust), nullptr, out, {}});
  net::HostConfig cfg;
  cfg.agentVersion = std::string("peerctl/") + PC_VERSION;
  cfg.dialFrom = net::HostConfig::DialFrom::kListenPort;
  node->host = net::Host::create(std::move(ex), node->identity, cfg);
  Node* raw = node.get();
  // A relay we dial through is admitted for that (its circuit's peer is gated by its own
  // handshake); any other peer must be trusted.
  node->host->setGater([raw](const crypto::PeerId& p) {
    return raw->trust.isTrusted(p) || raw->relays.count(p) != 0;
  });
  net::relay::installRelayTransport(*node->host);
  for (const auto& p : node->trust.peers()) {
    node->host->addAddrs(p.id, p.addrs);
    for (const auto& a : p.addrs) {
      if (auto c = a.circuit()) node->relays.insert(c->relayId);
    }
  }
  return node;
}

net::Task<std::shared_ptr<net::Connection>> connectTarget(Node& node, const std::string& target) {
  if (!target.empty() && target.front() == '/') {
    auto addr = net::Multiaddr::parse(target);
    if (!addr) co_return addr.error();
    if (auto c = addr->circuit()) {
      node.relays.insert(c->relayId);
      enableHolePunching(node);
    }
    auto conn = co_await node.host->connect(*addr);
    if (!conn && conn.error() == net::make_error_code(net::Errc::kGated)) {
      co_return Error(conn.error().code(),
                      conn.error().message() + "; trust it first with `peerctl peers add`");
    }
    co_return conn;
  }
  auto peer = node.trust.resolve(target);
  if (!peer) co_return peer.error();
  if ((*peer)->addrs.empty()) {
    const auto id = (*peer)->id;
    const auto name = (*peer)->name;
    node.out.streamErr("No address stored for '" + name + "'; looking for it on the LAN (mDNS)…\n");
    auto found = co_await findOnLan(node, id, kLanLookupTimeout);
    if (!found) {
      co_return net::fail(net::Errc::kUnreachable,
                          "no address known for '" + name + "' and " + found.error().message() +
                              "; add one with `peerctl peers remove` + `peers add --addr`, or "
                              "pass a multiaddr");
    }
  }
  const auto& addrs = (*peer)->addrs;
  if (std::any_of(addrs.begin(), addrs.end(), [](const auto& a) { return a.isCircuit(); })) {
    enableHolePunching(node);  // a direct peer costs no listen port
  }
  co_return co_await node.host->connect((*peer)->id);
}

net::Task<std::vector<net::Multiaddr>> findOnLan(Node& node, const crypto::PeerId& peer,
                                                 std::chrono::milliseconds timeout) {
  net::mdns::ServiceConfig cfg;
  cfg.respond = false;  // peerctl listens nowhere: nothing to announce
  cfg.ephemeralFallback = true;
  auto ex = co_await net::asio::this_coro::executor;
  auto service = net::mdns::Service::start(ex, node.identity.peerId(), {}, cfg);
  if (!service) co_return service.error();
  if ((*service)->interfaceCount() == 0) {
    (*service)->stop();
    co_return net::fail(net::Errc::kUnreachable,
                        "no multicast-capable network interface is up for mDNS");
  }
  auto seen = co_await (*service)->waitFor(peer, timeout);
  (*service)->stop();
  if (!seen) {
    co_return net::fail(net::Errc::kUnreachable, "it did not answer on the LAN (mDNS) within " +
                                                     std::to_string(timeout.count() / 1000) + " s");
  }
  node.host->addAddrs(peer, seen->addrs);
  co_return seen->addrs;
}

}  // namespace pc::cli
