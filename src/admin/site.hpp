#pragma once
/// The admin listener as both daemons run it: the token (if any) loaded, the address parsed and
/// bound, and the same pages —
///   /                  the daemon's dashboard (HTML, embedded in the binary: assets.hpp)
///   /assets/<file>     its CSS and JS (embedded too; nothing is fetched from elsewhere)
///   /metrics           the Prometheus text exposition
///   /api/summary       the JSON the dashboard polls
/// The daemon supplies the page's name and two functions that read its state (on its thread).
#include <functional>
#include <memory>
#include <string>

#include "admin/server.hpp"
#include "admin/settings.hpp"
#include "net/task_group.hpp"

namespace pc::admin {

struct SiteOptions {
  std::string daemon;  ///< "peergateway" | "peercomputed": logs, and the page <daemon>.html
  std::function<std::string()> metrics;  ///< the exposition text
  std::function<std::string()> summary;  ///< the dashboard's JSON
};

/// Starts the admin listener of `settings` (which must have `listen` set). Errors: the token
/// file (unreadable, shared with group/others, too short), the address (taken, not ours).
Result<std::shared_ptr<AdminServer>> startSite(const net::asio::any_io_executor& ex,
                                               const AdminSettings& settings, SiteOptions site);

/// Site functions that read `T`'s metricsText() and summaryJson() through a weak pointer: a
/// scrape in flight at shutdown finds the observer gone and answers nothing rather than reading
/// freed parts.
template <class T>
SiteOptions siteReading(std::string daemon, std::weak_ptr<T> weak) {
  SiteOptions site;
  site.daemon = std::move(daemon);
  site.metrics = [weak] {
    auto self = weak.lock();
    return self ? self->metricsText() : std::string();
  };
  site.summary = [weak] {
    auto self = weak.lock();
    return self ? self->summaryJson() : std::string("{}");
  };
  return site;
}

/// A daemon's admin side at run time: the listener serving its pages and the sampler that keeps
/// its observer's rates. The observer owns one.
class Site {
 public:
  explicit Site(const net::asio::any_io_executor& ex) : ex_(ex), tasks_(ex) {}

  /// startSite(); the listener is kept until close().
  Result<void> open(const AdminSettings& settings, SiteOptions site);
  /// Starts the sampler (a function object returning an awaitable, as TaskGroup::spawn).
  template <class F>
  void spawnSampler(F f) {
    tasks_.spawn(std::move(f));
  }
  [[nodiscard]] const AdminServer& server() const { return *server_; }
  /// Clients the listener refused (0 before open()).
  [[nodiscard]] std::uint64_t refused() const { return server_ ? server_->refused() : 0; }

  /// Stops the listener and the sampler at once.
  void close();
  /// close(), then waits for the listener's connections and the sampler to end. Not
  /// cancel-safe: the owner's last step.
  net::asio::awaitable<void> shutdown();

 private:
  net::asio::any_io_executor ex_;
  std::shared_ptr<AdminServer> server_;
  net::TaskGroup tasks_;
};

/// The line a daemon prints at start: where the listener is and who it serves.
std::string describe(const AdminServer& server, bool withToken);

}  // namespace pc::admin
