#pragma once
/// What the request commands (deploy, status, logs, stop) share: running one async command on
/// a fresh node, sending a signed request on a new stream, and turning a provider's Error
/// message into a local error.
#include <functional>

#include "cli/node.hpp"
#include "cli/printer.hpp"
#include "protocol/messages.hpp"

namespace pc::cli {

/// A command's work on an open node; what it returns goes to the printer.
using NodeBody = std::function<net::asio::awaitable<Report>(Node&)>;

/// Opens the node (streaming its notices to `out`), runs `body` on it, and returns its report.
/// `deadline` bounds the whole command (a provider that stops answering cannot hang it); zero
/// means none (logs --follow). When it passes, `out`'s streaming path is closed, the body is
/// torn down, and the report is the deadline error alone (`deadlineMessage`, or a default
/// one), so a timed-out command shows one error and nothing else. Opening errors and an
/// exception from the body are reported as failures too.
Report runWithNode(const Globals& g, Printer& out, std::chrono::milliseconds deadline,
                   NodeBody body, const std::string& deadlineMessage = {});

/// A connection to `target` (a trusted peer's name or id, or a multiaddr), with errors that say
/// what to do.
net::Task<std::shared_ptr<net::Connection>> connectPeer(Node& node, const std::string& target);

/// Opens a stream for `protocol` on `conn`, signs `request` with the node's identity and sends
/// it. The stream stays open for the answer.
net::Task<std::shared_ptr<net::yamux::Stream>> sendRequest(Node& node,
                                                           std::shared_ptr<net::Connection> conn,
                                                           std::string_view protocol,
                                                           protocol::Message request);

/// Connects to `target`, sends `request` on `protocol` and returns the single answer. An Error
/// message from the provider becomes an error. With `answerWithin` set, a provider that has not
/// answered by then (its connection silently dead, or a request it never answers) is an error
/// rather than a wait as long as the connection's keep-alive.
struct Answer {
  std::string peerId;  ///< the provider that answered (base58)
  protocol::Message message;
};
net::Task<Answer> requestOnce(Node& node, const std::string& target, std::string_view protocol,
                              protocol::Message request,
                              std::chrono::milliseconds answerWithin = std::chrono::milliseconds{
                                  0});

/// Which peer to ask about deployment `id`: `peerFlag` when given, else the peer recorded by
/// `peerctl deploy`. Errors say to pass --peer.
Result<std::string> peerFor(const Globals& g, const std::string& id, const std::string& peerFlag);

/// An Error message from the provider as a local error ("<message> [<code>]").
Error providerError(const protocol::ErrorMessage& e);

/// The trusted peer's name for `peerId` (base58), or a shortened id.
std::string peerLabel(const Node& node, const std::string& peerId);

}  // namespace pc::cli
