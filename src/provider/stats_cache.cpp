#include "provider/stats_cache.hpp"

#include <memory>

#include "core/time.hpp"

namespace pc::provider {

namespace asio = net::asio;
using asio::awaitable;

namespace {

/// One collection: shared by the caller and the engine calls, which may outlive the caller.
struct Pending {
  explicit Pending(const asio::any_io_executor& ex) : done(ex) {}
  std::size_t remaining = 0;
  bool expired = false;
  std::map<std::string, runtime::Stats> results;
  net::Signal done;
};

}  // namespace

StatsCache::StatsCache(asio::any_io_executor ex, runtime::Runtime& rt, net::TaskGroup& tasks,
                       std::chrono::seconds maxAge, std::chrono::milliseconds timeout)
    : ex_(std::move(ex)), rt_(rt), tasks_(tasks), maxAge_(maxAge), timeout_(timeout) {}

awaitable<std::map<std::string, runtime::Stats>> StatsCache::collect(
    std::vector<Deployment> deployments) {
  std::map<std::string, runtime::Stats> out;
  const auto now = std::chrono::steady_clock::now();
  auto pending = std::make_shared<Pending>(ex_);
  for (const auto& d : deployments) {
    if (d.state != protocol::DeploymentState::kRunning || d.containerId.empty()) {
      continue;
    }
    if (auto it = samples_.find(d.id); it != samples_.end() && now - it->second.at < maxAge_) {
      out[d.id] = it->second.stats;
      continue;
    }
    ++pending->remaining;
    // One engine call per container, all at once: the engine needs about a second per sample.
    tasks_.spawn([](StatsCache* self, std::shared_ptr<Pending> p, std::string id,
                    std::string cid) -> awaitable<void> {
      auto s = co_await self->rt_.stats(cid);
      if (s) {
        s->sampledAtMs = time::unixMillisNow();
        p->results[id] = *s;
        self->samples_[id] = Sample{std::chrono::steady_clock::now(), *s};
      }
      if (--p->remaining == 0) {
        p->done.notify();
      }
    }(this, pending, d.id, d.containerId));
  }
  if (pending->remaining > 0) {
    asio::steady_timer deadline(ex_, timeout_);
    // The handler owns what it touches: it may run after this frame is gone.
    deadline.async_wait([pending](boost::system::error_code ec) {
      if (!ec) {
        pending->expired = true;
        pending->done.notify();
      }
    });
    while (pending->remaining > 0 && !pending->expired) {
      co_await pending->done.wait();
    }
    deadline.cancel();
  }
  for (auto& [id, s] : pending->results) {
    out[id] = s;
  }
  co_return out;
}

}  // namespace pc::provider
