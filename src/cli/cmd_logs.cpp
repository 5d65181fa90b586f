#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "cli/client.hpp"
#include "core/units.hpp"
#include "protocol/ids.hpp"
#include "rpc/message_stream.hpp"

namespace pc::cli {
namespace {

struct LogsArgs {
  std::string id;
  std::string peer;
  bool follow = false;
  int tail = -1;
  std::string since;
  bool timestamps = false;
};

/// "--since": an RFC 3339 UTC time ("2026-12-02T10:00:00Z") or a duration back from now ("10m").
Result<std::int64_t> parseSince(const std::string& text) {
  if (text.find('T') != std::string::npos) {
    std::tm tm{};
    const char* end = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (end != nullptr && (*end == 'Z' || *end == '\0')) {
      return static_cast<std::int64_t>(::timegm(&tm)) * 1000;
    }
    return fail(Errc::kInvalidArgument,
                "--since " + text + ": expected 2026-12-02T10:00:00Z or a duration like 10m");
  }
  auto d = units::parseDuration(text);
  if (!d) return d.error().context("--since");
  return protocol::unixMillisNow() - d->count();
}

void printEntry(const protocol::LogEntry& e, bool timestamps) {
  std::FILE* out = e.stream == protocol::LogStream::kStderr ? stderr : stdout;
  if (timestamps) {
    const std::time_t secs = static_cast<std::time_t>(e.timestampMs / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ ", static_cast<int>(e.timestampMs % 1000));
    std::fputs(buf, out);
  }
  std::fwrite(e.line.data(), 1, e.line.size(), out);
  std::fputc('\n', out);
  // Flushed per line: `logs -f` is read by people and by pipes waiting for a line.
  std::fflush(out);
}

int runLogs(const Globals& g, const LogsArgs& a) {
  auto target = peerFor(g, a.id, a.peer);
  if (!target) return reportError(target.error());
  protocol::LogsRequest req;
  req.header = protocol::newRequestHeader(protocol::unixMillisNow());
  req.deploymentId = a.id;
  req.follow = a.follow;
  if (a.tail >= 0) req.tail = a.tail;
  if (!a.since.empty()) {
    auto s = parseSince(a.since);
    if (!s) return reportError(s.error());
    req.sinceMs = *s;
  }
  const auto deadline =
      a.follow ? std::chrono::milliseconds(0) : std::chrono::milliseconds(120'000);
  return runWithNode(g, deadline, [&](Node& node) -> net::asio::awaitable<int> {
    auto conn = co_await connectPeer(node, *target);
    if (!conn) co_return reportError(conn.error());
    const std::string proto(protocol::kLogsProtocol);
    auto s = co_await sendRequest(node, *conn, proto, req);
    if (!s) co_return reportError(s.error().context("logs " + a.id));
    rpc::MessageReader reader(**s);
    while (true) {
      auto m = co_await reader.next();
      if (!m) co_return reportError(m.error().context("logs " + a.id));
      if (!*m) {
        co_return reportError(
            Error(make_error_code(Errc::kMalformed), "the provider ended the log stream early"));
      }
      if (auto* e = std::get_if<protocol::LogEntry>(&**m)) {
        printEntry(*e, a.timestamps);
      } else if (auto* end = std::get_if<protocol::LogsEnd>(&**m)) {
        if (end->reason && a.follow) std::cerr << "(" << *end->reason << ")\n";
        co_return 0;
      } else if (auto* err = std::get_if<protocol::ErrorMessage>(&**m)) {
        co_return reportError(providerError(*err).context("logs " + a.id));
      } else {
        co_return reportError(fail(Errc::kMalformed, "unexpected message in a log stream"));
      }
    }
  });
}

}  // namespace

void addLogsCommand(CLI::App& app, Globals& g) {
  auto a = std::make_shared<LogsArgs>();
  auto* cmd = app.add_subcommand("logs", "Print a deployment's output (stdout and stderr apart)");
  cmd->add_option("deployment", a->id, "Deployment id (dep-…)")->required();
  cmd->add_option("--peer", a->peer, "Provider holding it (default: the one it was deployed to)");
  cmd->add_flag("-f,--follow", a->follow, "Keep printing new lines until interrupted");
  cmd->add_option("-n,--tail", a->tail, "Only the last N lines")->check(CLI::Range(0, 100000));
  cmd->add_option("--since", a->since, "From this time: 2026-12-02T10:00:00Z, or a duration (10m)");
  cmd->add_flag("-t,--timestamps", a->timestamps, "Prefix each line with its UTC time");
  cmd->callback([&g, a] { g.exitCode = runLogs(g, *a); });
}

}  // namespace pc::cli
