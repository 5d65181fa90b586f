// Host: dialling a peer by id over its known addresses, direct ones first and relayed ones
// after a head start.
#include <spdlog/spdlog.h>

#include "net/error.hpp"
#include "net/host.hpp"

namespace pc::net {
namespace {

/// The two dials of one connect(peer) and who won.
struct Race {
  explicit Race(const asio::any_io_executor& ex) : done(ex), headStart(ex) {}
  std::shared_ptr<Connection> winner;
  std::string directErrors;
  std::string relayErrors;
  int running = 2;
  Signal done;
  asio::steady_timer headStart;  ///< the relayed dial's wait; cut short when direct fails
};

}  // namespace

Task<std::shared_ptr<Connection>> Host::dialInOrder(std::vector<Multiaddr> addrs,
                                                    crypto::PeerId peer, std::string& errors) {
  for (const auto& a : addrs) {
    const auto target = a.withPeerId(peer);
    auto c = co_await connect(target);
    if (c) co_return c;
    errors += (errors.empty() ? "" : "; ") + a.toString() + ": " + c.error().message();
  }
  co_return fail(Errc::kUnreachable, "no address answered");
}

Task<std::shared_ptr<Connection>> Host::connect(const crypto::PeerId& peer) {
  auto self = shared_from_this();
  if (auto c = connectionTo(peer)) co_return c;
  auto it = addrBook_.find(peer);
  if (it == addrBook_.end() || it->second.empty()) {
    co_return fail(Errc::kUnreachable, "no known address for " + peer.toBase58());
  }
  std::vector<Multiaddr> direct;
  std::vector<Multiaddr> relayed;
  for (const auto& a : it->second) (a.isCircuit() ? relayed : direct).push_back(a);
  auto race = std::make_shared<Race>(ex_);
  auto finish = [race](Result<std::shared_ptr<Connection>> c) {
    if (c && !race->winner) {
      race->winner = *c;
    } else if (c && (*c)->isRelayed() && *c != race->winner) {
      (*c)->session->close();  // the direct dial won: this relayed one is not needed
    }
    --race->running;
    race->done.notify();
  };
  tasks_.spawn([self, race, direct, peer, finish]() -> asio::awaitable<void> {
    auto c = co_await self->dialInOrder(direct, peer, race->directErrors);
    race->headStart.cancel();  // failed or won: the relayed dial waits no longer
    finish(std::move(c));
  });
  tasks_.spawn(
      [self, race, relayed, peer, finish, hasDirect = !direct.empty()]() -> asio::awaitable<void> {
        // The head start only while a direct dial is still under way.
        if (!relayed.empty() && hasDirect && race->running == 2) {
          race->headStart.expires_after(self->config_.relayHeadStart);
          co_await race->headStart.async_wait(kNoThrow);
        }
        if (race->winner) {
          finish(fail(Errc::kUnreachable, "not needed"));
          co_return;
        }
        finish(co_await self->dialInOrder(relayed, peer, race->relayErrors));
      });
  while (!race->winner && race->running > 0) co_await race->done.wait();
  if (race->winner) co_return race->winner;
  std::string errors = race->directErrors;
  if (!race->relayErrors.empty()) errors += (errors.empty() ? "" : "; ") + race->relayErrors;
  co_return fail(Errc::kUnreachable, "cannot reach " + peer.toBase58() + " (" + errors + ")");
}

}  // namespace pc::net
