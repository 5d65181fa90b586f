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

net::asio::awaitable<std::vector<TargetStatus>> askEachTarget(
    Node& node, const std::vector<std::string>& targets, const std::string& id) {
  std::vector<TargetStatus> out;
  for (const auto& target : targets) {
    TargetStatus t{target, std::nullopt, {}};
    protocol::StatusRequest req;
    req.header = protocol::newRequestHeader(protocol::unixMillisNow());
    if (!id.empty()) {
      req.deploymentId = id;
    }
    // (GCC 12: the message is a named local, not converted inside the co_await expression.)
    const protocol::Message msg = req;
    const std::string proto(protocol::kStatusProtocol);
    auto m = co_await requestOnce(node, target, proto, msg, kStatusAnswerWithin);
    if (!m) {
      t.error = m.error().context("status from " + target);
    } else if (auto* r = std::get_if<protocol::StatusResponse>(&m->message); r == nullptr) {
      t.error = fail(Errc::kUnexpectedAnswer, "unexpected answer to status from " + target);
    } else {
      for (auto& st : r->deployments) {
        t.rows.push_back({m->peerId, std::move(st)});
      }
    }
    out.push_back(std::move(t));
  }
  co_return out;
}

net::asio::awaitable<std::vector<PeerStatus>> collectStatus(Node& node,
                                                            const std::vector<std::string>& targets,
                                                            const std::string& id, Report& report) {
  auto each = co_await askEachTarget(node, targets, id);
  std::vector<PeerStatus> rows;
  for (auto& t : each) {
    if (t.error) {
      report.errors.push_back(std::move(*t.error));
    }
    for (auto& r : t.rows) {
      rows.push_back(std::move(r));
    }
  }
  co_return rows;
}

}  // namespace pc::cli
