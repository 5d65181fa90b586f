#pragma once
/// peerctl's memory of which peer holds which deployment (`deployments.json` in its home), so
/// `status`, `logs` and `stop` need only the deployment id. Changes are locked
/// read-modify-writes with an atomic replace, like the trust list.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace pc::cli {

struct DeploymentRef {
  std::string id;      ///< dep-…
  std::string peerId;  ///< the provider's PeerId (base58)
  std::string image;
  std::string createdAt;  ///< RFC 3339
};

class DeploymentBook {
 public:
  static constexpr const char* kFileName = "deployments.json";
  /// Bounds the file: the oldest entries are forgotten past this many.
  static constexpr std::size_t kMaxEntries = 10000;

  /// A missing file is an empty book; a corrupt one is an error saying how to recover.
  static Result<DeploymentBook> load(const std::filesystem::path& path);
  /// Adds (or replaces) `ref` under the file lock.
  static Result<void> remember(const std::filesystem::path& path, DeploymentRef ref);

  [[nodiscard]] const std::vector<DeploymentRef>& entries() const { return entries_; }
  [[nodiscard]] const DeploymentRef* find(std::string_view id) const;

 private:
  std::vector<DeploymentRef> entries_;
};

}  // namespace pc::cli
