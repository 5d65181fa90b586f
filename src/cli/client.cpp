#include "cli/client.hpp"
#include "cli/error.hpp"

#include <boost/asio/io_context.hpp>
#include <optional>

#include "cli/deployments.hpp"
#include "net/error.hpp"
#include "net/watchdog.hpp"
#include "protocol/signing.hpp"
#include "rpc/message_stream.hpp"

namespace pc::cli {
namespace {
/// How long a finished command lets closed connections wind down before it exits.
constexpr std::chrono::milliseconds kTeardownDrain{1000};

Error deadlineError(std::chrono::milliseconds deadline, const std::string& message) {
  if (!message.empty()) {
    return fail(Errc::kDeadline, message);
  }
  return fail(Errc::kDeadline, "no complete answer within " +
                                   std::to_string(deadline.count() / 1000) +
                                   " s; the provider may be overloaded or unreachable");
}

/// The error an exception escaping a command's body stands for (a bug, not a user's error).
Error failureOf(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return fail(Errc::kCommandFailed, ex.what());
  } catch (...) {
    return fail(Errc::kCommandFailed, "unknown exception");
  }
}

/// Orderly teardown: closing the host fails every pending read and write, and running those
/// completions lets each connection's loops see the close and let go of their session. Leaving
/// them queued would destroy the coroutine frames only with the io_context, after the node they
/// point into, and could strand a session kept alive by its own waiters.
void tearDown(net::asio::io_context& io, Node& node) {
  node.host->close();
  io.restart();
  io.run_for(kTeardownDrain);
}
}  // namespace

Report runWithNode(const Globals& g, Printer& out, std::chrono::milliseconds deadline,
                   NodeBody body, const std::string& deadlineMessage) {
  net::asio::io_context io(1);
  auto node = openNode(g, io.get_executor(), out);
  if (!node) {
    return Report::failure(node.error());
  }
  std::optional<Report> report;
  net::asio::co_spawn(
      io, [&]() -> net::asio::awaitable<void> { report = co_await body(**node); },
      [&](std::exception_ptr e) {
        if (e) {
          report = Report::failure(failureOf(e));
        }
        io.stop();
      });
  bool timedOut = false;
  net::asio::steady_timer timer(io);
  if (deadline.count() > 0) {
    timer.expires_after(deadline);
    timer.async_wait([&](boost::system::error_code ec) {
      if (!ec) {
        // From here on the body is only being torn down: what it would still stream (its
        // connection "cancelled") would muddle the one error this command ends with.
        out.closeStream();
        timedOut = true;
        io.stop();
      }
    });
  }
  io.run();
  timer.cancel();
  tearDown(io, **node);
  if (timedOut) {
    // What the body returns once the teardown ends it must not turn the timeout into success.
    return Report::failure(deadlineError(deadline, deadlineMessage));
  }
  if (!report) {
    return Report::failure(fail(Errc::kCommandFailed, "the command ended without a result"));
  }
  return std::move(*report);
}

net::Task<std::shared_ptr<net::Connection>> connectPeer(Node& node, const std::string& target) {
  auto conn = co_await connectTarget(node, target);
  if (!conn) co_return conn.error().context("cannot reach " + target);
  co_return conn;
}

net::Task<std::shared_ptr<net::yamux::Stream>> sendRequest(Node& node,
                                                           std::shared_ptr<net::Connection> conn,
                                                           std::string_view protocol,
                                                           protocol::Message request) {
  if (auto r = protocol::sign(request, node.identity); !r) co_return r.error();
  const std::vector<std::string> protocols{std::string(protocol)};
  auto s = co_await node.host->newStream(conn, protocols);
  if (!s) {
    if (s.error() == net::make_error_code(net::Errc::kNegotiationFailed)) {
      co_return Error(s.error().code(), "the peer does not serve " + std::string(protocol) +
                                            " — is it a Peer Compute provider (peercomputed)?");
    }
    co_return s.error();
  }
  if (auto w = co_await rpc::writeMessage(**s, request); !w) co_return w.error();
  co_return s;
}

net::Task<Answer> requestOnce(Node& node, const std::string& target, std::string_view protocol,
                              protocol::Message request, std::chrono::milliseconds answerWithin) {
  auto conn = co_await connectPeer(node, target);
  if (!conn) co_return conn.error();
  auto s = co_await sendRequest(node, *conn, protocol, std::move(request));
  if (!s) co_return s.error();
  const auto ex = co_await net::asio::this_coro::executor;
  std::optional<net::Watchdog> dog;
  if (answerWithin.count() > 0) {
    dog.emplace(ex, answerWithin, [sp = *s] { sp->reset(); });
  }
  rpc::MessageReader reader(**s);
  auto m = co_await reader.next();
  (*s)->reset();
  if (dog && dog->fired()) {
    co_return fail(Errc::kDeadline, "no answer from " + target + " within " +
                                        std::to_string(answerWithin.count() / 1000) + " s");
  }
  if (!m) co_return m.error();
  if (!*m) {
    co_return Error(net::make_error_code(net::Errc::kClosed),
                    "the provider closed the stream without an answer");
  }
  if (auto* e = std::get_if<protocol::ErrorMessage>(&**m)) co_return providerError(*e);
  co_return Answer{(*conn)->peer.toBase58(), std::move(**m)};
}

Result<std::string> peerFor(const Globals& g, const std::string& id, const std::string& peerFlag) {
  if (!peerFlag.empty()) return peerFlag;
  auto book = DeploymentBook::load(g.home / DeploymentBook::kFileName);
  if (!book) return book.error();
  if (const auto* ref = book->find(id)) return ref->peerId;
  return fail(Errc::kUnknownDeployment, "this machine did not deploy " + id +
                                            "; say which provider holds it with --peer <name|id>");
}

Error providerError(const protocol::ErrorMessage& e) {
  return Error(net::make_error_code(net::Errc::kProtocolError),
               "the provider refused: " + e.message + " [" + e.code + "]");
}

std::string peerLabel(const Node& node, const std::string& peerId) {
  for (const auto& p : node.trust.peers()) {
    if (p.id.toBase58() == peerId) return p.name;
  }
  return peerId.size() > 12 ? "…" + peerId.substr(peerId.size() - 8) : peerId;
}

}  // namespace pc::cli
