#include "provider/store.hpp"

#include <gtest/gtest.h>

#include <sqlite3.h>

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

TEST(Store, EveryGatewaysUrlSurvivesReopen) {
  test::TempDir dir;
  const auto path = dir.path() / Store::kFileName;
  auto d = sample("dep-aaaaaaaaaaaaaaaa", 1);
  d.setUrls({"https://dep-aaaaaaaaaaaaaaaa.a.example/", "https://dep-aaaaaaaaaaaaaaaa.b.example/",
             "http://dep-aaaaaaaaaaaaaaaa.c.example:8080/"});
  ASSERT_TRUE(Store::open(path).value()->put(d));
  auto back = Store::open(path).value()->get(d.id).value();
  ASSERT_TRUE(back);
  EXPECT_EQ(back->url, "https://dep-aaaaaaaaaaaaaaaa.a.example/");
  EXPECT_EQ(back->urls(), d.urls());
  back->clearUrls();
  EXPECT_TRUE(back->urls().empty());
}

// A provider.db written before the gateways' URLs were kept (no more_urls column, nor network)
// opens with the columns added; its deployments keep their one URL.
TEST(Store, OlderDatabaseGainsTheNewColumns) {
  test::TempDir dir;
  const auto path = dir.path() / Store::kFileName;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE deployments (id TEXT PRIMARY KEY, requester TEXT NOT NULL,"
                         " image TEXT NOT NULL, cpu_millis INTEGER NOT NULL, memory_bytes INTEGER"
                         " NOT NULL, expose_port INTEGER, state TEXT NOT NULL, container_id TEXT"
                         " NOT NULL, host_port INTEGER, url TEXT, created_at_ms INTEGER NOT NULL,"
                         " started_at_ms INTEGER, finished_at_ms INTEGER, exit_code INTEGER,"
                         " oom_killed INTEGER NOT NULL, error TEXT NOT NULL, id_salt TEXT NOT NULL"
                         " DEFAULT '');"
                         "INSERT INTO deployments VALUES ('dep-aaaaaaaaaaaaaaaa', 'r', 'i', 1, 2,"
                         " 80, 'running', 'c', 3, 'https://one.example/', 4, 5, NULL, NULL, 0, '',"
                         " '')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = Store::open(path);
  ASSERT_TRUE(s) << s.error().message();
  auto d = (*s)->get("dep-aaaaaaaaaaaaaaaa").value();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->urls(), std::vector<std::string>{"https://one.example/"});
  EXPECT_EQ(d->network, egress::Mode::kInternet);
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
