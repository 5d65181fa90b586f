#pragma once
/// The public URLs of the provider's deployments, as its gateways answered them. Each gateway
/// answers a route registration with the URL it serves the deployment at; gateways of one
/// domain answer the same URL, gateways of different domains different ones. A deployment's
/// URLs are the distinct answers in the configured order of the gateways, so the first is the
/// first gateway's that answered (it becomes `url` in deploy and status answers; the list is
/// `urls` when it holds more than one).
///
/// Pure bookkeeping, no I/O; one thread (the node's executor). Bounded by its owner: an entry
/// is made only for a deployment being published or running, and forgotten when it leaves
/// `running` (at most one URL per gateway each).
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pc::provider {

class PublicUrls {
 public:
  /// `gateways`: how many gateways answer (their indexes are 0 … gateways-1).
  explicit PublicUrls(std::size_t gateways) : gateways_(gateways) {}

  /// Records gateway `gateway`'s answer for deployment `id` (a later answer replaces an
  /// earlier one). Returns the deployment's URLs when they changed, nullopt otherwise (the
  /// same answer again; a gateway index out of range).
  std::optional<std::vector<std::string>> set(const std::string& id, std::size_t gateway,
                                              std::string url);
  /// The distinct URLs of `id`, in gateway order; empty when no gateway has answered.
  [[nodiscard]] std::vector<std::string> urls(const std::string& id) const;
  /// Forgets `id` (it left `running`, its routes were withdrawn).
  void forget(const std::string& id) { answers_.erase(id); }
  /// Deployments with at least one answer.
  [[nodiscard]] std::size_t size() const { return answers_.size(); }

 private:
  static std::vector<std::string> distinct(const std::vector<std::optional<std::string>>& byGw);

  std::size_t gateways_;
  /// Per deployment, per gateway index: the URL that gateway answered, if any.
  std::map<std::string, std::vector<std::optional<std::string>>> answers_;
};

}  // namespace pc::provider
