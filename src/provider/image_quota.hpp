#pragma once
/// The image disk quota: how many bytes of images a deployment and a peer may make this provider
/// store, and which pulled images no deployment needs any more. Pure: no I/O, no clock; the
/// records and the ledger of pulled images (Records::pulledImages) are passed in.
///
/// What is counted: images this provider pulled (an image the engine had before costs no disk
/// and is never removed). A peer's total is the sizes of the pulled images its deployments in use
/// run. Before a pull the engine cannot say how big an image is (GET /distribution/{name}/json
/// gives only the manifest's own descriptor), so the pull is aborted as soon as the layer sizes
/// it announces exceed the allowance, and the size on disk is checked once the pull is done.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "provider/store.hpp"

namespace pc::provider {

/// Default `max_image_size`: the largest image one deployment may pull.
inline constexpr std::uint64_t kDefaultMaxImageSize = 2ULL << 30;
/// Default `max_image_bytes_per_peer`: the images one peer's deployments may hold together.
inline constexpr std::uint64_t kDefaultMaxImageBytesPerPeer = 4ULL << 30;

struct ImageQuota {
  std::uint64_t maxImageSize = kDefaultMaxImageSize;             ///< max_image_size
  std::uint64_t maxBytesPerPeer = kDefaultMaxImageBytesPerPeer;  ///< max_image_bytes_per_peer
};

/// True while a record needs `image`: it is in use (pending … stopping), or it failed and its
/// container is kept for its logs.
bool imageInUse(const std::map<std::string, Deployment>& records, const std::string& image);

/// Pulled images that no record needs (see imageInUse): to be removed.
std::vector<std::string> unusedPulledImages(const std::map<std::string, Deployment>& records,
                                            const std::map<std::string, std::uint64_t>& pulled);

/// How big `image` may be for a deployment of `requester`.
struct ImageAllowance {
  std::uint64_t bytes = 0;       ///< the largest size allowed
  std::uint64_t usedByPeer = 0;  ///< the peer's other pulled images in use
  bool perPeerBound = false;     ///< true: max_image_bytes_per_peer binds, not max_image_size
};

/// The allowance for `image` (its own bytes are not counted twice when the peer already runs
/// it). Errors: runtime::Errc::kLimitExceeded naming max_image_bytes_per_peer when the peer's
/// other images already use it all (the deploy is refused before anything is pulled).
Result<ImageAllowance> imageAllowance(const ImageQuota& quota,
                                      const std::map<std::string, Deployment>& records,
                                      const std::map<std::string, std::uint64_t>& pulled,
                                      const std::string& requester, const std::string& image);

/// Checks an image of `bytes` against `allowance`. `announced`: the bytes are the layer sizes
/// the pull announced so far (a lower bound), not the size on disk. Errors:
/// runtime::Errc::kLimitExceeded naming the limit (max_image_size or max_image_bytes_per_peer)
/// and the numbers.
Result<void> checkImageSize(const ImageAllowance& allowance, const std::string& image,
                            std::uint64_t bytes, bool announced);

}  // namespace pc::provider
