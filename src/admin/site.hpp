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

/// The line a daemon prints at start: where the listener is and who it serves.
std::string describe(const AdminServer& server, bool withToken);

}  // namespace pc::admin
