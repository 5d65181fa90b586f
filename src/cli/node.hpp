#pragma once
/// What peerctl commands that talk to peers share: this node's identity and trust list, a host
/// that only accepts trusted peers, and resolving "<name|peer-id|multiaddr>" to something to dial.
#include <memory>

#include "cli/common.hpp"
#include "crypto/identity.hpp"
#include "net/host.hpp"
#include "trust/trust_store.hpp"

namespace pc::cli {

struct Node {
  crypto::Identity identity;
  trust::TrustStore trust;
  std::shared_ptr<net::Host> host;
};

/// Loads identity and trust list from g.home and creates a gated host on `ex`.
Result<std::unique_ptr<Node>> openNode(const Globals& g, net::asio::any_io_executor ex);

/// Connects to a target given as a trusted peer's name or id (dialing its stored addresses) or
/// as a multiaddr (which may carry /p2p/<id>). The remote must be on the trust list either way.
net::Task<std::shared_ptr<net::Connection>> connectTarget(Node& node, const std::string& target);

}  // namespace pc::cli
