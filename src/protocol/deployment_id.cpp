#include "protocol/deployment_id.hpp"

#include <algorithm>

#include "core/base32.hpp"
#include "crypto/hash.hpp"
#include "protocol/error.hpp"
#include "protocol/random_detail.hpp"

namespace pc::protocol {
namespace {

static_assert(kDeploymentIdRandomChars * 5 % 8 == 0, "whole bytes, no base32 padding");
constexpr std::size_t kDeploymentIdBytes = kDeploymentIdRandomChars * 5 / 8;
constexpr std::string_view kPrefix = "dep-";

}  // namespace

std::string newDeploymentId() {
  return std::string(kPrefix) + base32::encode(detail::randomBytes(kDeploymentIdBytes));
}

std::string newDeploymentSalt() { return toHex(detail::randomBytes(kDeploymentSaltBytes)); }

Result<std::string> deploymentIdFor(const crypto::PeerId& provider, std::string_view saltHex) {
  if (saltHex.size() != kDeploymentSaltBytes * 2 || !isLowerHex(saltHex)) {
    return fail(Errc::kBadFormat, "deployment id salt must be " +
                                      std::to_string(kDeploymentSaltBytes * 2) +
                                      " lower-case hex characters");
  }
  // The domain string keeps this hash apart from every other use of SHA-256 over a PeerId.
  static constexpr std::string_view kDomain = "peercompute/deployment-id/v1\n";
  Bytes in(kDomain.begin(), kDomain.end());
  append(in, provider.bytes());
  append(in, fromHex(saltHex).value());
  const auto digest = crypto::sha256(in);
  return std::string(kPrefix) + base32::encode(BytesView(digest.data(), kDeploymentIdBytes));
}

bool isDeploymentId(std::string_view s) {
  if (s.size() != kPrefix.size() + kDeploymentIdRandomChars || !s.starts_with(kPrefix)) {
    return false;
  }
  return std::all_of(s.begin() + kPrefix.size(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'); });
}

}  // namespace pc::protocol
