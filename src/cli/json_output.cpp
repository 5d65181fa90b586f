#include "cli/json_output.hpp"

#include <boost/json.hpp>

namespace pc::cli {
namespace json = boost::json;
namespace {

/// `m` as the wire writes it. protocol::toJson only writes what it validated, so this parses.
json::object wireObject(const protocol::Message& m) {
  return json::parse(protocol::toJson(m)).as_object();
}

/// `wire` with `peer_id` inserted after its `deployment_id`, the other members in wire order.
json::object withPeer(const json::object& wire, const std::string& peerId) {
  json::object o;
  o["deployment_id"] = wire.at("deployment_id");
  o["peer_id"] = peerId;
  for (const auto& member : wire) {
    if (member.key() != "deployment_id") {
      o[member.key()] = member.value();
    }
  }
  return o;
}

json::array stringArray(const std::vector<std::string>& items) {
  json::array arr;
  for (const auto& s : items) {
    arr.emplace_back(s);
  }
  return arr;
}

}  // namespace

std::string statusJson(const std::vector<PeerStatus>& rows) {
  json::array arr;
  for (const auto& row : rows) {
    const protocol::Message wire = protocol::StatusResponse{{row.status}};
    const json::object whole = wireObject(wire);
    arr.emplace_back(withPeer(whole.at("deployments").as_array().at(0).as_object(), row.peerId));
  }
  return json::serialize(arr);
}

std::string deployJson(const protocol::DeployResponse& r, const std::string& peerId,
                       std::optional<protocol::ImageSource> source) {
  auto o = withPeer(wireObject(r), peerId);
  if (source) {
    o["image_source"] = protocol::toString(*source);
  }
  return json::serialize(o);
}

std::string trustedPeersJson(const std::vector<trust::TrustedPeer>& peers) {
  json::array arr;
  for (const auto& p : peers) {
    std::vector<std::string> addrs;
    for (const auto& a : p.addrs) {
      addrs.push_back(a.toString());
    }
    arr.emplace_back(json::object{{"peer_id", p.id.toBase58()},
                                  {"name", p.name},
                                  {"addrs", stringArray(addrs)},
                                  {"added_at", p.addedAt}});
  }
  return json::serialize(arr);
}

std::string foundPeersJson(const std::vector<FoundPeer>& peers) {
  json::array arr;
  for (const auto& p : peers) {
    json::object o{{"peer_id", p.peerId}, {"addrs", stringArray(p.addrs)}};
    o["trusted"] = p.trustedAs.has_value();
    o["name"] = p.trustedAs ? json::value(*p.trustedAs) : json::value(nullptr);
    arr.emplace_back(std::move(o));
  }
  return json::serialize(arr);
}

}  // namespace pc::cli
