#pragma once
/// The Peer Compute request handlers of a provider: `/peercompute/deploy|stop|status|logs/1.0.0`.
///
/// Every stream carries one signed request. Before anything is acted on, the request must
/// decode strictly, be of the stream's type, and pass protocol::checkRequest (requester = the
/// connection's authenticated peer, timestamp within 5 minutes, valid signature, request id never
/// seen — the replay cache is SQLite-backed, so this holds across restarts). Refusals answer
/// with an Error message {code, message} and are written to the audit log.
///
/// Each trusted peer has its own request rate (RequestLimiter: request_rate, request_burst);
/// a request over it is answered `rate_limited` with the limit and when to retry, before its
/// signature is checked or anything is stored.
///
/// Logs streams: the provider sends LogEntry frames, then LogsEnd. With `follow` the client keeps
/// its write side open; closing or resetting it ends the follow (noticed at the next line, or at
/// the latest when the provider's engine request window ends, kLogFollowWindow).
#include <chrono>
#include <map>
#include <memory>

#include "core/event_budget.hpp"
#include "net/host.hpp"
#include "net/task_group.hpp"
#include "protocol/checks.hpp"
#include "protocol/stream_protocols.hpp"
#include "provider/audit.hpp"
#include "provider/log_relay.hpp"
#include "provider/request_limiter.hpp"
#include "provider/scheduler.hpp"

namespace pc::provider {

using protocol::kDeployProtocol;
using protocol::kLogsProtocol;
using protocol::kStatusProtocol;
using protocol::kStopProtocol;

class Service : public std::enable_shared_from_this<Service> {
 public:
  /// Runs on the scheduler's executor; `scheduler`, `audit` and `replay` outlive the service.
  /// `limits`: each requester's request rate.
  Service(Scheduler& scheduler, AuditLog& audit, protocol::ReplayCache& replay,
          RequestLimits limits = {});
  /// Precondition: no task runs (shutdown(grace) was awaited). Destroying a service with tasks
  /// is a bug: it is logged, and the task group's bookkeeping is leaked rather than freed under
  /// the tasks.
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;
  /// Ends the log readers and watchers (total cancellation, terminal after `grace`) and returns
  /// once all have ended. The log streams they served end (LogsEnd without a reason). Not
  /// cancel-safe: the owner's last step, run to completion.
  net::asio::awaitable<void> shutdown(std::chrono::milliseconds grace);
  /// Registers the handlers on `host`. The service must outlive the host's handlers.
  void install(net::Host& host);
  /// Which authenticated peers may send requests (the trust list). Peers that reach the host
  /// for other reasons (the gateway, over the tunnel) must not deploy or read anything.
  void setRequesterFilter(std::function<bool(const crypto::PeerId&)> f) {
    mayRequest_ = std::move(f);
  }
  /// The audit hook for the host's gater: a refused connection. At most
  /// kMaxRefusalRecordsPerSecond such records are written per second; the refusals beyond that
  /// are counted in the next record's "suppressed" field. Returns whether a record was written
  /// (the caller logs only then).
  bool connectionRefused(const std::optional<crypto::PeerId>& peer, const std::string& remote,
                         const std::string& reason);
  static constexpr unsigned kMaxRefusalRecordsPerSecond = 100;
  /// Refusals since start by reason (the wire error code, or connection_refused /
  /// access_denied), every one counted, audited or not (metrics). The reasons are a fixed set.
  [[nodiscard]] const std::map<std::string, std::uint64_t, std::less<>>& refusals() const {
    return refusals_;
  }

 private:
  struct Request;
  EventBudget refusalBudget_{kMaxRefusalRecordsPerSecond};
  /// The same bound for refused requests (rate limited, bad, forged, replayed): a trusted peer
  /// flooding them must not make the provider fsync one audit record and log one line each.
  EventBudget requestRefusalBudget_{kMaxRefusalRecordsPerSecond};
  net::asio::awaitable<std::optional<protocol::Message>> readRequest(
      std::shared_ptr<net::yamux::Stream> s, std::shared_ptr<net::Connection> conn,
      protocol::MessageType expected);
  net::asio::awaitable<void> deploy(std::shared_ptr<net::yamux::Stream> s,
                                    std::shared_ptr<net::Connection> conn);
  net::asio::awaitable<void> stop(std::shared_ptr<net::yamux::Stream> s,
                                  std::shared_ptr<net::Connection> conn);
  net::asio::awaitable<void> status(std::shared_ptr<net::yamux::Stream> s,
                                    std::shared_ptr<net::Connection> conn);
  net::asio::awaitable<void> logs(std::shared_ptr<net::yamux::Stream> s,
                                  std::shared_ptr<net::Connection> conn);
  void audit(std::string_view event, std::string_view peer,
             std::vector<std::pair<std::string, std::string>> fields);
  /// Audits and logs a refused request within requestRefusalBudget_ (the count of what was left
  /// out goes in the next record's "suppressed" field), then answers it with {code, why}.
  net::asio::awaitable<void> refuseRequest(net::yamux::Stream& s, const std::string& code,
                                           const std::string& peer, const std::string& why,
                                           std::vector<std::pair<std::string, std::string>> fields);
  /// The deployment whose logs `peer` may read. Errors: kNotFound, kBadState (no container).
  Result<Deployment> logsTarget(const std::string& peer, const std::string& id) const;

  Scheduler& scheduler_;
  AuditLog& audit_;
  protocol::ReplayCache& replay_;
  RequestLimiter limiter_;
  std::function<bool(const crypto::PeerId&)> mayRequest_;
  std::map<std::string, std::uint64_t, std::less<>> refusals_;
  void noteRefusal(std::string_view reason);
  /// Owns the coroutines a logs stream starts; by pointer, so that a bug (destruction with tasks
  /// running) can leak it instead of freeing it under them.
  std::unique_ptr<net::TaskGroup> tasks_;
};

/// The wire error code for an error ("bad_signature", "replay", "over_capacity", …).
std::string errorCode(const Error& e);

}  // namespace pc::provider
