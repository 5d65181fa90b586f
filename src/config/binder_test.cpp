#include "config/binder.hpp"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

namespace pc::config {
namespace {

struct Settings {
  std::string name = "default";
  bool on = true;
  bool loud = false;
  std::vector<std::string> items{"a"};
  std::uint32_t count = 7;
  std::uint32_t cpu = 4000;
  std::chrono::seconds grace{10};
  double rate = 100;
};

Binder bind(Settings& s) {
  Binder b;
  b.text("name", "--name", "a name", s.name);
  b.boolean("on", "--off", "turn it off", s.on, false);
  b.boolean("loud", "--loud", "turn it up", s.loud, true);
  b.list("items", "--item", "items", s.items);
  b.value("count", "--count", "a count", integer(s.count, 1, 100));
  b.value("cpu", "--cpu,--cpus", "cpu", cpuMillis(s.cpu));
  b.value("grace", "--grace", "grace", seconds(s.grace));
  b.value("rate", "--rate", "rate", number(s.rate, 0));
  return b;
}

Result<void> parseFlags(Binder& b, std::vector<std::string> args) {
  CLI::App app;
  b.addFlags(app);
  std::vector<const char*> argv{"prog"};
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return b.applyFlags();
}

TEST(Binder, DefaultsStandWhenNothingIsGiven) {
  Settings s;
  auto b = bind(s);
  ASSERT_TRUE(parseFlags(b, {}));
  EXPECT_EQ(s.name, "default");
  EXPECT_TRUE(s.on);
  EXPECT_EQ(s.count, 7U);
  EXPECT_EQ(s.items, std::vector<std::string>{"a"});
}

TEST(Binder, FileThenFlagsKeyByKey) {
  Settings s;
  auto b = bind(s);
  ASSERT_TRUE(
      b.applyToml("name = \"file\"\non = false\nitems = [\"x\", \"y\"]\ncount = 9\ncpu = 2.5\n"
                  "grace = \"1m\"\nrate = 2.5\n",
                  "t.toml"));
  EXPECT_EQ(s.name, "file");
  EXPECT_FALSE(s.on);
  EXPECT_EQ(s.items, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(s.count, 9U);
  EXPECT_EQ(s.cpu, 2500U);
  EXPECT_EQ(s.grace.count(), 60);
  EXPECT_DOUBLE_EQ(s.rate, 2.5);
  // Only the flags given override the file.
  ASSERT_TRUE(parseFlags(b, {"--count", "3", "--loud", "--cpus", "500m"}));
  EXPECT_EQ(s.name, "file");
  EXPECT_EQ(s.count, 3U);
  EXPECT_TRUE(s.loud);
  EXPECT_EQ(s.cpu, 500U);
}

TEST(Binder, CpuReadsTheFormsOfDeploy) {
  Settings s;
  auto b = bind(s);
  ASSERT_TRUE(b.applyToml("cpu = 2\n", "t.toml"));
  EXPECT_EQ(s.cpu, 2000U);  // cores, as `peerctl deploy --cpu 2`
  ASSERT_TRUE(parseFlags(b, {"--cpu", "0.5"}));
  EXPECT_EQ(s.cpu, 500U);
}

TEST(Binder, ErrorsNameFileLineAndKey) {
  Settings s;
  auto b = bind(s);
  auto r = b.applyToml("name = \"x\"\nnmae = \"y\"\n", "p.toml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("p.toml:2: nmae: unknown key"), std::string::npos)
      << r.error().message();
  r = b.applyToml("count = 1000\n", "p.toml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("p.toml:1: count: expected an integer 1..100"),
            std::string::npos)
      << r.error().message();
  r = b.applyToml("on = \"yes\"\n", "p.toml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("on: expected true or false"), std::string::npos);
  r = b.applyToml("items = [1]\n", "p.toml");
  ASSERT_FALSE(r);
  r = b.applyToml("grace = \"soon\"\n", "p.toml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("p.toml:1: grace:"), std::string::npos);
  r = b.applyToml("items = [\n", "p.toml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("p.toml:"), std::string::npos);
}

TEST(Binder, FlagErrorsNameTheFlag) {
  Settings s;
  auto b = bind(s);
  auto r = parseFlags(b, {"--count", "zero"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("--count: expected an integer"), std::string::npos)
      << r.error().message();
  EXPECT_EQ(s.count, 7U);
}

TEST(Binder, MissingFileIsAnError) {
  Settings s;
  auto b = bind(s);
  EXPECT_FALSE(b.applyTomlFile("/nonexistent/peercompute.toml"));
}

}  // namespace
}  // namespace pc::config
