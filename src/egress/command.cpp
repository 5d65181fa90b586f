#include "egress/command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "egress/error.hpp"

extern char** environ;

namespace pc::egress {

namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd) {
      if (f >= 0) ::close(f);
    }
  }
  bool open() { return ::pipe2(fd, O_CLOEXEC) == 0; }
  void close(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

Error spawnError(const std::string& prog, int err) {
  return fail(Errc::kCommandFailed, "cannot run " + prog + ": " + std::strerror(err) +
                                        (err == ENOENT ? " (is it installed?)" : ""));
}

/// Feeds `input` and drains both outputs until the child closes them or `deadline` passes.
bool pump(Pipe& in, Pipe& out, Pipe& err, const std::string& input, CommandResult& r,
          std::chrono::steady_clock::time_point deadline) {
  std::size_t written = 0;
  if (input.empty()) in.close(1);
  char buf[65536];
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p[3] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}, {in.fd[1], POLLOUT, 0}};
    if (::poll(p, 3, static_cast<int>(left.count())) < 0 && errno != EINTR) return false;
    if (in.fd[1] >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const ssize_t n = ::write(in.fd[1], input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if ((n < 0 && errno != EAGAIN) || written == input.size()) in.close(1);
    }
    for (int i = 0; i < 2; ++i) {
      Pipe& src = i == 0 ? out : err;
      std::string& dst = i == 0 ? r.out : r.err;
      if (src.fd[0] < 0 || (p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::read(src.fd[0], buf, sizeof buf);
      if (n <= 0) {
        src.close(0);
      } else if (dst.size() < kMaxCommandOutput) {
        dst.append(buf, std::min(static_cast<std::size_t>(n), kMaxCommandOutput - dst.size()));
      }
    }
  }
  return true;
}

}  // namespace

Result<CommandResult> runCommand(const std::vector<std::string>& argv, const std::string& input,
                                 std::chrono::milliseconds timeout) {
  Pipe in;
  Pipe out;
  Pipe err;
  if (!in.open() || !out.open() || !err.open()) return spawnError(argv.at(0), errno);
  // A writer to a child that died early must get EPIPE, not kill the daemon.
  ::signal(SIGPIPE, SIG_IGN);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in.fd[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err.fd[1], 2);
  // The daemon's sockets (listeners, peer connections, the engine's socket) are not the child's:
  // a child outliving a crashed provider must not keep its ports bound.
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return spawnError(argv[0], rc);
  in.close(0);
  // Non-blocking: a child that writes a lot before reading all its input must not deadlock us.
  ::fcntl(in.fd[1], F_SETFL, O_NONBLOCK);
  out.close(1);
  err.close(1);
  CommandResult r;
  const bool done = pump(in, out, err, input, r, std::chrono::steady_clock::now() + timeout);
  if (!done) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!done) {
    return fail(Errc::kCommandFailed, argv[0] + " did not finish within " +
                                          std::to_string(timeout.count()) + " ms (killed)");
  }
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace pc::egress
