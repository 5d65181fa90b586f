// The pull policy over the wire: the request's `pull`, what an older client (no `pull`) gets, the
// progress's `image_source`, the audit record, and the allowlist before any of it. The policy's
// decisions themselves are tested in deployment_run_test.cpp; tests/e2e/provider_e2e.sh runs
// them against the real engine.
#include "provider/service_test_fixture.hpp"

namespace pc::provider {
namespace {

using protocol::ImageSource;
using protocol::PullPolicy;

/// The image sources the progress messages carried, in order.
std::vector<ImageSource> sourcesIn(const std::vector<Message>& msgs) {
  std::vector<ImageSource> out;
  for (const auto& m : msgs) {
    if (const auto* p = std::get_if<protocol::DeployProgress>(&m); p && p->imageSource) {
      out.push_back(*p->imageSource);
    }
  }
  return out;
}

const protocol::DeployResponse* answerOf(const std::vector<Message>& msgs) {
  return msgs.empty() ? nullptr : std::get_if<protocol::DeployResponse>(&msgs.back());
}

// An image the engine holds is used without a pull (here the registry does not have it at all),
// and the client that named `pull` is told so while pulling and again when starting.
TEST_F(ProviderTest, PullMissingUsesTheLocalImageAndSaysSo) {
  rt.images.clear();
  rt.local = std::set<std::string>{kImage};
  auto req = deployReq();
  req.pull = PullPolicy::kMissing;
  auto msgs = callOk(alice, kDeployProtocol, req, aliceId);
  const auto* r = answerOf(msgs);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->state, DeploymentState::kRunning) << r->error.value_or("");
  EXPECT_EQ(rt.pulls, 0);
  EXPECT_EQ(sourcesIn(msgs), (std::vector<ImageSource>{ImageSource::kLocal, ImageSource::kLocal}));
  bool auditedPull = false;
  for (const auto& a : auditRecords()) {
    if (a.at("event").as_string() == "deploy_accepted") {
      auditedPull = a.at("pull").as_string() == "missing";
    }
  }
  EXPECT_TRUE(auditedPull);
}

// A client from before the field sends no `pull`: it means `missing`, and the progress carries
// nothing it would refuse as unknown.
TEST_F(ProviderTest, RequestWithoutPullMeansMissingAndGetsNoImageSource) {
  rt.local = std::set<std::string>{kImage};
  auto msgs = callOk(alice, kDeployProtocol, deployReq(), aliceId);
  const auto* r = answerOf(msgs);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->state, DeploymentState::kRunning) << r->error.value_or("");
  EXPECT_EQ(rt.pulls, 0);
  EXPECT_TRUE(sourcesIn(msgs).empty());
}

TEST_F(ProviderTest, PullNeverOfAnAbsentImageFailsNamingIt) {
  rt.local = std::set<std::string>{};
  auto req = deployReq();
  req.pull = PullPolicy::kNever;
  auto msgs = callOk(alice, kDeployProtocol, req, aliceId);
  const auto* r = answerOf(msgs);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->state, DeploymentState::kFailed);
  EXPECT_EQ(r->error.value_or(""),
            std::string("image ") + kImage +
                " is not present on the provider and --pull never was asked; deploy with --pull "
                "missing to pull it");
  EXPECT_EQ(rt.pulls, 0);
  EXPECT_EQ(rt.creates, 0);
  EXPECT_TRUE(audited("deploy_failed", aliceId));
}

// The allowlist is checked on the reference before the engine is asked anything: an image the
// engine holds does not become allowed because `missing` or `never` would not pull it.
TEST_F(ProviderTest, DisallowedImagePresentLocallyIsRefusedWhateverThePull) {
  const std::string evil = "docker.io/library/nginx:1.25";
  rt.images.insert(evil);
  rt.local = std::set<std::string>{evil};
  for (auto pull : {PullPolicy::kMissing, PullPolicy::kNever, PullPolicy::kAlways}) {
    auto req = deployReq();
    req.image = evil;
    req.pull = pull;
    auto msgs = callOk(alice, kDeployProtocol, req, aliceId);
    ASSERT_NE(errorOf(msgs), nullptr) << protocol::toString(pull);
    EXPECT_EQ(errorOf(msgs)->code, "image_not_allowed");
  }
  EXPECT_EQ(rt.imageInspections, 0);
  EXPECT_EQ(rt.pulls, 0);
  EXPECT_EQ(rt.creates, 0);
}

}  // namespace
}  // namespace pc::provider
