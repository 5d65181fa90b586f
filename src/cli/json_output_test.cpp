#include "cli/json_output.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace pc::cli {
namespace {

namespace json = boost::json;

protocol::DeploymentStatus fullStatus() {
  protocol::DeploymentStatus st;
  st.deploymentId = "dep-abcdefghijklmnop";
  st.image = "nginx:1.25";
  st.state = protocol::DeploymentState::kFailed;
  st.startedAtMs = 1700000000000;
  st.url = "http://dep-abcdefghijklmnop.example/";
  st.cpuUsageMillicores = 12;
  st.memoryBytes = 1 << 20;
  st.memoryLimit = 256 << 20;
  st.exitCode = 3;
  st.error = "exited with code 3";
  return st;
}

TEST(StatusJson, IsTheWireEntryWithThePeer) {
  const auto st = fullStatus();
  const auto doc = json::parse(statusJson({{"12D3KooWpeer", st}})).as_array();
  ASSERT_EQ(doc.size(), 1u);
  auto entry = doc.at(0).as_object();
  EXPECT_EQ(entry.at("peer_id"), json::value("12D3KooWpeer"));
  EXPECT_EQ(entry.begin()->key(), "deployment_id");
  EXPECT_EQ(std::next(entry.begin())->key(), "peer_id");
  entry.erase("peer_id");
  // Without peer_id the entry is exactly what the provider sent: the wire decoder takes it.
  const auto wire = json::serialize(json::object{{"deployments", json::array{entry}}});
  auto back = protocol::fromJsonAs<protocol::StatusResponse>(wire);
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_EQ(back->deployments.size(), 1u);
  EXPECT_EQ(back->deployments[0], st);
}

TEST(StatusJson, OmitsAbsentFieldsLikeTheWire) {
  protocol::DeploymentStatus st;
  st.deploymentId = "dep-abcdefghijklmnop";
  st.image = "x";
  st.state = protocol::DeploymentState::kPending;
  st.memoryLimit = 64 << 20;
  const auto entry = json::parse(statusJson({{"p", st}})).as_array().at(0).as_object();
  EXPECT_EQ(entry.size(), 5u);  // deployment_id, peer_id, image, state, memory_limit
  EXPECT_EQ(entry.at("state"), json::value("pending"));
  EXPECT_EQ(entry.at("memory_limit"), json::value(64 << 20));
  EXPECT_EQ(statusJson({}), "[]");
}

TEST(DeployJson, IsTheWireAnswerWithThePeer) {
  protocol::DeployResponse r;
  r.deploymentId = "dep-abcdefghijklmnop";
  r.state = protocol::DeploymentState::kRunning;
  r.url = "http://127.0.0.1:32768/";
  const auto o = json::parse(deployJson(r, "12D3KooWpeer")).as_object();
  EXPECT_EQ(o.at("deployment_id"), json::value(r.deploymentId));
  EXPECT_EQ(o.at("peer_id"), json::value("12D3KooWpeer"));
  EXPECT_EQ(o.at("state"), json::value("running"));
  EXPECT_EQ(o.at("url"), json::value(*r.url));
  EXPECT_FALSE(o.contains("error"));
  EXPECT_FALSE(o.contains("image_source"));
  const auto local =
      json::parse(deployJson(r, "12D3KooWpeer", protocol::ImageSource::kLocal)).as_object();
  EXPECT_EQ(local.at("image_source"), json::value("local"));
}

// Gateways of different domains: `-o json` carries every URL as the provider sent them.
TEST(DeployJson, EveryUrlOfGatewaysOfDifferentDomains) {
  protocol::DeployResponse r;
  r.deploymentId = "dep-abcdefghijklmnop";
  r.state = protocol::DeploymentState::kRunning;
  r.url = "https://dep-abcdefghijklmnop.a.example/";
  r.urls = {*r.url, "https://dep-abcdefghijklmnop.b.example/"};
  const auto o = json::parse(deployJson(r, "12D3KooWpeer")).as_object();
  EXPECT_EQ(o.at("url"), json::value(*r.url));
  EXPECT_EQ(o.at("urls"), (json::array{json::value(r.urls[0]), json::value(r.urls[1])}));
  auto st = fullStatus();
  st.urls = {*st.url, "https://dep-abcdefghijklmnop.b.example/"};
  auto entry = json::parse(statusJson({{"p", st}})).as_array().at(0).as_object();
  EXPECT_EQ(entry.at("urls").as_array().size(), 2U);
}

TEST(FoundPeersJson, NameIsNullWhenNotTrusted) {
  const auto doc =
      json::parse(foundPeersJson({{"A", {"/ip4/1.2.3.4/tcp/1"}, "alice"}, {"B", {}, std::nullopt}}))
          .as_array();
  ASSERT_EQ(doc.size(), 2u);
  EXPECT_EQ(doc[0].at("trusted"), json::value(true));
  EXPECT_EQ(doc[0].at("name"), json::value("alice"));
  EXPECT_EQ(doc[0].at("addrs").as_array().at(0), json::value("/ip4/1.2.3.4/tcp/1"));
  EXPECT_EQ(doc[1].at("trusted"), json::value(false));
  EXPECT_TRUE(doc[1].at("name").is_null());
}

}  // namespace
}  // namespace pc::cli
