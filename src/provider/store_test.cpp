#include "provider/store.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.hpp"

namespace pc::provider {
namespace {

Deployment sample(std::string id, std::int64_t created) {
  Deployment d;
  d.id = std::move(id);
  d.requester = "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB";
  d.image = "127.0.0.1:5055/peercompute/busybox:test";
  d.cpuMillis = 500;
  d.memoryBytes = 64ULL << 20;
  d.exposePort = 8080;
  d.state = protocol::DeploymentState::kRunning;
  d.containerId = "abc";
  d.hostPort = 32768;
  d.url = "http://127.0.0.1:32768/";
  d.createdAtMs = created;
  d.startedAtMs = created + 5;
  return d;
}

TEST(Store, RoundTripSurvivesReopen) {
  test::TempDir dir;
  const auto path = dir.path() / Store::kFileName;
  {
    auto s = Store::open(path);
    ASSERT_TRUE(s) << s.error().message();
    ASSERT_TRUE((*s)->put(sample("dep-aaaaaaaaaaaaaaaa", 1)));
    auto b = sample("dep-bbbbbbbbbbbbbbbb", 2);
    b.state = protocol::DeploymentState::kFailed;
    b.exitCode = 137;
    b.oomKilled = true;
    b.error = "oom";
    b.url.reset();
    b.exposePort.reset();
    ASSERT_TRUE((*s)->put(b));
  }
  auto s = Store::open(path);
  ASSERT_TRUE(s);
  auto all = (*s)->list();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2U);
  EXPECT_EQ((*all)[0].id, "dep-bbbbbbbbbbbbbbbb");  // newest first
  EXPECT_EQ((*all)[0].exitCode, 137);
  EXPECT_TRUE((*all)[0].oomKilled);
  EXPECT_FALSE((*all)[0].url);
  EXPECT_FALSE((*all)[0].exposePort);
  auto a = (*s)->get("dep-aaaaaaaaaaaaaaaa");
  ASSERT_TRUE(a && *a);
  EXPECT_EQ((*a)->hostPort, 32768);
  EXPECT_EQ((*a)->url, "http://127.0.0.1:32768/");
  EXPECT_EQ((*a)->state, protocol::DeploymentState::kRunning);
  EXPECT_FALSE(*(*s)->get("dep-cccccccccccccccc"));
}

TEST(Store, CorruptFileIsRefusedWithRecoveryAdvice) {
  test::TempDir dir;
  const auto path = dir.path() / Store::kFileName;
  {
    auto s = Store::open(path);
    ASSERT_TRUE(s);
    for (int i = 0; i < 50; ++i) {
      char id[32];
      std::snprintf(id, sizeof id, "dep-%016d", i);
      ASSERT_TRUE((*s)->put(sample(id, i)));
    }
  }
  // Scribble over the middle of the file (past the header page).
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    const std::string junk(8000, 'x');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto s = Store::open(path);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("move"), std::string::npos) << s.error().message();
}

TEST(Store, TruncatedToNothingIsRefusedNotStartedEmpty) {
  test::TempDir dir;
  const auto path = dir.path() / Store::kFileName;
  {
    auto s = Store::open(path);
    ASSERT_TRUE(s);
    ASSERT_TRUE((*s)->put(sample("dep-aaaaaaaaaaaaaaaa", 1)));
  }
  EXPECT_GT(std::filesystem::file_size(path), 0U);  // created whole, never empty
  std::filesystem::resize_file(path, 0);
  auto s = Store::open(path);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("empty"), std::string::npos) << s.error().message();
  EXPECT_NE(s.error().message().find("move"), std::string::npos) << s.error().message();
}

TEST(Store, NotADatabase) {
  test::TempDir dir;
  const auto path = dir.path() / Store::kFileName;
  std::ofstream(path) << "this is not sqlite, and it is long enough to have a header......";
  auto s = Store::open(path);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find(path.string()), std::string::npos) << s.error().message();
}

}  // namespace
}  // namespace pc::provider
