#include "support/provider_client.hpp"

#include "protocol/signing.hpp"
#include "rpc/message_stream.hpp"

namespace pc::test {

net::asio::awaitable<std::vector<protocol::Message>> askProvider(net::Host& host,
                                                                 net::Multiaddr addr,
                                                                 const crypto::Identity& who,
                                                                 protocol::Message m,
                                                                 std::string_view proto) {
  std::vector<protocol::Message> out;
  (void)protocol::sign(m, who);
  auto conn = co_await host.connect(addr);
  if (!conn) co_return out;
  const std::vector<std::string> protos{std::string(proto)};
  auto s = co_await host.newStream(*conn, protos);
  if (!s) co_return out;
  if (!co_await rpc::writeMessage(**s, m)) co_return out;
  rpc::MessageReader reader(**s);
  while (true) {
    auto msg = co_await reader.next();
    if (!msg || !*msg) break;
    out.push_back(std::move(**msg));
  }
  co_return out;
}

protocol::DeployRequest smallDeployRequest(std::string image) {
  protocol::DeployRequest req;
  req.header = protocol::newRequestHeader(protocol::unixMillisNow());
  req.image = std::move(image);
  req.cpuMillicores = 100;
  req.memoryBytes = 32 << 20;
  req.exposePort = 80;
  req.timeoutSeconds = 30;
  return req;
}

}  // namespace pc::test
