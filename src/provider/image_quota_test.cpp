// Issue 14 item 9: pulled images were never removed and nothing bounded their size. The pure
// decisions first, then a scheduler over an engine stand-in that knows images.
#include "provider/image_quota.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "provider/scheduler.hpp"
#include "runtime/error.hpp"
#include "support/fake_runtime.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

namespace pc::provider {
namespace {

using protocol::DeploymentState;
constexpr std::uint64_t kMiB = 1ULL << 20;

Deployment dep(std::string id, std::string requester, std::string image, DeploymentState state,
               std::string container = "") {
  Deployment d;
  d.id = std::move(id);
  d.requester = std::move(requester);
  d.image = std::move(image);
  d.state = state;
  d.containerId = std::move(container);
  return d;
}

std::map<std::string, Deployment> records(std::vector<Deployment> ds) {
  std::map<std::string, Deployment> out;
  for (auto& d : ds) out.emplace(d.id, std::move(d));
  return out;
}

TEST(ImageQuota, ImagesInUseAndUnused) {
  const auto rs = records({dep("d1", "alice", "img/a", DeploymentState::kRunning),
                           dep("d2", "alice", "img/b", DeploymentState::kStopped, "gone"),
                           dep("d3", "bob", "img/c", DeploymentState::kFailed, "cid"),
                           dep("d4", "bob", "img/d", DeploymentState::kFailed)});
  const std::map<std::string, std::uint64_t> pulled{
      {"img/a", 1}, {"img/b", 1}, {"img/c", 1}, {"img/d", 1}, {"img/e", 1}};
  EXPECT_TRUE(imageInUse(rs, "img/a"));
  EXPECT_TRUE(imageInUse(rs, "img/c"));  // its failed container is kept for the logs
  EXPECT_FALSE(imageInUse(rs, "img/b"));
  EXPECT_EQ(unusedPulledImages(rs, pulled), (std::vector<std::string>{"img/b", "img/d", "img/e"}));
}

TEST(ImageQuota, AllowanceIsThePerImageLimitOrWhatIsLeftOfThePeers) {
  const ImageQuota q{100 * kMiB, 250 * kMiB};
  const auto rs = records({dep("d1", "alice", "img/a", DeploymentState::kRunning),
                           dep("d2", "alice", "img/b", DeploymentState::kPulling),
                           dep("d3", "alice", "img/c", DeploymentState::kStopped),
                           dep("d4", "bob", "img/d", DeploymentState::kRunning)});
  const std::map<std::string, std::uint64_t> pulled{
      {"img/a", 90 * kMiB}, {"img/c", 500 * kMiB}, {"img/d", 200 * kMiB}};
  // bob: 200 of 250 used, so 50 left binds.
  auto bob = imageAllowance(q, rs, pulled, "bob", "img/x").value();
  EXPECT_TRUE(bob.perPeerBound);
  EXPECT_EQ(bob.bytes, 50 * kMiB);
  EXPECT_EQ(bob.usedByPeer, 200 * kMiB);
  // The image bob already runs is not counted twice.
  auto again = imageAllowance(q, rs, pulled, "bob", "img/d").value();
  EXPECT_FALSE(again.perPeerBound);
  EXPECT_EQ(again.bytes, 100 * kMiB);
  // alice: img/a counts (img/b is not ours, img/c's deployment stopped).
  auto alice = imageAllowance(q, rs, pulled, "alice", "img/x").value();
  EXPECT_EQ(alice.usedByPeer, 90 * kMiB);
  EXPECT_EQ(alice.bytes, 100 * kMiB);

  auto over = checkImageSize(bob, "img/x", 60 * kMiB, true);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error(), runtime::Errc::kLimitExceeded);
  EXPECT_NE(over.error().message().find("at least 60 MiB (the layer sizes its registry "
                                        "announced), more than the 50 MiB left of your image "
                                        "quota on this provider (max_image_bytes_per_peer"),
            std::string::npos)
      << over.error().message();
  auto big = checkImageSize(alice, "img/x", 101 * kMiB, false);
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message().find("101 MiB on disk, more than this provider's limit of "
                                       "100 MiB per image (max_image_size)"),
            std::string::npos)
      << big.error().message();
  EXPECT_TRUE(checkImageSize(alice, "img/x", 100 * kMiB, false));

  // A peer whose images use all of its quota is refused before anything is pulled.
  const std::map<std::string, std::uint64_t> full{{"img/d", 250 * kMiB}};
  auto none = imageAllowance(q, rs, full, "bob", "img/x");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("max_image_bytes_per_peer 250 MiB"), std::string::npos)
      << none.error().message();
}

/// The FakeRuntime, with a local image store: pulls announce `layerBytes` per layer (two
/// layers), inspectImage and removeImage work on `local`.
class ImageRuntime final : public runtime::Runtime {
 public:
  explicit ImageRuntime(net::asio::any_io_executor ex) : fake(std::move(ex)) {}
  test::FakeRuntime fake;
  std::map<std::string, std::uint64_t> local;
  std::uint64_t layerBytes = 10 * kMiB;
  std::uint64_t announcedBeforeAbort = 0;
  std::vector<std::string> removed;

  net::asio::awaitable<Result<void>> pull(std::string image,
                                          runtime::PullProgressFn progress) override {
    for (const char* layer : {"l1", "l2"}) {
      announcedBeforeAbort += layerBytes;
      progress({layer, 0, layerBytes});
      net::asio::steady_timer t(co_await net::asio::this_coro::executor,
                                std::chrono::milliseconds(1));
      co_await t.async_wait(net::kNoThrow);
      // Like the engine client, a cancelled pull ends (its connection is closed).
      auto state = co_await net::asio::this_coro::cancellation_state;
      if (state.cancelled() != net::asio::cancellation_type::none) {
        co_return runtime::fail(runtime::Errc::kTimeout, "pull cancelled");
      }
      progress({layer, layerBytes, layerBytes});
    }
    local[image] = 3 * layerBytes;  // on disk: bigger than the download
    co_return co_await fake.pull(image, nullptr);
  }
  net::asio::awaitable<Result<std::optional<runtime::ImageInfo>>> inspectImage(
      std::string image) override {
    auto it = local.find(image);
    if (it == local.end()) co_return std::optional<runtime::ImageInfo>{};
    co_return runtime::ImageInfo{"sha256:" + image, it->second};
  }
  net::asio::awaitable<Result<void>> removeImage(std::string image) override {
    if (local.erase(image) == 0) co_return runtime::fail(runtime::Errc::kImageNotFound, image);
    removed.push_back(image);
    co_return Result<void>{};
  }
  // The rest is the FakeRuntime's.
  net::asio::awaitable<Result<runtime::EngineInfo>> ping() override { return fake.ping(); }
  net::asio::awaitable<Result<runtime::Started>> createAndStart(
      runtime::ContainerSpec spec) override {
    return fake.createAndStart(std::move(spec));
  }
  net::asio::awaitable<Result<runtime::Started>> start(std::string id) override {
    return fake.start(std::move(id));
  }
  net::asio::awaitable<Result<void>> stop(std::string id, std::chrono::seconds grace) override {
    return fake.stop(std::move(id), grace);
  }
  net::asio::awaitable<Result<void>> remove(std::string id) override {
    return fake.remove(std::move(id));
  }
  net::asio::awaitable<Result<runtime::ContainerInfo>> inspect(std::string id) override {
    return fake.inspect(std::move(id));
  }
  net::asio::awaitable<Result<void>> logs(std::string id, runtime::LogOptions o,
                                          runtime::LogSink sink) override {
    return fake.logs(std::move(id), o, std::move(sink));
  }
  net::asio::awaitable<Result<runtime::Stats>> stats(std::string id) override {
    return fake.stats(std::move(id));
  }
  net::asio::awaitable<Result<std::vector<runtime::ContainerInfo>>> listOwned() override {
    return fake.listOwned();
  }
  net::asio::awaitable<Result<void>> events(runtime::EventOptions o,
                                            runtime::EventSink sink) override {
    return fake.events(o, std::move(sink));
  }
};

constexpr const char* kOperatorImage = "127.0.0.1:5055/peercompute/busybox:test";
constexpr const char* kNewImage = "127.0.0.1:5055/peercompute/demo-web:2";

class ImageLifecycle : public ::testing::Test {
 protected:
  net::asio::io_context io{1};
  test::TempDir dir;
  ImageRuntime rt{io.get_executor()};
  std::unique_ptr<Store> store = Store::open(dir.path() / Store::kFileName).value();
  std::unique_ptr<Scheduler> sched;

  void start(ImageQuota quota) {
    runtime::PolicyConfig pc;
    pc.allowedRegistries = {"127.0.0.1:5055"};
    pc.providerCapacity = {4000, 4ULL << 30, 10};
    pc.perRequesterQuota = {4000, 4ULL << 30, 10};
    pc.maxCpuMillisPerContainer = 4000;
    pc.maxMemoryPerContainer = 4ULL << 30;
    SchedulerOptions opts;
    opts.imageQuota = quota;
    opts.stopGrace = std::chrono::seconds(0);
    sched = std::make_unique<Scheduler>(io.get_executor(), rt, *store,
                                        runtime::Policy::create(pc).value(), opts);
    ASSERT_TRUE(sched->load());
    sched->start();
  }
  void TearDown() override {
    if (sched) {
      test::run(io, shutDown(*sched));
    }
  }
  static net::asio::awaitable<bool> shutDown(Scheduler& s) {
    co_await s.shutdown(std::chrono::milliseconds(1000));
    co_return true;
  }
  Deployment deploy(const std::string& who, const std::string& image) {
    DeployParams p;
    p.requester = who;
    p.image = image;
    p.cpuMillis = 100;
    p.memoryBytes = 64 * kMiB;
    auto admitted = sched->admit(p);
    if (!admitted) {
      Deployment refused;
      refused.state = DeploymentState::kFailed;
      refused.error = admitted.error().message();
      return refused;
    }
    return test::run(io, sched->run(admitted->id, p, nullptr));
  }
};

// The pull is cut as soon as the announced layers pass max_image_size: the second layer is never
// announced, and the image is not kept.
TEST_F(ImageLifecycle, PullOverTheImageSizeIsAbortedAndNothingIsKept) {
  rt.fake.images = {kNewImage};
  rt.layerBytes = 6 * kMiB;
  start(ImageQuota{5 * kMiB, 100 * kMiB});
  const auto d = deploy("alice", kNewImage);
  EXPECT_EQ(d.state, DeploymentState::kFailed);
  EXPECT_NE(d.error.find("(max_image_size)"), std::string::npos) << d.error;
  EXPECT_EQ(rt.announcedBeforeAbort, 6 * kMiB);
  EXPECT_EQ(rt.fake.creates, 0);
  EXPECT_FALSE(rt.local.contains(kNewImage));
}

// The size on disk counts too (here 3 × the download), and an image refused after its pull is
// removed because we pulled it; the operator's image is never touched.
TEST_F(ImageLifecycle, SizeOnDiskIsCheckedAndUnusedPulledImagesAreRemoved) {
  rt.fake.images = {kNewImage, kOperatorImage};
  rt.local[kOperatorImage] = 2 * kMiB;  // the operator had it before
  rt.layerBytes = 2 * kMiB;             // 4 MiB announced, 6 MiB on disk
  start(ImageQuota{5 * kMiB, 100 * kMiB});
  const auto refused = deploy("alice", kNewImage);
  EXPECT_EQ(refused.state, DeploymentState::kFailed);
  EXPECT_NE(refused.error.find("6 MiB on disk"), std::string::npos) << refused.error;
  EXPECT_EQ(rt.removed, std::vector<std::string>{kNewImage});
  EXPECT_TRUE(store->pulledImages().value().empty());

  const auto ops = deploy("alice", kOperatorImage);
  ASSERT_EQ(ops.state, DeploymentState::kRunning) << ops.error;
  ASSERT_TRUE(test::run(io, sched->stop("alice", ops.id, true)));
  EXPECT_TRUE(rt.local.contains(kOperatorImage));  // never ours: kept after the stop
}

// Within the quota the image runs; it is removed after the last deployment using it stops, and
// the per-peer total refuses a deploy once the peer's images use it all.
TEST_F(ImageLifecycle, PerPeerTotalAndRemovalAfterTheLastStop) {
  rt.fake.images = {kNewImage};
  rt.layerBytes = 1 * kMiB;  // 3 MiB on disk
  start(ImageQuota{5 * kMiB, 3 * kMiB});
  const auto first = deploy("alice", kNewImage);
  ASSERT_EQ(first.state, DeploymentState::kRunning) << first.error;
  EXPECT_EQ(store->pulledImages().value().at(kNewImage), 3 * kMiB);
  const auto second = deploy("alice", kNewImage);  // the same image costs nothing more
  ASSERT_EQ(second.state, DeploymentState::kRunning) << second.error;
  const auto other = deploy("alice", "127.0.0.1:5055/peercompute/other:1");
  EXPECT_EQ(other.state, DeploymentState::kFailed);
  EXPECT_NE(other.error.find("max_image_bytes_per_peer 3 MiB"), std::string::npos) << other.error;

  ASSERT_TRUE(test::run(io, sched->stop("alice", first.id, true)));
  EXPECT_TRUE(rt.removed.empty());  // still used by the second
  ASSERT_TRUE(test::run(io, sched->stop("alice", second.id, true)));
  EXPECT_EQ(rt.removed, std::vector<std::string>{kNewImage});
  EXPECT_TRUE(store->pulledImages().value().empty());
}

}  // namespace
}  // namespace pc::provider
