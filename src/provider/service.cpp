#include "provider/service.hpp"

#include <spdlog/spdlog.h>

#include "net/error.hpp"
#include "net/watchdog.hpp"
#include "protocol/error.hpp"
#include "provider/error.hpp"
#include "provider/log_relay.hpp"
#include "rpc/message_stream.hpp"
#include "rpc/message_writer.hpp"
#include "runtime/error.hpp"

namespace pc::provider {

namespace asio = net::asio;
using asio::awaitable;
using net::yamux::Stream;
using protocol::DeploymentState;
using protocol::MessageType;
using StreamPtr = std::shared_ptr<Stream>;
using ConnPtr = std::shared_ptr<net::Connection>;

std::string errorCode(const Error& e) {
  const auto& c = e.code();
  if (c.category() == protocol::protocolCategory()) {
    switch (static_cast<protocol::Errc>(c.value())) {
      case protocol::Errc::kBadSignature:
        return "bad_signature";
      case protocol::Errc::kReplay:
        return "replay";
      case protocol::Errc::kClockSkew:
        return "clock_skew";
      case protocol::Errc::kRequesterMismatch:
        return "requester_mismatch";
      case protocol::Errc::kReplayQuota:
        return "rate_limited";
      case protocol::Errc::kReplayCacheFull:
      case protocol::Errc::kStorage:
        return "unavailable";
      default:
        return "bad_request";
    }
  }
  if (c.category() == runtime::runtimeCategory()) {
    switch (static_cast<runtime::Errc>(c.value())) {
      case runtime::Errc::kImageNotAllowed:
        return "image_not_allowed";
      case runtime::Errc::kLimitExceeded:
        return "over_capacity";
      case runtime::Errc::kBadReference:
      case runtime::Errc::kInvalidSpec:
        return "bad_request";
      case runtime::Errc::kImageNotFound:
        return "image_not_found";
      case runtime::Errc::kNoSuchContainer:
        return "not_found";
      default:
        return "engine_error";
    }
  }
  if (c.category() == providerCategory()) {
    switch (static_cast<Errc>(c.value())) {
      case Errc::kNotFound:
        return "not_found";
      case Errc::kBadState:
        return "bad_state";
      case Errc::kShuttingDown:
        return "unavailable";
      case Errc::kRateLimited:
        return "rate_limited";
      case Errc::kBadRequest:
        return "bad_request";
      default:
        return "internal";
    }
  }
  return "bad_request";
}

Service::Service(Scheduler& scheduler, AuditLog& audit, protocol::ReplayCache& replay,
                 RequestLimits limits)
    : scheduler_(scheduler),
      audit_(audit),
      replay_(replay),
      limiter_(limits),
      tasks_(std::make_unique<net::TaskGroup>(scheduler.executor())) {}

Service::~Service() {
  if (tasks_->size() > 0) {
    spdlog::error(
        "bug: the request handlers are destroyed with {} log task(s) running (shutdown(grace) "
        "was not awaited); their bookkeeping is leaked",
        tasks_->size());
    (void)tasks_.release();
  }
}

awaitable<void> Service::shutdown(std::chrono::milliseconds grace) {
  co_await tasks_->shutdown(grace);
}

void Service::install(net::Host& host) {
  auto self = shared_from_this();
  host.setHandler(std::string(kDeployProtocol),
                  [self](StreamPtr s, ConnPtr c) { return self->deploy(s, c); });
  host.setHandler(std::string(kStopProtocol),
                  [self](StreamPtr s, ConnPtr c) { return self->stop(s, c); });
  host.setHandler(std::string(kStatusProtocol),
                  [self](StreamPtr s, ConnPtr c) { return self->status(s, c); });
  host.setHandler(std::string(kLogsProtocol),
                  [self](StreamPtr s, ConnPtr c) { return self->logs(s, c); });
}

void Service::noteRefusal(std::string_view reason) {
  auto it = refusals_.find(reason);
  if (it == refusals_.end()) {
    it = refusals_.emplace(std::string(reason), 0).first;
  }
  ++it->second;
}

void Service::audit(std::string_view event, std::string_view peer,
                    std::vector<std::pair<std::string, std::string>> fields) {
  (void)audit_.record(event, peer, fields);
}

bool Service::connectionRefused(const std::optional<crypto::PeerId>& peer,
                                const std::string& remote, const std::string& reason) {
  noteRefusal("connection_refused");
  // Every record is fsynced on the provider's only thread: without a cap, a flood of TCP
  // connects (or of throw-away identities) would stall the provider on the disk and grow the
  // audit log without bound. The count of what was left out is kept in the next record.
  const auto left = refusalBudget_.admit();
  if (!left) return false;
  std::vector<std::pair<std::string, std::string>> fields{{"remote", remote}, {"reason", reason}};
  // A peer refused after a relayed handshake: the record names the relay it came through.
  if (auto addr = net::Multiaddr::parse(remote)) {
    if (auto c = addr->circuit()) fields.emplace_back("via_relay", c->relayId.toBase58());
  }
  if (*left > 0) fields.emplace_back("suppressed", std::to_string(*left));
  audit("connection_refused", peer ? peer->toBase58() : "", std::move(fields));
  return true;
}

awaitable<void> Service::refuseRequest(Stream& s, const std::string& code, const std::string& peer,
                                       const std::string& why,
                                       std::vector<std::pair<std::string, std::string>> fields) {
  noteRefusal(code);
  if (const auto left = requestRefusalBudget_.admit()) {
    fields.emplace_back("reason", why);
    if (*left > 0) {
      fields.emplace_back("suppressed", std::to_string(*left));
    }
    audit(code, peer, std::move(fields));
    spdlog::warn("security: {} from {} on {}: {}", code, peer, s.protocol, why);
  }
  co_await rpc::writeError(s, code, why);
  // Graceful: the error reaches the peer; anything more it sends on this stream is dropped.
  (void)co_await s.closeWrite();
}

awaitable<std::optional<protocol::Message>> Service::readRequest(StreamPtr s, ConnPtr conn,
                                                                 MessageType expected) {
  const std::string peer = conn->peer.toBase58();
  const std::string proto = s->protocol;
  // Only trusted peers may request anything: the gateway is admitted for the tunnel only.
  if (mayRequest_ && !mayRequest_(conn->peer)) {
    noteRefusal("access_denied");
    audit("access_denied", peer, {{"protocol", proto}, {"reason", "not a trusted peer"}});
    co_await rpc::writeError(*s, "access_denied", "this peer may not send requests here");
    (void)co_await s->closeWrite();
    co_return std::nullopt;
  }
  // Each peer gets its own rate, charged before the request is even read: a flood from one
  // trusted peer is refused cheaply (no signature check, no replay-cache write) and leaves the
  // provider's thread and replay cache to the others.
  // Named locals, not temporaries, in the co_await expressions below (GCC 12).
  using Fields = std::vector<std::pair<std::string, std::string>>;
  if (auto admitted = limiter_.admit(peer); !admitted) {
    const std::string why = admitted.error().message();
    Fields fields{{"protocol", proto}};
    co_await refuseRequest(*s, "rate_limited", peer, why, std::move(fields));
    co_return std::nullopt;
  }
  // A peer that opens a stream and never sends its request is cut off (stops stream hoarding).
  Stream* sp = s.get();
  net::Watchdog dog(co_await asio::this_coro::executor, rpc::kRequestReadTimeout,
                    [sp] { sp->reset(); });
  rpc::MessageReader reader(*s);
  auto m = co_await reader.next();
  const bool timedOut = dog.fired();
  dog.disarm();
  if (!m) {
    const std::string why =
        timedOut ? "no request within " + std::to_string(rpc::kRequestReadTimeout.count()) + " s"
                 : m.error().message();
    const std::string msg = "bad request: " + why;
    Fields fields{{"protocol", proto}};
    co_await refuseRequest(*s, "bad_request", peer, msg, std::move(fields));
    co_return std::nullopt;
  }
  if (!*m) co_return std::nullopt;  // closed before sending anything
  if (protocol::typeOf(**m) != expected) {
    const std::string why =
        std::string("expected a ") + std::string(protocol::messageTypeName(expected)) + " on " +
        proto + ", got a " + std::string(protocol::messageTypeName(protocol::typeOf(**m)));
    Fields fields{{"protocol", proto}};
    co_await refuseRequest(*s, "bad_request", peer, why, std::move(fields));
    co_return std::nullopt;
  }
  // Authenticity, freshness and uniqueness before any action (protocol/checks.hpp): stops a
  // peer acting in another's name, replays of captured requests, and forged signatures.
  if (auto chk = protocol::checkRequest(**m, conn->peer, protocol::unixMillisNow(), replay_);
      !chk) {
    const auto* h = protocol::requestHeader(**m);
    const std::string code = errorCode(chk.error());
    const std::string why = chk.error().message();
    Fields fields{{"protocol", proto}, {"request_id", h ? h->requestId : ""}};
    co_await refuseRequest(*s, code, peer, why, std::move(fields));
    co_return std::nullopt;
  }
  co_return std::move(*m);
}

namespace {

/// What the scheduler needs of a (checked) deploy request from `peer`.
DeployParams deployParams(const protocol::DeployRequest& req, const std::string& peer) {
  DeployParams p;
  p.requester = peer;
  p.image = req.image;
  p.cpuMillis = static_cast<std::uint32_t>(req.cpuMillicores);
  p.memoryBytes = static_cast<std::uint64_t>(req.memoryBytes);
  p.exposePort = req.exposePort;
  for (const auto& [k, v] : req.env) {
    p.env.emplace_back(k, v);
  }
  p.command = req.command;
  p.timeout = std::chrono::seconds(req.timeoutSeconds);
  if (req.network == protocol::DeployNetwork::kNone) p.network = egress::Mode::kNone;
  p.pull = req.pull.value_or(protocol::PullPolicy::kMissing);  // absent: older clients' behaviour
  return p;
}

/// Audit fields plus, for a request that came through a relay, which relay (`via_relay`).
std::vector<std::pair<std::string, std::string>> withPath(
    const net::Connection& conn, std::vector<std::pair<std::string, std::string>> fields) {
  if (conn.relay) fields.emplace_back("via_relay", conn.relay->toBase58());
  return fields;
}

protocol::DeployResponse deployResponse(const Deployment& final) {
  protocol::DeployResponse resp;
  resp.deploymentId = final.id;
  resp.state = final.state;
  resp.url = final.url;
  // The list travels only when the gateways answered different URLs: one URL is `url` alone,
  // the bytes an older peerctl reads.
  if (!final.moreUrls.empty()) resp.urls = final.urls();
  if (!final.error.empty()) {
    resp.error = final.error;
  }
  return resp;
}

}  // namespace

awaitable<void> Service::deploy(StreamPtr s, ConnPtr conn) {
  auto self = shared_from_this();
  auto m = co_await readRequest(s, conn, MessageType::kDeployRequest);
  if (!m) co_return;
  const auto& req = std::get<protocol::DeployRequest>(*m);
  const std::string peer = conn->peer.toBase58();
  const DeployParams p = deployParams(req, peer);

  auto admitted = scheduler_.admit(p);
  if (!admitted) {
    const std::string code = errorCode(admitted.error());
    const std::string why = admitted.error().message();
    noteRefusal(code);
    audit("deploy_refused", peer, {{"image", req.image}, {"code", code}, {"reason", why}});
    co_await rpc::writeError(*s, code, why);
    (void)co_await s->closeWrite();
    co_return;
  }
  const std::string id = admitted->id;
  audit(
      "deploy_accepted", peer,
      withPath(*conn, {{"deployment", id},
                       {"image", admitted->image},
                       {"cpu_millicores", std::to_string(p.cpuMillis)},
                       {"memory_bytes", std::to_string(p.memoryBytes)},
                       {"pull", std::string(protocol::toString(scheduler_.pullPolicy(p.pull)))}}));

  // Progress goes out through one writer coroutine (one write in flight per stream); the
  // scheduler's callback only queues. A slow client sees the latest progress (the newest queued
  // update is replaced) and a client that left does not stop the deploy.
  auto ex = co_await asio::this_coro::executor;
  constexpr std::size_t kMaxQueuedProgress = 16;
  auto pump = rpc::MessageWriter::start(ex, s, kMaxQueuedProgress,
                                        rpc::MessageWriter::Overflow::kReplaceNewest);
  auto push = [pump](protocol::Message msg) { (void)pump->push(std::move(msg)); };

  protocol::DeployProgress first;
  first.deploymentId = id;
  first.phase = protocol::DeployPhase::kPulling;
  push(first);
  // `image_source` only for a client that named `pull`: an older one refuses unknown fields.
  const bool tellSource = req.pull.has_value();
  const ProgressFn onProgress = [push, id, tellSource](const DeployProgressInfo& info) {
    protocol::DeployProgress msg;
    msg.deploymentId = id;
    msg.phase = info.starting ? protocol::DeployPhase::kStarting : protocol::DeployPhase::kPulling;
    msg.percent = info.percent;
    msg.bytesDone = info.bytesDone;
    msg.bytesTotal = info.bytesTotal;
    if (tellSource) {
      msg.imageSource = info.imageSource;
    } else if (!info.starting && !info.percent) {
      return;  // nothing this client understands
    }
    push(msg);
  };
  const Deployment final = co_await scheduler_.run(id, p, onProgress);
  pump->finish();
  co_await pump->ended();

  if (final.state == DeploymentState::kFailed) {
    audit("deploy_failed", peer, {{"deployment", id}, {"reason", final.error}});
  }
  const protocol::Message out = deployResponse(final);
  (void)co_await rpc::writeMessage(*s, out);
  (void)co_await s->closeWrite();
}

awaitable<void> Service::stop(StreamPtr s, ConnPtr conn) {
  auto self = shared_from_this();
  auto m = co_await readRequest(s, conn, MessageType::kStopRequest);
  if (!m) co_return;
  const auto& req = std::get<protocol::StopRequest>(*m);
  const std::string peer = conn->peer.toBase58();
  const std::string id = req.deploymentId;
  auto r = co_await scheduler_.stop(peer, id, req.force);
  if (!r) {
    const std::string code = errorCode(r.error());
    const std::string why = r.error().message();
    noteRefusal(code);
    audit("stop_refused", peer, {{"deployment", id}, {"code", code}, {"reason", why}});
    co_await rpc::writeError(*s, code, why);
    (void)co_await s->closeWrite();
    co_return;
  }
  audit("stop_accepted", peer,
        withPath(*conn, {{"deployment", id},
                         {"force", req.force ? "true" : "false"},
                         {"state", std::string(protocol::toString(r->state))}}));
  const protocol::Message out = protocol::StopResponse{r->id, r->state};
  (void)co_await rpc::writeMessage(*s, out);
  (void)co_await s->closeWrite();
}

awaitable<void> Service::status(StreamPtr s, ConnPtr conn) {
  auto self = shared_from_this();
  auto m = co_await readRequest(s, conn, MessageType::kStatusRequest);
  if (!m) co_return;
  const auto& req = std::get<protocol::StatusRequest>(*m);
  const std::string peer = conn->peer.toBase58();
  std::vector<Deployment> ds;
  if (req.deploymentId) {
    auto d = scheduler_.find(peer, *req.deploymentId);
    if (!d) {
      const std::string code = errorCode(d.error());
      const std::string why = d.error().message();
      noteRefusal(code);
      audit("status_refused", peer, {{"deployment", *req.deploymentId}, {"reason", why}});
      co_await rpc::writeError(*s, code, why);
      (void)co_await s->closeWrite();
      co_return;
    }
    ds.push_back(*d);
  } else {
    ds = scheduler_.list(peer);
    if (ds.size() > protocol::kMaxStatusEntries) ds.resize(protocol::kMaxStatusEntries);
  }
  auto stats = co_await scheduler_.stats(ds);
  protocol::StatusResponse resp;
  for (const auto& d : ds) {
    protocol::DeploymentStatus st;
    st.deploymentId = d.id;
    st.image = d.image;
    st.state = d.state;
    st.startedAtMs = d.startedAtMs;
    st.url = d.url;
    if (!d.moreUrls.empty()) st.urls = d.urls();
    st.memoryLimit = static_cast<std::int64_t>(d.memoryBytes);
    st.exitCode = d.exitCode;
    if (!d.error.empty())
      st.error = protocol::truncateUtf8(d.error, protocol::kMaxStatusErrorLength);
    if (auto it = stats.find(d.id); it != stats.end()) {
      st.cpuUsageMillicores = static_cast<std::int64_t>(it->second.cpuPercent * 10.0 + 0.5);
      st.memoryBytes = static_cast<std::int64_t>(it->second.memoryBytes);
      // Counters of the engine; clamped to the wire's safe-integer range.
      constexpr std::uint64_t kMax = (std::uint64_t{1} << 53) - 1;
      st.netRxBytes = static_cast<std::int64_t>(std::min(it->second.netRxBytes, kMax));
      st.netTxBytes = static_cast<std::int64_t>(std::min(it->second.netTxBytes, kMax));
      if (it->second.sampledAtMs > 0) st.statsAtMs = it->second.sampledAtMs;
    }
    resp.deployments.push_back(std::move(st));
  }
  const protocol::Message out = resp;
  (void)co_await rpc::writeMessage(*s, out);
  (void)co_await s->closeWrite();
}

Result<Deployment> Service::logsTarget(const std::string& peer, const std::string& id) const {
  auto d = scheduler_.find(peer, id);
  if (d && (d->containerId.empty() || d->state == DeploymentState::kStopped)) {
    return fail(Errc::kBadState,
                d->id + " is " + std::string(protocol::toString(d->state)) +
                    (d->state == DeploymentState::kStopped
                         ? "; its container and logs were removed when it stopped"
                         : "; it has no container yet, try again once it is running"));
  }
  return d;
}

awaitable<void> Service::logs(StreamPtr s, ConnPtr conn) {
  auto self = shared_from_this();
  auto m = co_await readRequest(s, conn, MessageType::kLogsRequest);
  if (!m) {
    co_return;
  }
  const auto& req = std::get<protocol::LogsRequest>(*m);
  const std::string peer = conn->peer.toBase58();
  auto d = logsTarget(peer, req.deploymentId);
  auto opts = engineLogOptions(req, protocol::unixMillisNow());
  if (!d || !opts) {
    const Error& e = !d ? d.error() : opts.error();
    const std::string code = errorCode(e);
    const std::string why = e.message();
    noteRefusal(code);
    audit("logs_refused", peer, {{"deployment", req.deploymentId}, {"reason", why}});
    co_await rpc::writeError(*s, code, why);
    (void)co_await s->closeWrite();
    co_return;
  }
  auto q = std::make_shared<LogQueue>(co_await asio::this_coro::executor);
  tasks_->spawn(watchLogClient(s, q));
  tasks_->spawn(produceLogs(scheduler_, q, d->id, d->containerId, *opts));
  if (!co_await writeLogLines(*s, *q)) {
    co_return;
  }
  protocol::LogsEnd end;
  end.reason = q->endReason;
  const protocol::Message out = end;
  (void)co_await rpc::writeMessage(*s, out);
  (void)co_await s->closeWrite();
}

}  // namespace pc::provider
