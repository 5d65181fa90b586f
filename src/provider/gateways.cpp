#include "provider/gateways.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "protocol/stream_protocols.hpp"

namespace pc::provider {

namespace asio = net::asio;
using asio::awaitable;

/// One publish across the gateways: each one's answer, and how many are still out.
struct GatewayTunnels::Fanout {
  Fanout(const asio::any_io_executor& ex, std::size_t n) : answers(n), left(n), done(ex) {}
  std::vector<std::optional<std::string>> answers;  ///< per gateway: its URL, if it answered
  std::size_t left;
  net::Signal done;  ///< a gateway's publish ended
};

/// One gateway's share of a publish, counted as ended when it is destroyed however its task
/// ends: answered, cancelled, or its frame destroyed unresumed at teardown (a parameter, so it
/// lives in the frame from the start).
class GatewayTunnels::FanoutTicket {
 public:
  explicit FanoutTicket(std::shared_ptr<Fanout> f) : f_(std::move(f)) {}
  FanoutTicket(FanoutTicket&&) noexcept = default;
  FanoutTicket(const FanoutTicket&) = delete;
  FanoutTicket& operator=(const FanoutTicket&) = delete;
  FanoutTicket& operator=(FanoutTicket&&) = delete;
  ~FanoutTicket() {
    if (f_) {
      --f_->left;
      f_->done.notify();
    }
  }
  Fanout& operator*() const { return *f_; }

 private:
  std::shared_ptr<Fanout> f_;
};

namespace {

awaitable<void> refuseStream(std::shared_ptr<net::yamux::Stream> s) {
  s->reset();
  co_return;
}

/// Marks a deployment as being published while it lives (answers for it are kept meanwhile,
/// though its record is not `running` yet), its route among those every tunnel registers.
class PublishingMark {
 public:
  PublishingMark(RoutesInFlight& inFlight, const tunnel::Route& r)
      : inFlight_(inFlight), id_(r.deploymentId) {
    auto& entry = inFlight_[id_];
    entry.route = r;
    ++entry.publishes;
  }
  PublishingMark(const PublishingMark&) = delete;
  PublishingMark& operator=(const PublishingMark&) = delete;
  ~PublishingMark() {
    if (--inFlight_[id_].publishes == 0) inFlight_.erase(id_);
  }

 private:
  RoutesInFlight& inFlight_;
  std::string id_;
};

/// The routes a tunnel registers on a (new) session: the running deployments', and those being
/// published. A gateway that connects while a publish is in flight (its record not yet
/// `running`) would otherwise never get that route, and answer 404 for it until its next
/// reconnection.
GatewayTunnels::Routes withInFlight(GatewayTunnels::Routes running,
                                    std::shared_ptr<const RoutesInFlight> inFlight) {
  return [running = std::move(running), inFlight = std::move(inFlight)] {
    auto routes = running();
    for (const auto& entry : *inFlight) {
      const std::string& id = entry.first;  // (clang 14 cannot capture a structured binding)
      const bool listed = std::any_of(routes.begin(), routes.end(),
                                      [&](const tunnel::Route& x) { return x.deploymentId == id; });
      if (!listed) routes.push_back(entry.second.route);
    }
    return routes;
  };
}

}  // namespace

GatewayTunnels::GatewayTunnels(std::shared_ptr<net::Host> host,
                               const std::vector<net::Multiaddr>& gateways,
                               const tunnel::ProviderTunnelOptions& options, Routes routes,
                               TargetFor targetFor)
    : host_(std::move(host)),
      targetFor_(targetFor),
      urls_(gateways.size()),
      inFlight_(std::make_shared<RoutesInFlight>()),
      tasks_(host_->executor()) {
  const Routes all = withInFlight(std::move(routes), inFlight_);
  for (const auto& gw : gateways) {
    tunnel::ProviderTunnelOptions o = options;
    o.gateway = gw;
    tunnels_.push_back(std::make_shared<tunnel::ProviderTunnel>(host_, o, all, targetFor));
  }
}

void GatewayTunnels::install() {
  // A weak reference: the host owns its handlers, and we own (a share of) the host.
  std::weak_ptr<GatewayTunnels> weak = shared_from_this();
  host_->setHandler(std::string(protocol::kProxyProtocol),
                    [weak](std::shared_ptr<net::yamux::Stream> s,
                           std::shared_ptr<net::Connection> c) -> awaitable<void> {
                      auto self = weak.lock();
                      auto tunnel = self ? self->tunnelOf(c->peer) : nullptr;
                      if (!tunnel) {
                        // Only a configured gateway may open proxy streams: a trusted developer
                        // peer must not use the provider as a relay into its loopback ports.
                        if (self) {
                          spdlog::warn("security: proxy stream from {} (not a gateway) refused",
                                       c->peer.toBase58());
                        }
                        return refuseStream(std::move(s));
                      }
                      return tunnel->serveProxy(std::move(s), std::move(c));
                    });
}

void GatewayTunnels::start() {
  std::weak_ptr<GatewayTunnels> weak = shared_from_this();
  for (std::size_t i = 0; i < tunnels_.size(); ++i) {
    tunnels_[i]->onUrl([weak, i](const std::string& id, const std::string& url) {
      if (auto self = weak.lock()) self->answered(i, id, url);
    });
    tunnels_[i]->start();
  }
}

awaitable<void> GatewayTunnels::shutdown() {
  auto self = shared_from_this();
  for (auto& t : tunnels_) t->stop();
  co_await tasks_.shutdown(std::chrono::milliseconds(200));
  for (auto& t : tunnels_) co_await t->shutdown();
}

awaitable<std::vector<std::string>> GatewayTunnels::publish(tunnel::Route r) {
  auto self = shared_from_this();
  const std::string id = r.deploymentId;
  const PublishingMark mark(*inFlight_, r);
  auto fanout = std::make_shared<Fanout>(host_->executor(), tunnels_.size());
  // Every gateway at once: one that is slow to answer holds up none of the others.
  for (std::size_t i = 0; i < tunnels_.size(); ++i) {
    tasks_.spawn(publishOn(i, r, FanoutTicket(fanout)));
  }
  while (fanout->left > 0) {
    co_await fanout->done.wait();
  }
  for (std::size_t i = 0; i < tunnels_.size(); ++i) {
    if (fanout->answers[i]) (void)urls_.set(id, i, *fanout->answers[i]);
  }
  co_return urls_.urls(id);
}

awaitable<void> GatewayTunnels::publishOn(std::size_t index, tunnel::Route r, FanoutTicket ticket) {
  auto self = shared_from_this();
  const auto tunnel = tunnels_[index];
  auto url = co_await tunnel->publish(r);
  (*ticket).answers[index] = std::move(url);
}

void GatewayTunnels::withdraw(const std::string& deploymentId) {
  for (auto& t : tunnels_) t->withdraw(deploymentId);
  urls_.forget(deploymentId);
}

void GatewayTunnels::answered(std::size_t index, const std::string& id, const std::string& url) {
  // An answer for a deployment that is neither being published nor running (it stopped while
  // the registration was in flight) is dropped: the book holds live deployments only.
  if (!inFlight_->contains(id) && !targetFor_(id)) {
    return;
  }
  auto changed = urls_.set(id, index, url);
  if (changed && onUrls_) {
    onUrls_(id, *changed);
  }
}

std::size_t GatewayTunnels::connected() const {
  std::size_t n = 0;
  for (const auto& t : tunnels_) n += t->connected() ? 1U : 0U;
  return n;
}

bool GatewayTunnels::connected(std::size_t index) const {
  return index < tunnels_.size() && tunnels_[index]->connected();
}

std::shared_ptr<tunnel::ProviderTunnel> GatewayTunnels::tunnelOf(const crypto::PeerId& peer) const {
  for (const auto& t : tunnels_) {
    if (t->gatewayId() == peer) return t;
  }
  return nullptr;
}

}  // namespace pc::provider
