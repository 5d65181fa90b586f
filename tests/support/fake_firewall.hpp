#pragma once
/// A Firewall that keeps its "rules" in memory: for provider and gateway tests that run without
/// root. It records what was admitted and released, and can be told to fail.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "egress/error.hpp"
#include "egress/firewall.hpp"

namespace pc::test {

class FakeFirewall final : public egress::Firewall {
 public:
  std::map<std::string, egress::Confinement> confined;  ///< by deployment id
  std::vector<std::string> log;                         ///< "admit dep mode", "release dep"
  std::optional<std::string> failWith;                  ///< every call fails with this reason
  bool interfacesExist = true;
  std::vector<egress::Address> resolvers;  ///< the last ones followResolvers was told

  Result<void> install() override {
    if (failWith) return egress::fail(egress::Errc::kCommandFailed, *failWith);
    return {};
  }
  boost::asio::awaitable<bool> hasInterface(std::string) override { co_return interfacesExist; }
  boost::asio::awaitable<Result<void>> admit(egress::Confinement c) override {
    if (failWith) co_return egress::fail(egress::Errc::kCommandFailed, *failWith);
    log.push_back("admit " + c.deploymentId + " " + egress::toString(c.mode));
    confined[c.deploymentId] = c;
    co_return Result<void>{};
  }
  boost::asio::awaitable<Result<void>> release(std::string id) override {
    log.push_back("release " + id);
    confined.erase(id);
    co_return Result<void>{};
  }
  boost::asio::awaitable<Result<std::vector<std::string>>> repair(
      std::vector<egress::Confinement> running) override {
    if (failWith) co_return egress::fail(egress::Errc::kCommandFailed, *failWith);
    std::vector<std::string> missing;
    for (auto& c : running) {
      if (!confined.contains(c.deploymentId)) missing.push_back(c.deploymentId);
      confined[c.deploymentId] = c;
    }
    co_return missing;
  }
  boost::asio::awaitable<Result<bool>> followResolvers(
      std::vector<egress::Address> now, std::vector<egress::Confinement> running) override {
    if (failWith) co_return egress::fail(egress::Errc::kCommandFailed, *failWith);
    if (now.empty() || now == resolvers) co_return false;
    resolvers = std::move(now);
    log.push_back("resolvers " + std::to_string(resolvers.size()) + " for " +
                  std::to_string(running.size()));
    co_return true;
  }
};

}  // namespace pc::test
