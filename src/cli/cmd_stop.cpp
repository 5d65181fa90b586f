#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/client.hpp"
#include "protocol/ids.hpp"

namespace pc::cli {
namespace {

struct StopArgs {
  std::string id;
  std::string peer;
  bool force = false;
};

int runStop(const Globals& g, const StopArgs& a) {
  auto target = peerFor(g, a.id, a.peer);
  if (!target) return reportError(target.error());
  protocol::StopRequest req;
  req.header = protocol::newRequestHeader(protocol::unixMillisNow());
  req.deploymentId = a.id;
  req.force = a.force;
  // A graceful stop waits up to the provider's grace period (10 s by default) for the container.
  constexpr std::chrono::milliseconds kDeadline{120'000};
  return runWithNode(g, kDeadline, [&](Node& node) -> net::asio::awaitable<int> {
    const std::string proto(protocol::kStopProtocol);
    auto m = co_await requestOnce(node, *target, proto, req);
    if (!m) co_return reportError(m.error().context("stop " + a.id));
    auto* r = std::get_if<protocol::StopResponse>(&m->message);
    if (r == nullptr) co_return reportError(fail(Errc::kMalformed, "unexpected answer to stop"));
    std::cout << r->deploymentId << " " << protocol::toString(r->state) << std::endl;
    co_return 0;
  });
}

}  // namespace

void addStopCommand(CLI::App& app, Globals& g) {
  auto a = std::make_shared<StopArgs>();
  auto* cmd = app.add_subcommand("stop", "Stop a deployment and remove its container");
  cmd->add_option("deployment", a->id, "Deployment id (dep-…)")->required();
  cmd->add_option("--peer", a->peer, "Provider holding it (default: the one it was deployed to)");
  cmd->add_flag("-f,--force", a->force, "Kill at once instead of SIGTERM + grace period");
  cmd->callback([&g, a] { g.exitCode = runStop(g, *a); });
}

}  // namespace pc::cli
