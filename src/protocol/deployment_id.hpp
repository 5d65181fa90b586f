#pragma once
/// Deployment ids: "dep-" + 16 lower-case base32 characters (80 bits). A provider mints the id of
/// each deployment from its own PeerId and a random salt (deploymentIdFor), so that a gateway can
/// check that the provider registering a route is the one that minted its id.
#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "crypto/peer_id.hpp"

namespace pc::protocol {

inline constexpr std::size_t kDeploymentIdRandomChars = 16;  ///< base32 chars after "dep-"
/// Salt bytes behind a provider-bound deployment id.
inline constexpr std::size_t kDeploymentSaltBytes = 16;

/// A fresh deployment id: "dep-" + 16 random lower-case base32 characters (80 bits).
std::string newDeploymentId();
/// The deployment id a provider mints from `saltHex` (kDeploymentSaltBytes as lower-case hex):
/// "dep-" + the first 16 base32 characters (80 bits) of
/// SHA-256("peercompute/deployment-id/v1\n" ‖ provider PeerId bytes ‖ salt).
/// A gateway recomputes it from the registering connection's PeerId, so no other provider can
/// claim a deployment's public name (that would need an 80-bit second preimage).
/// Errors: kBadFormat for a salt that is not kDeploymentSaltBytes of lower-case hex.
Result<std::string> deploymentIdFor(const crypto::PeerId& provider, std::string_view saltHex);
/// A new random salt (lower-case hex) for deploymentIdFor.
std::string newDeploymentSalt();
/// True for text of the form "dep-" + 16 characters of [a-z2-7].
bool isDeploymentId(std::string_view s);

}  // namespace pc::protocol
