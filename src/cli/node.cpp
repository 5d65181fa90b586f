#include "cli/node.hpp"

#include "net/error.hpp"

namespace pc::cli {

Result<std::unique_ptr<Node>> openNode(const Globals& g, net::asio::any_io_executor ex) {
  auto id = crypto::Identity::load(g.identityPath());
  if (!id) return id.error();
  auto trust = trust::TrustStore::load(g.trustPath());
  if (!trust) return trust.error();
  auto node = std::make_unique<Node>(Node{std::move(*id), std::move(*trust), nullptr});
  net::HostConfig cfg;
  cfg.agentVersion = std::string("peerctl/") + PC_VERSION;
  node->host = net::Host::create(std::move(ex), node->identity, cfg);
  Node* raw = node.get();
  node->host->setGater([raw](const crypto::PeerId& p) { return raw->trust.isTrusted(p); });
  for (const auto& p : node->trust.peers()) node->host->addAddrs(p.id, p.addrs);
  return node;
}

net::Task<std::shared_ptr<net::Connection>> connectTarget(Node& node, const std::string& target) {
  if (!target.empty() && target.front() == '/') {
    auto addr = net::Multiaddr::parse(target);
    if (!addr) co_return addr.error();
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
    co_return net::fail(
        net::Errc::kUnreachable,
        "no address known for '" + (*peer)->name +
            "'; add one with `peerctl peers remove` + `peers add --addr`, or pass a multiaddr");
  }
  co_return co_await node.host->connect((*peer)->id);
}

}  // namespace pc::cli
