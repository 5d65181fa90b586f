#pragma once
/// Resource use of running deployments for `status`: one engine call per container, all at once
/// (the engine needs about a second per sample), with samples cached for a while so a burst of
/// status calls does not become a burst of engine calls.
///
/// Threading: one executor (the daemon's single io_context thread); nothing here is thread-safe.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "net/asio.hpp"
#include "net/task_group.hpp"
#include "provider/store.hpp"
#include "runtime/runtime.hpp"

namespace pc::provider {

class StatsCache {
 public:
  /// Samples younger than `maxAge` are served from the cache; a collection waits at most
  /// `timeout` for the engine. The engine calls are tasks of `tasks`, which must end (shut down)
  /// before this cache is destroyed.
  StatsCache(net::asio::any_io_executor ex, runtime::Runtime& rt, net::TaskGroup& tasks,
             std::chrono::seconds maxAge, std::chrono::milliseconds timeout);

  /// Samples of the running deployments among `deployments` (others, and those without a sample
  /// in time, are absent from the map). Cancelling it is safe: the engine calls it started go on
  /// and fill the cache.
  net::asio::awaitable<std::map<std::string, runtime::Stats>> collect(
      std::vector<Deployment> deployments);

 private:
  struct Sample {
    std::chrono::steady_clock::time_point at;
    runtime::Stats stats;
  };
  net::asio::any_io_executor ex_;
  runtime::Runtime& rt_;
  net::TaskGroup& tasks_;
  std::chrono::seconds maxAge_;
  std::chrono::milliseconds timeout_;
  std::map<std::string, Sample> samples_;
};

}  // namespace pc::provider
