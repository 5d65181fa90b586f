#pragma once
/// ConfinedRuntime: the container runtime with the egress firewall in front of it. No container
/// of a deployment starts before the rules that confine it are installed and checked, and a
/// removed deployment's rules go with it. The scheduler and the reconciler drive it like any
/// Runtime, so no start path can skip the firewall.
///
/// Threading: one executor, like the Runtime it wraps.
#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "egress/firewall.hpp"
#include "runtime/runtime.hpp"

namespace pc::provider {

class ConfinedRuntime final : public runtime::Runtime {
 public:
  /// What a deployment's request allowed (the provider's mode narrows it).
  using NetworkOf = std::function<egress::Mode(const std::string& deploymentId)>;

  ConfinedRuntime(runtime::Runtime& inner, egress::Firewall& firewall, egress::Mode providerMode,
                  NetworkOf networkOf);

  /// How `deploymentId` is confined: its bridge and the narrower of the two modes.
  [[nodiscard]] egress::Confinement confinementOf(const std::string& deploymentId) const;

  /// Checks the rules of the confined deployments every `every` (`running` names them at the
  /// first check, when this process has admitted none yet: they were admitted by the one before
  /// it) and puts back whatever is missing (a dockerd
  /// restart, an `iptables -F`, a firewall reload), logging what it found; the first check is
  /// at once. Runs until cancelled (cancelling is safe).
  boost::asio::awaitable<void> watch(std::chrono::seconds every,
                                     std::function<std::vector<std::string>()> running);
  /// Where watch() reads the host's DNS resolvers at each check: when they change (DHCP on
  /// another network), the rules follow, so new deployments' DNS keeps working. Unset: the
  /// resolvers read at start stay.
  using ResolversSource = std::function<std::vector<egress::Address>()>;
  void followResolvers(ResolversSource source) { resolvers_ = std::move(source); }

  // -- Runtime: createAndStart, start and remove confine; the rest passes through --
  boost::asio::awaitable<Result<runtime::EngineInfo>> ping() override;
  boost::asio::awaitable<Result<void>> pull(std::string image,
                                            runtime::PullProgressFn progress) override;
  boost::asio::awaitable<Result<runtime::Started>> createAndStart(
      runtime::ContainerSpec spec) override;
  boost::asio::awaitable<Result<runtime::Started>> start(std::string id) override;
  boost::asio::awaitable<Result<void>> stop(std::string id, std::chrono::seconds grace) override;
  boost::asio::awaitable<Result<void>> remove(std::string id) override;
  boost::asio::awaitable<Result<runtime::ContainerInfo>> inspect(std::string id) override;
  boost::asio::awaitable<Result<void>> logs(std::string id, runtime::LogOptions options,
                                            runtime::LogSink sink) override;
  boost::asio::awaitable<Result<runtime::Stats>> stats(std::string id) override;
  boost::asio::awaitable<Result<std::optional<runtime::ImageInfo>>> inspectImage(
      std::string image) override;
  boost::asio::awaitable<Result<void>> removeImage(std::string image) override;
  boost::asio::awaitable<Result<std::vector<runtime::ContainerInfo>>> listOwned() override;
  boost::asio::awaitable<Result<void>> events(runtime::EventOptions options,
                                              runtime::EventSink sink) override;

 private:
  /// The bridge `deploymentId`'s rules confine, when no such bridge exists: the rules name the
  /// bridge, so a network on another one (left by an older provider) escapes them. nullopt when
  /// it is there.
  boost::asio::awaitable<std::optional<std::string>> missingBridge(std::string deploymentId);
  /// Installs and checks `deploymentId`'s rules; the error says the container was not started.
  boost::asio::awaitable<Result<void>> admit(const std::string& deploymentId);
  boost::asio::awaitable<void> release(const std::string& deploymentId);
  /// One check of the host's resolvers (watch): the rules follow a change, logged.
  boost::asio::awaitable<void> checkResolvers(std::vector<egress::Confinement> cs);

  runtime::Runtime& inner_;
  egress::Firewall& firewall_;
  egress::Mode providerMode_;
  NetworkOf networkOf_;
  ResolversSource resolvers_;
  /// Deployments whose rules are kept in place. Changed only on the executor, right before the
  /// firewall job is queued: the firewall runs jobs in order, so a check that read this set
  /// never puts back the rules of a deployment released after it.
  std::set<std::string> confined_;
};

}  // namespace pc::provider
