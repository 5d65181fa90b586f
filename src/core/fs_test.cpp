#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fs.hpp"
#include "support/temp_dir.hpp"

namespace pc::fs {
namespace {

TEST(Fs, AtomicWriteSetsModeAndReplaces) {
  test::TempDir dir;
  const auto p = dir.path() / "state.json";
  ASSERT_TRUE(writeFileAtomic(p, "one", 0600));
  ASSERT_TRUE(writeFileAtomic(p, "two", 0600));
  EXPECT_EQ(readFile(p, 100).value(), "two");
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // No temporary files left behind.
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++n;
  EXPECT_EQ(n, 1u);
}

TEST(Fs, ReadFileLimitsAndMissing) {
  test::TempDir dir;
  const auto p = dir.path() / "big";
  ASSERT_TRUE(writeFileAtomic(p, std::string(100, 'x'), 0600));
  EXPECT_EQ(readFile(p, 99).error(), make_error_code(Errc::kTooLarge));
  EXPECT_EQ(readFile(dir.path() / "nope", 10).error(), make_error_code(Errc::kNotFound));
}

TEST(Fs, WriteIntoMissingDirectoryFailsCleanly) {
  test::TempDir dir;
  auto r = writeFileAtomic(dir.path() / "no" / "such" / "file", "x", 0600);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("cannot create"), std::string::npos);
}

TEST(Fs, PrivateDirIsCreated0700) {
  test::TempDir dir;
  const auto d = dir.path() / "a" / "home";
  ASSERT_TRUE(ensurePrivateDir(d));
  struct stat st {};
  ASSERT_EQ(::stat(d.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_TRUE(writeFileAtomic(dir.path() / "f", "x", 0600));
  EXPECT_FALSE(ensurePrivateDir(dir.path() / "f"));
}

TEST(Fs, FileLockSerialisesProcesses) {
  test::TempDir dir;
  const auto counter = dir.path() / "counter";
  ASSERT_TRUE(writeFileAtomic(counter, "0", 0600));
  constexpr int kProcs = 4, kIncrements = 50;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      for (int i = 0; i < kIncrements; ++i) {
        auto lock = FileLock::exclusive(dir.path() / "lock");
        if (!lock) _exit(1);
        int v = std::stoi(readFile(counter, 100).value());
        if (!writeFileAtomic(counter, std::to_string(v + 1), 0600)) _exit(1);
      }
      _exit(0);
    }
    pids.push_back(pid);
  }
  for (auto pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(readFile(counter, 100).value(), std::to_string(kProcs * kIncrements));
}

}  // namespace
}  // namespace pc::fs
