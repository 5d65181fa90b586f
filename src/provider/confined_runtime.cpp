#include "provider/confined_runtime.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "egress/error.hpp"
#include "runtime/error.hpp"

namespace pc::provider {

namespace asio = boost::asio;
using asio::awaitable;

ConfinedRuntime::ConfinedRuntime(runtime::Runtime& inner, egress::Firewall& firewall,
                                 egress::Mode providerMode, NetworkOf networkOf)
    : inner_(inner),
      firewall_(firewall),
      providerMode_(providerMode),
      networkOf_(std::move(networkOf)) {}

egress::Confinement ConfinedRuntime::confinementOf(const std::string& deploymentId) const {
  return {deploymentId, runtime::deploymentInterface(deploymentId),
          egress::narrower(providerMode_, networkOf_(deploymentId))};
}

awaitable<Result<void>> ConfinedRuntime::admit(const std::string& deploymentId) {
  const egress::Confinement c = confinementOf(deploymentId);
  confined_.insert(deploymentId);
  auto r = co_await firewall_.admit(c);
  if (!r) {
    confined_.erase(deploymentId);
    spdlog::error("{}: egress rules not in place, container not started: {}", deploymentId,
                  r.error().message());
    co_return r.error().context("the provider could not confine the container (not started)");
  }
  co_return Result<void>{};
}

awaitable<void> ConfinedRuntime::release(const std::string& deploymentId) {
  confined_.erase(deploymentId);
  if (auto r = co_await firewall_.release(deploymentId); !r) {
    spdlog::warn("{}: its egress rules were not removed: {}", deploymentId, r.error().message());
  }
}

awaitable<std::optional<std::string>> ConfinedRuntime::missingBridge(std::string deploymentId) {
  std::string iface = runtime::deploymentInterface(deploymentId);
  if (co_await firewall_.hasInterface(iface)) co_return std::nullopt;
  co_return iface;
}

awaitable<Result<runtime::Started>> ConfinedRuntime::createAndStart(runtime::ContainerSpec spec) {
  const std::string id = spec.deploymentId;
  if (auto a = co_await admit(id); !a) co_return a.error();
  auto started = co_await inner_.createAndStart(std::move(spec));
  if (!started) {
    co_await release(id);
    co_return started.error();
  }
  // A network on another bridge (one left by an older provider and adopted) is removed at once,
  // not served.
  if (const auto iface = co_await missingBridge(id)) {
    const std::string cid = started->id;
    (void)co_await inner_.remove(cid);
    co_await release(id);
    co_return egress::fail(egress::Errc::kWrongNetwork,
                           "the deployment's network is not on bridge " + *iface +
                               " (a network left by an older provider?); the container was "
                               "removed: deploy again");
  }
  co_return started;
}

awaitable<Result<runtime::Started>> ConfinedRuntime::start(std::string id) {
  auto info = co_await inner_.inspect(id);
  if (!info) co_return info.error();
  // Its network must be on the bridge the rules name before it runs again.
  const std::string dep = info->deploymentId;  // (GCC 12: a named local in the co_await)
  if (const auto iface = co_await missingBridge(dep)) {
    co_return egress::fail(
        egress::Errc::kWrongNetwork,
        "the deployment's network is not on bridge " + *iface + "; not started: deploy again");
  }
  if (auto a = co_await admit(dep); !a) co_return a.error();
  co_return co_await inner_.start(std::move(id));
}

awaitable<Result<void>> ConfinedRuntime::remove(std::string id) {
  auto info = co_await inner_.inspect(id);
  auto r = co_await inner_.remove(std::move(id));
  const bool gone = r || r.error() == runtime::Errc::kNoSuchContainer;
  if (gone && info && !info->deploymentId.empty()) {
    co_await release(info->deploymentId);
  }
  co_return r;
}

awaitable<void> ConfinedRuntime::watch(std::chrono::seconds every,
                                       std::function<std::vector<std::string>()> running) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::string lastProblem;
  for (bool first = true;; first = false) {
    // The first check runs at once: a provider restarted after a reboot (or a flush) puts its
    // running deployments' rules back before anything else.
    if (!first) {
      timer.expires_after(every);
      co_await timer.async_wait(asio::use_awaitable);
    }
    if (first) {
      for (const auto& id : running()) confined_.insert(id);
    }
    std::vector<egress::Confinement> cs;
    for (const auto& id : confined_) cs.push_back(confinementOf(id));
    if (resolvers_) co_await checkResolvers(cs);
    auto r = co_await firewall_.repair(std::move(cs));
    if (!r) {
      // Said once per cause: every deploy is refused meanwhile, with this reason.
      if (r.error().message() != lastProblem) {
        spdlog::error("egress rules cannot be checked or put back: {}", r.error().message());
      }
      lastProblem = r.error().message();
      continue;
    }
    lastProblem.clear();
    for (const auto& m : *r) {
      spdlog::error("{} (removed from outside: a firewall reload or flush?); put back", m);
    }
  }
}

awaitable<void> ConfinedRuntime::checkResolvers(std::vector<egress::Confinement> cs) {
  std::vector<egress::Address> now = resolvers_();
  auto changed = co_await firewall_.followResolvers(now, std::move(cs));
  if (!changed) {
    spdlog::error("egress: the rules could not follow the host's DNS resolvers: {}",
                  changed.error().message());
  } else if (*changed) {
    std::string list;
    for (const auto& a : now) list += (list.empty() ? "" : ", ") + a.to_string();
    spdlog::info(
        "egress: the host's DNS resolvers are now {}: deployments may reach them on "
        "port 53",
        list);
  }
}

awaitable<Result<runtime::EngineInfo>> ConfinedRuntime::ping() { return inner_.ping(); }
awaitable<Result<void>> ConfinedRuntime::pull(std::string image, runtime::PullProgressFn p) {
  return inner_.pull(std::move(image), std::move(p));
}
awaitable<Result<void>> ConfinedRuntime::stop(std::string id, std::chrono::seconds grace) {
  return inner_.stop(std::move(id), grace);
}
awaitable<Result<runtime::ContainerInfo>> ConfinedRuntime::inspect(std::string id) {
  return inner_.inspect(std::move(id));
}
awaitable<Result<void>> ConfinedRuntime::logs(std::string id, runtime::LogOptions o,
                                              runtime::LogSink sink) {
  return inner_.logs(std::move(id), o, std::move(sink));
}
awaitable<Result<runtime::Stats>> ConfinedRuntime::stats(std::string id) {
  return inner_.stats(std::move(id));
}
awaitable<Result<std::optional<runtime::ImageInfo>>> ConfinedRuntime::inspectImage(
    std::string image) {
  return inner_.inspectImage(std::move(image));
}
awaitable<Result<void>> ConfinedRuntime::removeImage(std::string image) {
  return inner_.removeImage(std::move(image));
}
awaitable<Result<std::vector<runtime::ContainerInfo>>> ConfinedRuntime::listOwned() {
  auto owned = co_await inner_.listOwned();
  if (!owned) co_return owned;
  // What the provider adopts at start (a container running on): one whose network is not on the
  // bridge its rules name (made by an older provider) would run with no egress rules at all, the
  // catch-alls matching only our bridges. It is removed rather than adopted.
  std::vector<runtime::ContainerInfo> kept;
  for (auto& c : *owned) {
    std::optional<std::string> iface;
    const std::string dep = c.deploymentId;
    if (c.state == runtime::ContainerState::kRunning) iface = co_await missingBridge(dep);
    if (iface) {
      spdlog::error(
          "{}: its network is not on bridge {}, so no egress rule confines it; its "
          "container {} is removed (deploy again)",
          c.deploymentId, *iface, c.id.substr(0, 12));
      const std::string cid = c.id;
      (void)co_await inner_.remove(cid);
      continue;
    }
    kept.push_back(std::move(c));
  }
  co_return kept;
}
awaitable<Result<void>> ConfinedRuntime::events(runtime::EventOptions o, runtime::EventSink sink) {
  return inner_.events(o, std::move(sink));
}

}  // namespace pc::provider
