#include "cli/status_query.hpp"

#include <set>

#include "cli/client.hpp"
#include "cli/deployments.hpp"
#include "cli/error.hpp"
#include "protocol/stream_protocols.hpp"

namespace pc::cli {

std::string ago(std::int64_t ms) {
  const std::int64_t s = (protocol::unixMillisNow() - ms) / 1000;
  if (s < 0) {
    return "just now";
  }
  if (s < 120) {
    return std::to_string(s) + "s ago";
  }
  if (s < 7200) {
    return std::to_string(s / 60) + "m ago";
  }
  if (s < 172800) {
    return std::to_string(s / 3600) + "h ago";
  }
  return std::to_string(s / 86400) + "d ago";
}

Result<std::vector<std::string>> statusTargets(const Globals& g, const std::string& id,
                                               const std::string& peer) {
  if (!id.empty()) {
    auto t = peerFor(g, id, peer);
    if (!t) {
      return t.error();
    }
    return std::vector<std::string>{*t};
  }
  if (!peer.empty()) {
    return std::vector<std::string>{peer};
  }
  auto book = DeploymentBook::load(g.home / DeploymentBook::kFileName);
  if (!book) {
    return book.error();
  }
  std::vector<std::string> targets;
  std::set<std::string> seen;
  for (const auto& e : book->entries()) {
    if (seen.insert(e.peerId).second) {
      targets.push_back(e.peerId);
    }
  }
  return targets;
}

net::asio::awaitable<std::vector<PeerStatus>> collectStatus(Node& node,
                                                            const std::vector<std::string>& targets,
                                                            const std::string& id, Report& report) {
  std::vector<PeerStatus> rows;
  for (const auto& target : targets) {
    protocol::StatusRequest req;
    req.header = protocol::newRequestHeader(protocol::unixMillisNow());
    if (!id.empty()) {
      req.deploymentId = id;
    }
    const std::string proto(protocol::kStatusProtocol);
    auto m = co_await requestOnce(node, target, proto, req);
    if (!m) {
      report.errors.push_back(m.error().context("status from " + target));
      continue;
    }
    auto* r = std::get_if<protocol::StatusResponse>(&m->message);
    if (r == nullptr) {
      report.errors.push_back(
          fail(Errc::kUnexpectedAnswer, "unexpected answer to status from " + target));
      continue;
    }
    for (auto& st : r->deployments) {
      rows.push_back({m->peerId, std::move(st)});
    }
  }
  co_return rows;
}

}  // namespace pc::cli
