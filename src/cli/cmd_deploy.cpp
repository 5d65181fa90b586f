#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/client.hpp"
#include "cli/deployments.hpp"
#include "cli/error.hpp"
#include "cli/json_output.hpp"
#include "core/units.hpp"
#include "protocol/stream_protocols.hpp"
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
  std::string pull = "missing";
  std::string network = "internet";
  std::string output = "table";
};

/// Pull progress on stderr, streamed as it comes: a redrawn bar on a terminal, a few plain
/// lines otherwise; or a line saying the provider's own copy of the image is used.
class ProgressView {
 public:
  explicit ProgressView(Printer& out) : out_(out), tty_(::isatty(STDERR_FILENO) == 1) {}
  void update(const protocol::DeployProgress& p) {
    if (p.imageSource) {
      source_ = p.imageSource;
    }
    if (p.phase == protocol::DeployPhase::kStarting) {
      finishBar();
      out_.streamErr("starting " + p.deploymentId + " …\n");
      return;
    }
    if (p.imageSource == protocol::ImageSource::kLocal && !announced_) {
      out_.streamErr("using the image already on the provider for " + p.deploymentId +
                     " (not pulled)\n");
      announced_ = true;
      return;
    }
    // Announced with the first figures: the provider's first message comes before it knows
    // whether it pulls.
    if (!p.percent) {
      return;
    }
    if (!announced_) {
      out_.streamErr("pulling image for " + p.deploymentId + " …\n");
      announced_ = true;
    }
    const auto pct = static_cast<int>(*p.percent);
    if (tty_) {
      drawBar(pct, p);
    } else if (pct >= nextPlain_) {
      char line[16];
      std::snprintf(line, sizeof line, "  %3d%%\n", pct);
      out_.streamErr(line);
      nextPlain_ = (pct / 25 + 1) * 25;
    }
  }
  void finishBar() {
    if (barShown_) {
      out_.streamErr("\n");
    }
    barShown_ = false;
  }
  /// Where the image came from, once the provider said it.
  [[nodiscard]] std::optional<protocol::ImageSource> source() const { return source_; }

 private:
  void drawBar(int pct, const protocol::DeployProgress& p) {
    constexpr int kWidth = 30;
    const int fill = pct * kWidth / 100;
    std::string bar(static_cast<std::size_t>(fill), '#');
    bar.append(static_cast<std::size_t>(kWidth - fill), '.');
    char percent[8];
    std::snprintf(percent, sizeof percent, "%3d%%", pct);
    out_.streamErr("\r  [" + bar + "] " + percent + "  " +
                   units::formatBytes(static_cast<std::uint64_t>(p.bytesDone.value_or(0))) + " / " +
                   units::formatBytes(static_cast<std::uint64_t>(p.bytesTotal.value_or(0))) +
                   "   ");
    barShown_ = true;
  }

  Printer& out_;
  bool tty_;
  bool announced_ = false;
  bool barShown_ = false;
  int nextPlain_ = 0;
  std::optional<protocol::ImageSource> source_;
};

/// The deploy answer: the deployment's block for people, the wire answer for `-o json`; exit
/// code 1 unless it runs.
Report deployReport(const Node& node, const protocol::DeployResponse& r, const std::string& peerId,
                    const std::string& image, std::optional<protocol::ImageSource> source) {
  Report report;
  report.json = deployJson(r, peerId, source);
  std::string from;
  if (source) {
    from = *source == protocol::ImageSource::kLocal ? " (the provider's copy, not pulled)"
                                                    : " (pulled)";
  }
  report.text = "Deployment " + r.deploymentId + " on " + peerLabel(node, peerId) + "\n" +
                "  state: " + std::string(protocol::toString(r.state)) + "\n" +
                "  image: " + image + from + "\n";
  if (r.url) {
    report.text += "  url:   " + *r.url + "\n";
  }
  // The provider's gateways answered different URLs (different domains): each one serves it.
  for (std::size_t i = 1; i < r.urls.size(); ++i) {
    report.text += "         " + r.urls[i] + "\n";
  }
  if (r.error) {
    report.text += "  error: " + *r.error + "\n";
  }
  report.exitCode = r.state == protocol::DeploymentState::kRunning ? 0 : 1;
  return report;
}

/// The error for a deploy stream that ended before its answer (`read` failed or was empty).
Error lostProvider(const Result<std::optional<protocol::Message>>& read, const std::string& depId) {
  Error e = !read ? read.error()
                  : Error(net::make_error_code(net::Errc::kClosed),
                          "the provider closed the stream without an answer");
  if (!depId.empty()) {
    e = e.context("lost the provider while deploying " + depId +
                  " (it may still start: check `peerctl status " + depId + "`)");
  }
  return e;
}

/// Remembers `depId` as soon as the provider names it, so status/stop find it even if this
/// command is interrupted; a failure to write only warns.
void remember(const Globals& g, Printer& out, const std::string& depId, const std::string& peerId,
              const std::string& image) {
  if (auto r =
          DeploymentBook::remember(g.home / DeploymentBook::kFileName, {depId, peerId, image, ""});
      !r) {
    out.streamErr("warning: " + r.error().message() + "\n");
  }
}

net::asio::awaitable<Report> deploy(const Globals& g, Node& node,
                                    const protocol::DeployRequest& req, const std::string& peer) {
  auto conn = co_await connectPeer(node, peer);
  if (!conn) {
    co_return Report::failure(conn.error());
  }
  const std::string peerId = (*conn)->peer.toBase58();
  const std::string proto(protocol::kDeployProtocol);
  auto s = co_await sendRequest(node, *conn, proto, req);
  if (!s) {
    co_return Report::failure(s.error().context("deploy"));
  }
  rpc::MessageReader reader(**s);
  ProgressView view(node.out);
  std::string depId;
  while (true) {
    auto m = co_await reader.next();
    if (!m || !*m) {
      view.finishBar();
      co_return Report::failure(lostProvider(m, depId));
    }
    if (auto* p = std::get_if<protocol::DeployProgress>(&**m)) {
      if (depId.empty()) {
        depId = p->deploymentId;
        remember(g, node.out, depId, peerId, req.image);
      }
      if (node.out.format() != OutputFormat::kJson) {
        view.update(*p);
      }
      continue;
    }
    view.finishBar();
    if (auto* e = std::get_if<protocol::ErrorMessage>(&**m)) {
      co_return Report::failure(providerError(*e));
    }
    auto* r = std::get_if<protocol::DeployResponse>(&**m);
    if (r == nullptr) {
      co_return Report::failure(Error(net::make_error_code(net::Errc::kProtocolError),
                                      "the provider sent an unexpected message"));
    }
    co_return deployReport(node, *r, peerId, req.image, view.source());
  }
}

/// The request the flags describe; errors name the flag.
Result<protocol::DeployRequest> requestFrom(const DeployArgs& a) {
  protocol::DeployRequest req;
  req.header = protocol::newRequestHeader(protocol::unixMillisNow());
  req.image = a.image;
  req.command = a.command;
  auto cpu = units::parseCpu(a.cpu);
  if (!cpu) {
    return cpu.error().context("--cpu");
  }
  req.cpuMillicores = *cpu;
  auto mem = units::parseBytes(a.memory);
  if (!mem) {
    return mem.error().context("--memory");
  }
  req.memoryBytes = static_cast<std::int64_t>(*mem);
  if (a.expose != 0) {
    req.exposePort = static_cast<std::uint16_t>(a.expose);
  }
  for (const auto& kv : a.env) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return fail(Errc::kBadArgument, "--env " + kv + ": expected NAME=value");
    }
    req.env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto timeout = units::parseDuration(a.timeout);
  if (!timeout) {
    return timeout.error().context("--timeout");
  }
  req.timeoutSeconds =
      std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(*timeout).count());
  // Sent even for the default: the provider then says whether it pulled (image_source).
  req.pull = protocol::pullPolicyFromString(a.pull);
  if (!req.pull) {
    return fail(Errc::kBadArgument, "--pull " + a.pull + ": expected missing, always or never");
  }
  // Sent only when it narrows: the default is what every provider applies anyway.
  if (a.network == "none") req.network = protocol::DeployNetwork::kNone;
  return req;
}

Report runDeploy(const Globals& g, const DeployArgs& a, Printer& out) {
  auto req = requestFrom(a);
  if (!req) {
    return Report::failure(req.error());
  }
  // The provider enforces the deploy timeout; ours adds room for connecting and answering.
  const auto deadline = std::chrono::milliseconds(req->timeoutSeconds * 1000 + 60'000);
  return runWithNode(g, out, deadline, [&](Node& node) { return deploy(g, node, *req, a.peer); });
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
  cmd->add_option("--cpu,--cpus", a->cpu,
                  "CPU limit in cores (0.5) or millicores (500m); --cpus as in docker")
      ->capture_default_str();
  cmd->add_option("-m,--memory", a->memory, "Memory limit (e.g. 256M, 1G); no swap")
      ->capture_default_str();
  cmd->add_option("--expose", a->expose, "Container TCP port to publish")
      ->check(CLI::Range(1, 65535));
  cmd->add_option("-e,--env", a->env, "Environment variable NAME=value (repeatable)");
  cmd->add_option("--timeout", a->timeout, "Deadline for pull + start (e.g. 90s, 5m)")
      ->capture_default_str();
  cmd->add_option("--pull", a->pull,
                  "Pull the image: missing (only when the provider lacks it), always, or never "
                  "(use the provider's copy); the provider may insist on always")
      ->check(CLI::IsMember({"missing", "always", "never"}))
      ->capture_default_str();
  cmd->add_option("--network", a->network,
                  "What the container may open: internet (public addresses, as the provider's "
                  "egress policy allows) or none (nothing; its exposed port still works)")
      ->check(CLI::IsMember({"internet", "none"}))
      ->capture_default_str();
  cmd->add_option("-o,--output", a->output, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->callback([&g, a] {
    g.exitCode =
        runPrinted(outputFormat(a->output), [&](Printer& out) { return runDeploy(g, *a, out); });
  });
}

}  // namespace pc::cli
