#pragma once
/// The provider's deployment state in memory: the committed records (the Store is the truth; a
/// record changes here only after it reached the disk), and what is known but not persisted —
/// container addresses, deploys in progress and stops in progress.
///
/// Threading: one executor (the daemon's single io_context thread); nothing here is thread-safe.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "net/asio.hpp"
#include "provider/store.hpp"

namespace pc::provider {

/// A deploy between admission and the end of its run. The deadline timer doubles as the stop
/// request (a stop sets `stopRequested` and cancels it), and `settled` wakes the stop callers
/// when the run has finished (`done`).
struct DeployControl {
  explicit DeployControl(const net::asio::any_io_executor& ex) : deadline(ex), settled(ex) {}
  net::asio::steady_timer deadline;
  net::Signal settled;
  bool stopRequested = false;
  bool done = false;
};

/// Publishes a deployment that just started with an exposed port (the tunnels register it at
/// the gateways) and returns its public URLs: distinct, the first gateway's first; empty when
/// no gateway answered.
using Publisher = std::function<net::asio::awaitable<std::vector<std::string>>(Deployment)>;

/// `d` turned failed with `why` (its finish time kept if known, else now).
Deployment failedWith(Deployment d, std::string why);
/// The URL of a port published on the loopback interface: "http://127.0.0.1:<port>/".
std::string loopbackUrl(std::uint16_t port);

class Records {
 public:
  explicit Records(Store& store) : store_(store) {}

  /// Loads every record from the store. Errors: the store's.
  Result<void> load();
  /// Commits `d`, then keeps it and tells the listener. A finished deployment's address is
  /// forgotten. Errors: the store's (logged; nothing changes in memory then).
  Result<void> save(Deployment d);
  /// Keeps `d` in memory only (after a save failed, so callers still see the outcome; the next
  /// start reconciles the record on disk).
  void keep(Deployment d) { records_[d.id] = std::move(d); }
  /// Records (new) public URLs for a running deployment (Deployment::setUrls).
  void setUrls(const std::string& id, const std::vector<std::string>& urls);

  [[nodiscard]] const Deployment* find(const std::string& id) const;
  [[nodiscard]] bool contains(const std::string& id) const { return records_.contains(id); }
  [[nodiscard]] const std::map<std::string, Deployment>& all() const { return records_; }
  /// Adds a listener told about every committed change (the tunnel, the metrics).
  void onChange(std::function<void(const Deployment&)> listener) {
    onChange_.push_back(std::move(listener));
  }

  /// The container address of a running deployment (learnt at start or adoption).
  void setAddress(const std::string& id, std::string address) {
    addresses_[id] = std::move(address);
  }
  [[nodiscard]] std::optional<std::string> address(const std::string& id) const;

  /// Deploys in progress (admitted, run not finished).
  std::shared_ptr<DeployControl> beginDeploy(const std::string& id,
                                             const net::asio::any_io_executor& ex);
  [[nodiscard]] std::shared_ptr<DeployControl> deploying(const std::string& id) const;
  void endDeploy(const std::string& id) { deploying_.erase(id); }

  /// Images this provider pulled, with their sizes (Store::pulledImages; loaded by load()).
  [[nodiscard]] const std::map<std::string, std::uint64_t>& pulledImages() const { return pulled_; }
  /// Records that this provider pulled `image` (committed first). Errors: the store's.
  Result<void> addPulledImage(const std::string& image, std::uint64_t bytes);
  /// Forgets a pulled image (after it was removed). Errors: the store's.
  Result<void> forgetPulledImage(const std::string& image);

  /// Stops in progress (one at a time per deployment).
  void beginStop(const std::string& id) { stopping_.insert(id); }
  void endStop(const std::string& id) { stopping_.erase(id); }
  [[nodiscard]] bool stopping(const std::string& id) const { return stopping_.contains(id); }
  /// True while a deploy or a stop of `id` is in progress (reconciliation leaves it alone).
  [[nodiscard]] bool busy(const std::string& id) const {
    return deploying_.contains(id) || stopping_.contains(id);
  }

 private:
  Store& store_;
  std::map<std::string, Deployment> records_;
  /// Container addresses of running deployments (not persisted: learnt again on adoption).
  std::map<std::string, std::string> addresses_;
  std::map<std::string, std::shared_ptr<DeployControl>> deploying_;
  std::set<std::string> stopping_;
  std::map<std::string, std::uint64_t> pulled_;
  std::vector<std::function<void(const Deployment&)>> onChange_;
};

}  // namespace pc::provider
