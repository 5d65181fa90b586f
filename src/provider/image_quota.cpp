#include "provider/image_quota.hpp"

#include <set>

#include "core/units.hpp"
#include "runtime/error.hpp"

namespace pc::provider {

namespace {

/// Whether the record holds its image: in use, or failed with its container kept for its logs (a
/// stopped record keeps the id of its removed container).
bool holdsImage(const Deployment& d) {
  return d.active() || (d.state == protocol::DeploymentState::kFailed && !d.containerId.empty());
}

}  // namespace

bool imageInUse(const std::map<std::string, Deployment>& records, const std::string& image) {
  for (const auto& [id, d] : records) {
    if (d.image == image && holdsImage(d)) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> unusedPulledImages(const std::map<std::string, Deployment>& records,
                                            const std::map<std::string, std::uint64_t>& pulled) {
  std::vector<std::string> out;
  for (const auto& [image, bytes] : pulled) {
    if (!imageInUse(records, image)) {
      out.push_back(image);
    }
  }
  return out;
}

Result<ImageAllowance> imageAllowance(const ImageQuota& quota,
                                      const std::map<std::string, Deployment>& records,
                                      const std::map<std::string, std::uint64_t>& pulled,
                                      const std::string& requester, const std::string& image) {
  std::set<std::string> images;
  for (const auto& [id, d] : records) {
    if (d.requester == requester && d.image != image && holdsImage(d)) {
      images.insert(d.image);
    }
  }
  ImageAllowance a;
  for (const auto& i : images) {
    if (auto it = pulled.find(i); it != pulled.end()) {
      a.usedByPeer += it->second;
    }
  }
  // Stops one trusted peer from filling the provider's disk with images, one deployment at a
  // time: what its deployments hold together is bounded, not only each image.
  if (a.usedByPeer >= quota.maxBytesPerPeer) {
    return runtime::fail(runtime::Errc::kLimitExceeded,
                         "your deployments' images already use " +
                             units::formatBytes(a.usedByPeer) +
                             " of this provider's disk, its limit per peer "
                             "(max_image_bytes_per_peer " +
                             units::formatBytes(quota.maxBytesPerPeer) +
                             "); stop a deployment whose image you no longer need");
  }
  const std::uint64_t left = quota.maxBytesPerPeer - a.usedByPeer;
  a.perPeerBound = left < quota.maxImageSize;
  a.bytes = a.perPeerBound ? left : quota.maxImageSize;
  return a;
}

Result<void> checkImageSize(const ImageAllowance& allowance, const std::string& image,
                            std::uint64_t bytes, bool announced) {
  if (bytes <= allowance.bytes) {
    return {};
  }
  const std::string size = (announced ? "at least " : "") + units::formatBytes(bytes) +
                           (announced ? " (the layer sizes its registry announced)" : " on disk");
  if (allowance.perPeerBound) {
    return runtime::fail(
        runtime::Errc::kLimitExceeded,
        "image " + image + " is " + size + ", more than the " +
            units::formatBytes(allowance.bytes) +
            " left of your image quota on this provider (max_image_bytes_per_peer; your other "
            "deployments' images use " +
            units::formatBytes(allowance.usedByPeer) + "); stop one or use a smaller image");
  }
  return runtime::fail(runtime::Errc::kLimitExceeded,
                       "image " + image + " is " + size + ", more than this provider's limit of " +
                           units::formatBytes(allowance.bytes) +
                           " per image (max_image_size); use a smaller image");
}

}  // namespace pc::provider
