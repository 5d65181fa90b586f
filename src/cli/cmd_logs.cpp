#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>

#include "cli/client.hpp"
#include "cli/error.hpp"
#include "core/time.hpp"
#include "core/units.hpp"
#include "protocol/stream_protocols.hpp"
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
    // A time without a zone is UTC, as before (the RFC 3339 parser wants one).
    const bool zoned = text.ends_with('Z') || text.ends_with('z') ||
                       text.find_first_of("+-", text.find('T')) != std::string::npos;
    auto t = time::parseRfc3339(zoned ? text : text + "Z");
    if (t) return time::toUnixMillis(*t);
    return fail(Errc::kBadArgument,
                "--since " + text + ": expected 2026-12-02T10:00:00Z or a duration like 10m");
  }
  auto d = units::parseDuration(text);
  if (!d) return d.error().context("--since");
  return protocol::unixMillisNow() - d->count();
}

/// One log line as the container wrote it, with its UTC time first when `timestamps`.
std::string entryText(const protocol::LogEntry& e, bool timestamps) {
  std::string text;
  if (timestamps) {
    text = time::formatRfc3339(time::fromUnixMillis(e.timestampMs), time::Precision::kMillis);
    text += ' ';
  }
  text.append(e.line);
  text += '\n';
  return text;
}

/// Streams the log entries on `s` as they come (each flushed: `logs -f` is read by people and
/// by pipes waiting for a line), stdout lines to stdout and stderr lines to stderr.
net::asio::awaitable<Report> streamLogs(net::yamux::Stream& s, const LogsArgs& a, Printer& out) {
  rpc::MessageReader reader(s);
  while (true) {
    auto m = co_await reader.next();
    if (!m) {
      co_return Report::failure(m.error().context("logs " + a.id));
    }
    if (!*m) {
      co_return Report::failure(
          fail(Errc::kUnexpectedAnswer, "the provider ended the log stream early"));
    }
    if (auto* e = std::get_if<protocol::LogEntry>(&**m)) {
      const std::string text = entryText(*e, a.timestamps);
      if (e->stream == protocol::LogStream::kStderr) {
        out.streamErr(text);
      } else {
        out.stream(text);
      }
    } else if (auto* end = std::get_if<protocol::LogsEnd>(&**m)) {
      Report r;
      if (end->reason && a.follow) {
        r.notice = "(" + *end->reason + ")\n";
      }
      co_return r;
    } else if (auto* err = std::get_if<protocol::ErrorMessage>(&**m)) {
      co_return Report::failure(providerError(*err).context("logs " + a.id));
    } else {
      co_return Report::failure(
          fail(Errc::kUnexpectedAnswer, "unexpected message in a log stream"));
    }
  }
}

Report runLogs(const Globals& g, const LogsArgs& a, Printer& out) {
  auto target = peerFor(g, a.id, a.peer);
  if (!target) {
    return Report::failure(target.error());
  }
  protocol::LogsRequest req;
  req.header = protocol::newRequestHeader(protocol::unixMillisNow());
  req.deploymentId = a.id;
  req.follow = a.follow;
  if (a.tail >= 0) {
    req.tail = a.tail;
  }
  if (!a.since.empty()) {
    auto s = parseSince(a.since);
    if (!s) {
      return Report::failure(s.error());
    }
    req.sinceMs = *s;
  }
  const auto deadline =
      a.follow ? std::chrono::milliseconds(0) : std::chrono::milliseconds(120'000);
  return runWithNode(g, out, deadline, [&](Node& node) -> net::asio::awaitable<Report> {
    auto conn = co_await connectPeer(node, *target);
    if (!conn) {
      co_return Report::failure(conn.error());
    }
    const std::string proto(protocol::kLogsProtocol);
    auto s = co_await sendRequest(node, *conn, proto, req);
    if (!s) {
      co_return Report::failure(s.error().context("logs " + a.id));
    }
    co_return co_await streamLogs(**s, a, out);
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
  cmd->callback([&g, a] {
    g.exitCode =
        runPrinted(OutputFormat::kTable, [&](Printer& out) { return runLogs(g, *a, out); });
  });
}

}  // namespace pc::cli
