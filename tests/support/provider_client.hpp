#pragma once
/// A developer's side of the provider protocols, for in-process tests: signs a request, sends it
/// on a new stream and collects what the provider answers.
#include <string_view>
#include <vector>

#include "crypto/identity.hpp"
#include "net/host.hpp"
#include "protocol/messages.hpp"

namespace pc::test {

/// Sends `m`, signed by `who`, from `host` to the provider at `addr` on `proto`; returns every
/// message read until the stream ends (empty when the dial or the stream failed).
net::asio::awaitable<std::vector<protocol::Message>> askProvider(net::Host& host,
                                                                 net::Multiaddr addr,
                                                                 const crypto::Identity& who,
                                                                 protocol::Message m,
                                                                 std::string_view proto);

/// The last message of type T in `msgs` (a default T when there is none).
template <class T>
T lastOf(const std::vector<protocol::Message>& msgs) {
  T out{};
  for (const auto& m : msgs) {
    if (const auto* r = std::get_if<T>(&m)) out = *r;
  }
  return out;
}

/// A deploy of `image` with an exposed port 80 and small limits, as the node tests send it.
protocol::DeployRequest smallDeployRequest(std::string image);

}  // namespace pc::test
