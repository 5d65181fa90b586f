// A deployment's run: per-layer pull figures folded into one progress report (pure), and the
// pull policy (missing / always / never, the provider's `always`) through the Scheduler over the
// in-memory FakeRuntime, whose `images` is the registry and `local` what the engine holds.
#include "provider/deployment_run.hpp"

#include <gtest/gtest.h>

#include "provider/scheduler.hpp"
#include "runtime/error.hpp"
#include "support/fake_runtime.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

namespace pc::provider {
namespace {

using protocol::DeploymentState;
using protocol::ImageSource;
using protocol::PullPolicy;

TEST(PullMeter, ReportsThePullAsAWholeOncePerPercent) {
  PullMeter m;
  EXPECT_FALSE(m.update({"", 10, 100}));     // not about a layer
  EXPECT_FALSE(m.update({"latest", 0, 0}));  // no size known yet
  auto r = m.update({"a", 0, 300}).value();
  EXPECT_EQ(r.percent, 0);
  EXPECT_EQ(r.bytesTotal, 300);
  EXPECT_FALSE(r.starting);
  r = m.update({"b", 50, 100}).value();  // 50 of 400
  EXPECT_EQ(r.percent, 12);
  EXPECT_EQ(r.bytesDone, 50);
  EXPECT_EQ(r.bytesTotal, 400);
  EXPECT_FALSE(m.update({"b", 51, 100}));  // still 12 %: no report
  r = m.update({"a", 300, 300}).value();
  EXPECT_EQ(r.percent, 87);
  EXPECT_FALSE(m.reportedComplete());
  r = m.update({"b", 100, 100}).value();
  EXPECT_EQ(r.percent, 100);
  EXPECT_TRUE(m.reportedComplete());
}

TEST(PullMeter, BytesBeyondALayersSizeDoNotCount) {
  PullMeter m;
  auto r = m.update({"a", 500, 100}).value();
  EXPECT_EQ(r.percent, 100);
  EXPECT_EQ(r.bytesDone, 100);
}

constexpr const char* kImage = "127.0.0.1:5055/peercompute/busybox:test";

class PullPolicyTest : public ::testing::Test {
 protected:
  net::asio::io_context io{1};
  test::TempDir dir;
  test::FakeRuntime rt{io.get_executor()};
  std::unique_ptr<Store> store = Store::open(dir.path() / Store::kFileName).value();
  std::unique_ptr<Scheduler> sched;
  std::vector<DeployProgressInfo> progress;

  void SetUp() override { rt.local.emplace(); }

  /// `alwaysPull`: the provider's `pull_policy = "always"`. `watch`: start the scheduler's tasks
  /// (deploys need them; admission does not).
  void start(bool alwaysPull = false, bool watch = true) {
    runtime::PolicyConfig pc;
    pc.allowedRegistries = {"127.0.0.1:5055"};
    SchedulerOptions opts;
    opts.alwaysPull = alwaysPull;
    opts.stopGrace = std::chrono::seconds(0);
    sched = std::make_unique<Scheduler>(io.get_executor(), rt, *store,
                                        runtime::Policy::create(pc).value(), opts);
    ASSERT_TRUE(sched->load());
    if (watch) {
      sched->start();
    }
  }
  void TearDown() override {
    if (sched) test::run(io, shutDown(*sched));
  }
  static net::asio::awaitable<bool> shutDown(Scheduler& s) {
    co_await s.shutdown(std::chrono::milliseconds(1000));
    co_return true;
  }
  static DeployParams params(const std::string& image, PullPolicy pull) {
    DeployParams p;
    p.requester = "alice";
    p.image = image;
    p.cpuMillis = 100;
    p.memoryBytes = 64ULL << 20;
    p.pull = pull;
    return p;
  }
  Deployment deploy(PullPolicy pull, const std::string& image = kImage) {
    const auto p = params(image, pull);
    auto admitted = sched->admit(p);
    EXPECT_TRUE(admitted) << admitted.error().message();
    progress.clear();
    return test::run(io, sched->run(admitted->id, p, [this](const DeployProgressInfo& i) {
      progress.push_back(i);
    }));
  }
  /// The image source the run reported, and that it said it again when starting.
  std::optional<ImageSource> reportedSource() const {
    std::optional<ImageSource> pulling;
    std::optional<ImageSource> starting;
    for (const auto& i : progress) {
      if (i.starting) {
        starting = i.imageSource;
      } else if (i.imageSource) {
        pulling = i.imageSource;
      }
    }
    EXPECT_EQ(pulling, starting);
    return pulling;
  }
  void stop(const Deployment& d) { ASSERT_TRUE(test::run(io, sched->stop("alice", d.id, true))); }
};

// The default: an image the engine holds runs without a pull — the registry is unreachable
// here — and, not being ours, it stays after the deployment stops.
TEST_F(PullPolicyTest, MissingUsesThePresentImageWithoutAPull) {
  rt.local->insert(kImage);
  start();
  const auto d = deploy(PullPolicy::kMissing);
  ASSERT_EQ(d.state, DeploymentState::kRunning) << d.error;
  EXPECT_EQ(rt.pulls, 0);
  EXPECT_EQ(reportedSource(), ImageSource::kLocal);
  EXPECT_TRUE(store->pulledImages().value().empty());
  stop(d);
  EXPECT_TRUE(rt.local->contains(kImage));
}

// An image the engine lacks is pulled, recorded as ours, and removed once unused.
TEST_F(PullPolicyTest, MissingPullsAnAbsentImage) {
  rt.images = {kImage};
  start();
  const auto d = deploy(PullPolicy::kMissing);
  ASSERT_EQ(d.state, DeploymentState::kRunning) << d.error;
  EXPECT_EQ(rt.pulls, 1);
  EXPECT_EQ(reportedSource(), ImageSource::kRegistry);
  EXPECT_TRUE(store->pulledImages().value().contains(kImage));
  stop(d);
  EXPECT_FALSE(rt.local->contains(kImage));
}

// `always` pulls an image the engine holds — the registry's error when it cannot — and the
// engine's image stays the operator's (never recorded as pulled by us, never removed).
TEST_F(PullPolicyTest, AlwaysPullsEvenAPresentImage) {
  rt.local->insert(kImage);
  start();
  const auto unreachable = deploy(PullPolicy::kAlways);
  EXPECT_EQ(unreachable.state, DeploymentState::kFailed);
  EXPECT_NE(unreachable.error.find("not found"), std::string::npos) << unreachable.error;
  EXPECT_EQ(rt.pulls, 1);
  rt.images = {kImage};
  const auto d = deploy(PullPolicy::kAlways);
  ASSERT_EQ(d.state, DeploymentState::kRunning) << d.error;
  EXPECT_EQ(rt.pulls, 2);
  EXPECT_EQ(reportedSource(), ImageSource::kRegistry);
  EXPECT_TRUE(store->pulledImages().value().empty());
  stop(d);
  EXPECT_TRUE(rt.local->contains(kImage));
}

// `never` uses the engine's copy, and fails naming the image when there is none: no pull, no
// container; an engine that cannot tell is a failure too, saying so.
TEST_F(PullPolicyTest, NeverUsesThePresentImageAndRefusesAnAbsentOne) {
  rt.images = {kImage};
  start();
  const auto absent = deploy(PullPolicy::kNever);
  EXPECT_EQ(absent.state, DeploymentState::kFailed);
  EXPECT_EQ(absent.error, std::string("image ") + kImage +
                              " is not present on the provider and --pull never was asked; "
                              "deploy with --pull missing to pull it");
  EXPECT_EQ(rt.pulls, 0);
  EXPECT_EQ(rt.creates, 0);
  rt.local->insert(kImage);
  const auto d = deploy(PullPolicy::kNever);
  ASSERT_EQ(d.state, DeploymentState::kRunning) << d.error;
  EXPECT_EQ(rt.pulls, 0);
  EXPECT_EQ(reportedSource(), ImageSource::kLocal);
  rt.local.reset();
  const auto unknown = deploy(PullPolicy::kNever);
  EXPECT_EQ(unknown.state, DeploymentState::kFailed);
  EXPECT_NE(unknown.error.find("could not tell whether image"), std::string::npos) << unknown.error;
  EXPECT_EQ(rt.pulls, 0);
}

// The provider's `pull_policy = "always"` wins over any request.
TEST_F(PullPolicyTest, ProviderAlwaysOverridesTheRequest) {
  rt.images = {kImage};
  rt.local->insert(kImage);
  start(true);
  EXPECT_EQ(sched->pullPolicy(PullPolicy::kNever), PullPolicy::kAlways);
  EXPECT_EQ(sched->pullPolicy(PullPolicy::kMissing), PullPolicy::kAlways);
  const auto d = deploy(PullPolicy::kNever);
  ASSERT_EQ(d.state, DeploymentState::kRunning) << d.error;
  EXPECT_EQ(rt.pulls, 1);
  EXPECT_EQ(reportedSource(), ImageSource::kRegistry);
}

// The allowlist holds whatever the pull policy: an image the engine already has (the operator's
// own, or one another source put there) is refused at admission, before the engine is asked
// anything — `missing` and `never` must not turn "present" into "allowed".
TEST_F(PullPolicyTest, DisallowedImageIsRefusedInEveryMode) {
  const std::string evil = "docker.io/library/busybox:latest";
  rt.images = {evil};
  rt.local->insert(evil);
  for (bool providerAlways : {false, true}) {
    start(providerAlways, false);
    for (auto pull : {PullPolicy::kMissing, PullPolicy::kAlways, PullPolicy::kNever}) {
      auto r = sched->admit(params(evil, pull));
      ASSERT_FALSE(r) << protocol::toString(pull);
      EXPECT_EQ(r.error(), runtime::Errc::kImageNotAllowed) << r.error().message();
    }
  }
  EXPECT_EQ(rt.imageInspections, 0);
  EXPECT_EQ(rt.pulls, 0);
  EXPECT_EQ(rt.creates, 0);
}

}  // namespace
}  // namespace pc::provider
