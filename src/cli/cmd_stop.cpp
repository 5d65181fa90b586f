#include <CLI/CLI.hpp>

#include "cli/client.hpp"
#include "cli/error.hpp"
#include "protocol/stream_protocols.hpp"

namespace pc::cli {
namespace {

struct StopArgs {
  std::string id;
  std::string peer;
  bool force = false;
};

Report runStop(const Globals& g, const StopArgs& a, Printer& out) {
  auto target = peerFor(g, a.id, a.peer);
  if (!target) {
    return Report::failure(target.error());
  }
  protocol::StopRequest req;
  req.header = protocol::newRequestHeader(protocol::unixMillisNow());
  req.deploymentId = a.id;
  req.force = a.force;
  // A graceful stop waits up to the provider's grace period (10 s by default) for the container.
  constexpr std::chrono::milliseconds kDeadline{120'000};
  return runWithNode(g, out, kDeadline, [&](Node& node) -> net::asio::awaitable<Report> {
    const std::string proto(protocol::kStopProtocol);
    const protocol::Message msg = req;  // a named local, not converted inside the co_await (GCC 12)
    auto m = co_await requestOnce(node, *target, proto, msg);
    if (!m) {
      co_return Report::failure(m.error().context("stop " + a.id));
    }
    auto* r = std::get_if<protocol::StopResponse>(&m->message);
    if (r == nullptr) {
      co_return Report::failure(fail(Errc::kUnexpectedAnswer, "unexpected answer to stop"));
    }
    co_return Report::ofText(r->deploymentId + " " + std::string(protocol::toString(r->state)) +
                             "\n");
  });
}

}  // namespace

void addStopCommand(CLI::App& app, Globals& g) {
  auto a = std::make_shared<StopArgs>();
  auto* cmd = app.add_subcommand("stop", "Stop a deployment and remove its container");
  cmd->add_option("deployment", a->id, "Deployment id (dep-…)")->required();
  cmd->add_option("--peer", a->peer, "Provider holding it (default: the one it was deployed to)");
  cmd->add_flag("-f,--force", a->force, "Kill at once instead of SIGTERM + grace period");
  cmd->callback([&g, a] {
    g.exitCode =
        runPrinted(OutputFormat::kTable, [&](Printer& out) { return runStop(g, *a, out); });
  });
}

}  // namespace pc::cli
