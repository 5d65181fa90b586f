#pragma once
/// The documents peerctl prints with `-o json`, all Boost.JSON in this one file. Where a
/// command shows what a provider sent, its JSON is the wire encoding of that message
/// (protocol::toJson) plus the provider's `peer_id`, so `-o json` and the wire agree field for
/// field.
#include <optional>
#include <string>
#include <vector>

#include "protocol/messages.hpp"
#include "trust/trust_store.hpp"

namespace pc::cli {

/// One status entry and the provider (base58 PeerId) that reported it.
struct PeerStatus {
  std::string peerId;
  protocol::DeploymentStatus status;
};

/// `status -o json`: an array of the wire's status entries, each with `peer_id` after its
/// `deployment_id`.
std::string statusJson(const std::vector<PeerStatus>& rows);

/// `deploy -o json`: the wire's DeployResponse with `peer_id` after its `deployment_id`, and
/// `image_source` ("local" | "registry") when the provider's progress said it.
std::string deployJson(const protocol::DeployResponse& r, const std::string& peerId,
                       std::optional<protocol::ImageSource> source = std::nullopt);

/// `peers list -o json`: `peer_id`, `name`, `addrs`, `added_at` per trusted peer.
std::string trustedPeersJson(const std::vector<trust::TrustedPeer>& peers);

/// A peer found on the LAN, with its name when it is trusted.
struct FoundPeer {
  std::string peerId;
  std::vector<std::string> addrs;
  std::optional<std::string> trustedAs;
};

/// `peers discover -o json`: `peer_id`, `addrs`, `trusted`, `name` (null when not trusted).
std::string foundPeersJson(const std::vector<FoundPeer>& peers);

}  // namespace pc::cli
