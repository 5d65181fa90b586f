#include "tunnel/tunnel_service.hpp"

#include <spdlog/spdlog.h>

#include <deque>

#include "net/watchdog.hpp"
#include "protocol/error.hpp"
#include "protocol/stream_protocols.hpp"
#include "rpc/message_stream.hpp"
#include "rpc/message_writer.hpp"

namespace pc::tunnel {

namespace asio = net::asio;
using asio::awaitable;

TunnelService::TunnelService(RouteTable& routes, TunnelServiceOptions options)
    : routes_(routes), options_(std::move(options)) {}

void TunnelService::install(net::Host& host) {
  auto self = shared_from_this();
  host.setHandler(std::string(protocol::kTunnelProtocol),
                  [self](std::shared_ptr<net::yamux::Stream> s,
                         std::shared_ptr<net::Connection> c) { return self->serve(s, c); });
}

std::optional<TunnelService::Refusal> TunnelService::addRoute(
    const protocol::RegisterRoute& reg, const std::shared_ptr<net::Connection>& conn) {
  const std::string peer = conn->peer.toBase58();
  // The id must be one this provider minted: no provider can claim another's public name,
  // even while that provider is offline.
  auto expected = protocol::deploymentIdFor(conn->peer, reg.idSalt);
  if (!expected || *expected != reg.deploymentId) {
    return Refusal{"not_your_deployment",
                   reg.deploymentId + " was not created by provider " + peer};
  }
  // A provider minting ids cannot grow the route table (and the names it may ask certificates
  // for) without bound.
  if (routes_.find(reg.deploymentId) == nullptr &&
      routes_.routesOf(conn->peer) >= options_.maxRoutesPerProvider) {
    return Refusal{"too_many_routes", "provider " + peer + " already has " +
                                          std::to_string(options_.maxRoutesPerProvider) +
                                          " routes (max_routes_per_provider)"};
  }
  if (!routes_.put(reg.deploymentId, RouteEntry{conn->peer, conn, options_.urlFor(reg.deploymentId),
                                                reg.onBehalfOf.value_or(std::string())})) {
    return Refusal{"not_your_deployment", reg.deploymentId + " is served by another provider"};
  }
  return std::nullopt;
}

awaitable<void> TunnelService::serve(std::shared_ptr<net::yamux::Stream> s,
                                     std::shared_ptr<net::Connection> conn) {
  auto self = shared_from_this();
  auto ex = co_await asio::this_coro::executor;
  const std::string peer = conn->peer.toBase58();
  // Answers go out through one writer. A provider that stops reading them while it keeps sending
  // requests would make us queue without end: at kMaxQueuedAnswers its tunnel is ended.
  auto out =
      rpc::MessageWriter::start(ex, s, kMaxQueuedAnswers, rpc::MessageWriter::Overflow::kRefuse);
  net::yamux::Stream* const stream = s.get();
  auto push = [out, stream, peer](protocol::Message m) {
    if (!out->push(std::move(m)) && !out->failed()) {
      spdlog::warn("security: tunnel from {}: {} answers unread (max {}); tunnel closed", peer,
                   out->queued(), kMaxQueuedAnswers);
      stream->reset();
    }
  };
  auto refuse = [&](const std::string& code, const std::string& why) {
    spdlog::warn("security: tunnel from {}: {} ({})", peer, why, code);
    if (onRefusal_) onRefusal_(conn->peer, why);
    push(protocol::ErrorMessage{code, why.substr(0, protocol::kMaxErrorTextLength - 3)});
  };

  rpc::MessageReader reader(*s);
  std::vector<std::string> mine;  // routes this tunnel registered
  net::yamux::Stream* sp = s.get();
  while (true) {
    // A provider that goes silent (no heartbeat) loses its tunnel and its routes.
    net::Watchdog dog(ex, options_.deadAfter, [sp] { sp->reset(); });
    auto m = co_await reader.next();
    dog.disarm();
    if (!m) {
      if (m.error().code().category() == protocol::protocolCategory()) {
        refuse("bad_request", m.error().message());
      }
      break;
    }
    if (!*m) break;
    if (options_.isAllowed && !options_.isAllowed(conn->peer)) {
      refuse("not_allowed", "provider " + peer + " is no longer on this gateway's allowlist");
      break;  // the tunnel ends; its routes go below
    }
    if (auto* hb = std::get_if<protocol::Heartbeat>(&**m)) {
      (void)hb;
      push(protocol::Heartbeat{protocol::unixMillisNow()});
      continue;
    }
    if (!protocol::isRequest(protocol::typeOf(**m))) {
      refuse("bad_request", "unexpected message on the tunnel");
      continue;
    }
    // Signed by the connection's provider, fresh, never seen: stops replays of a captured
    // registration and registrations in another provider's name.
    if (auto chk = protocol::checkRequest(**m, conn->peer, protocol::unixMillisNow(), replay_);
        !chk) {
      refuse("bad_request", chk.error().message());
      continue;
    }
    if (auto* reg = std::get_if<protocol::RegisterRoute>(&**m)) {
      if (auto no = addRoute(*reg, conn)) {
        refuse(no->code, no->why);
        continue;
      }
      const std::string url = routes_.find(reg->deploymentId)->url;
      mine.push_back(reg->deploymentId);
      spdlog::info("route {} → provider {}", reg->deploymentId, peer);
      if (options_.onRoute) options_.onRoute(reg->deploymentId);
      push(protocol::RouteRegistered{reg->deploymentId, url});
    } else if (auto* unreg = std::get_if<protocol::UnregisterRoute>(&**m)) {
      routes_.remove(unreg->deploymentId, conn->peer);
      spdlog::info("route {} removed by its provider", unreg->deploymentId);
    } else {
      refuse("bad_request", "unexpected request on the tunnel");
    }
  }
  out->close();
  // The tunnel is gone: so are its routes (a request now gets 404, not a hang).
  for (const auto& dep : mine) {
    if (auto* r = routes_.find(dep); r != nullptr && r->conn == conn) {
      routes_.remove(dep, conn->peer);
    }
  }
  spdlog::info("tunnel from {} closed", peer);
}

}  // namespace pc::tunnel
