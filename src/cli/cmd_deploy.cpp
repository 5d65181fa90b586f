#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <iostream>

#include "cli/client.hpp"
#include "cli/deployments.hpp"
#include "core/units.hpp"
#include "protocol/ids.hpp"
#include "rpc/message_stream.hpp"

namespace pc::cli {
namespace {

struct DeployArgs {
  std::string image;
  std::vector<std::string> command;
  std::string peer;
  std::string cpu = "0.5";
  std::string memory = "256M";
  int expose = 0;
  std::vector<std::string> env;
  std::string timeout = "5m";
  std::string output = "table";
};

/// Pull progress on stderr: a redrawn bar on a terminal, a few plain lines otherwise.
class ProgressView {
 public:
  ProgressView() : tty_(::isatty(STDERR_FILENO) == 1) {}
  void update(const protocol::DeployProgress& p) {
    if (p.phase == protocol::DeployPhase::kStarting) {
      finishBar();
      std::fprintf(stderr, "starting %s …\n", p.deploymentId.c_str());
      return;
    }
    if (!announced_) {
      std::fprintf(stderr, "pulling image for %s …\n", p.deploymentId.c_str());
      announced_ = true;
    }
    if (!p.percent) return;
    const auto pct = static_cast<int>(*p.percent);
    if (tty_) {
      constexpr int kWidth = 30;
      const int fill = pct * kWidth / 100;
      std::string bar(static_cast<std::size_t>(fill), '#');
      bar.append(static_cast<std::size_t>(kWidth - fill), '.');
      std::fprintf(
          stderr, "\r  [%s] %3d%%  %s / %s   ", bar.c_str(), pct,
          units::formatBytes(static_cast<std::uint64_t>(p.bytesDone.value_or(0))).c_str(),
          units::formatBytes(static_cast<std::uint64_t>(p.bytesTotal.value_or(0))).c_str());
      barShown_ = true;
    } else if (pct >= nextPlain_) {
      std::fprintf(stderr, "  %3d%%\n", pct);
      nextPlain_ = (pct / 25 + 1) * 25;
    }
    std::fflush(stderr);
  }
  void finishBar() {
    if (barShown_) std::fputc('\n', stderr);
    barShown_ = false;
  }

 private:
  bool tty_;
  bool announced_ = false;
  bool barShown_ = false;
  int nextPlain_ = 0;
};

net::asio::awaitable<int> deploy(const Globals& g, Node& node, const DeployArgs& a,
                                 const protocol::DeployRequest& req) {
  auto conn = co_await connectPeer(node, a.peer);
  if (!conn) co_return reportError(conn.error());
  const std::string peerId = (*conn)->peer.toBase58();
  const std::string proto(protocol::kDeployProtocol);
  auto s = co_await sendRequest(node, *conn, proto, req);
  if (!s) co_return reportError(s.error().context("deploy"));
  rpc::MessageReader reader(**s);
  ProgressView view;
  std::string depId;
  while (true) {
    auto m = co_await reader.next();
    if (!m || !*m) {
      view.finishBar();
      Error e = !m ? m.error()
                   : Error(net::make_error_code(net::Errc::kClosed),
                           "the provider closed the stream without an answer");
      if (!depId.empty()) {
        e = e.context("lost the provider while deploying " + depId +
                      " (it may still start: check `peerctl status " + depId + "`)");
      }
      co_return reportError(e);
    }
    if (auto* p = std::get_if<protocol::DeployProgress>(&**m)) {
      if (depId.empty()) {
        depId = p->deploymentId;
        // Remembered as soon as the provider names it, so status/stop find it even if this
        // command is interrupted.
        if (auto r = DeploymentBook::remember(g.home / DeploymentBook::kFileName,
                                              {depId, peerId, req.image, ""});
            !r) {
          std::cerr << "warning: " << r.error().message() << "\n";
        }
      }
      if (a.output != "json") view.update(*p);
      continue;
    }
    view.finishBar();
    if (auto* e = std::get_if<protocol::ErrorMessage>(&**m)) {
      co_return reportError(providerError(*e));
    }
    auto* r = std::get_if<protocol::DeployResponse>(&**m);
    if (r == nullptr) {
      co_return reportError(Error(net::make_error_code(net::Errc::kProtocolError),
                                  "the provider sent an unexpected message"));
    }
    if (a.output == "json") {
      boost::json::object o{{"deployment_id", r->deploymentId},
                            {"peer_id", peerId},
                            {"state", std::string(protocol::toString(r->state))}};
      if (r->url) o["url"] = *r->url;
      if (r->error) o["error"] = *r->error;
      std::cout << boost::json::serialize(o) << std::endl;
    } else {
      std::cout << "Deployment " << r->deploymentId << " on " << peerLabel(node, peerId) << "\n"
                << "  state: " << protocol::toString(r->state) << "\n"
                << "  image: " << req.image << "\n";
      if (r->url) std::cout << "  url:   " << *r->url << "\n";
      if (r->error) std::cout << "  error: " << *r->error << "\n";
      std::cout << std::flush;
    }
    co_return r->state == protocol::DeploymentState::kRunning ? 0 : 1;
  }
}

int runDeploy(const Globals& g, const DeployArgs& a) {
  protocol::DeployRequest req;
  req.header = protocol::newRequestHeader(protocol::unixMillisNow());
  req.image = a.image;
  req.command = a.command;
  auto cpu = units::parseCpu(a.cpu);
  if (!cpu) return reportError(cpu.error().context("--cpu"));
  req.cpuMillicores = *cpu;
  auto mem = units::parseBytes(a.memory);
  if (!mem) return reportError(mem.error().context("--memory"));
  req.memoryBytes = static_cast<std::int64_t>(*mem);
  if (a.expose != 0) req.exposePort = static_cast<std::uint16_t>(a.expose);
  for (const auto& kv : a.env) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return reportError(fail(Errc::kInvalidArgument, "--env " + kv + ": expected NAME=value"));
    }
    req.env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto timeout = units::parseDuration(a.timeout);
  if (!timeout) return reportError(timeout.error().context("--timeout"));
  req.timeoutSeconds =
      std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(*timeout).count());
  // The provider enforces the deploy timeout; ours adds room for connecting and answering.
  const auto deadline = std::chrono::milliseconds(req.timeoutSeconds * 1000 + 60'000);
  return runWithNode(g, deadline, [&](Node& node) { return deploy(g, node, a, req); });
}

}  // namespace

void addDeployCommand(CLI::App& app, Globals& g) {
  auto a = std::make_shared<DeployArgs>();
  auto* cmd = app.add_subcommand("deploy", "Run a container on a trusted peer");
  cmd->add_option("image", a->image, "Image reference (e.g. docker.io/library/nginx:1.25)")
      ->required();
  cmd->add_option("command", a->command,
                  "Command and arguments replacing the image's CMD (put -- before them)");
  cmd->add_option("--peer", a->peer, "Provider: trusted peer name or id, or a multiaddr")
      ->required();
  cmd->add_option("--cpu", a->cpu, "CPU limit in cores (0.5) or millicores (500m)")
      ->capture_default_str();
  cmd->add_option("--memory", a->memory, "Memory limit (e.g. 256M, 1G); no swap")
      ->capture_default_str();
  cmd->add_option("--expose", a->expose, "Container TCP port to publish")
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--env", a->env, "Environment variable NAME=value (repeatable)");
  cmd->add_option("--timeout", a->timeout, "Deadline for pull + start (e.g. 90s, 5m)")
      ->capture_default_str();
  cmd->add_option("-o,--output", a->output, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->callback([&g, a] { g.exitCode = runDeploy(g, *a); });
}

}  // namespace pc::cli
