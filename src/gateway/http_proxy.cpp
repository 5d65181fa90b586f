#include "gateway/http_proxy.hpp"

#include <spdlog/spdlog.h>

#include "gateway/http_connection.hpp"
#include "gateway/metrics.hpp"
#include "net/tcp.hpp"

namespace pc::gateway {

namespace asio = net::asio;
using asio::awaitable;

/// One open public connection counted against its address block; gives the slot back when the
/// connection ends, however it ends.
class HttpFront::IpSlot {
 public:
  IpSlot(std::shared_ptr<HttpFront> front, std::string block)
      : front_(std::move(front)), block_(std::move(block)) {
    ++front_->perIpConnections_[block_];
  }
  IpSlot(IpSlot&& o) noexcept = default;
  IpSlot& operator=(IpSlot&&) = delete;
  IpSlot(const IpSlot&) = delete;
  IpSlot& operator=(const IpSlot&) = delete;
  ~IpSlot() {
    if (!front_) {
      return;
    }
    auto it = front_->perIpConnections_.find(block_);
    if (it != front_->perIpConnections_.end() && --it->second == 0) {
      front_->perIpConnections_.erase(it);
    }
  }

 private:
  std::shared_ptr<HttpFront> front_;
  std::string block_;
};

bool HttpFront::evictIdle(const tunnel::StreamClaim& claim, IdleScope scope) {
  auto m = idleByTunnel_.find(claim.tunnel);
  if (m == idleByTunnel_.end()) {
    return false;
  }
  for (auto& e : m->second) {
    if (!e.evict || (scope == IdleScope::kClient && e.clientBlock != claim.clientBlock) ||
        (scope == IdleScope::kDeployment && e.deploymentId != claim.deploymentId)) {
      continue;
    }
    // Emptied rather than erased: the waiting connection's IdleMark erases its own entry.
    auto f = std::move(e.evict);
    e.evict = nullptr;
    f();
    return true;
  }
  return false;
}

HttpFront::HttpFront(std::shared_ptr<net::Host> host, tunnel::RouteTable& routes,
                     FrontOptions options)
    : host_(std::move(host)),
      routes_(routes),
      options_(std::move(options)),
      perIp_(options_.ratePerIp,
             options_.burstPerIp > 0 ? options_.burstPerIp : options_.ratePerIp),
      perHost_(options_.ratePerHost,
               options_.burstPerHost > 0 ? options_.burstPerHost : options_.ratePerHost),
      tasks_(host_->executor()) {}

Result<net::Multiaddr> HttpFront::listen(const net::Multiaddr& addr) {
  return listenTls(addr, nullptr);
}

Result<net::Multiaddr> HttpFront::listenTls(const net::Multiaddr& addr,
                                            std::shared_ptr<TlsContext> tls) {
  auto acc = net::listenTcp(host_->executor(), addr);
  if (!acc) {
    return acc.error();
  }
  auto shared = std::make_shared<net::tcp::acceptor>(std::move(*acc));
  acceptors_.push_back(shared);
  spawn([this, shared, tls = std::move(tls)] { return acceptLoop(shared, tls); });
  return net::toMultiaddr(shared->local_endpoint());
}

awaitable<void> HttpFront::serveTls(net::tcp::socket socket, std::shared_ptr<TlsContext> tls,
                                    PublicClient who) {
  auto self = shared_from_this();
  ++connections_;  // a handshake in progress holds a connection slot too
  auto s = co_await acceptTls(std::move(socket), *tls, options_.headerTimeout);
  --connections_;
  if (!s) {
    spdlog::debug("TLS from {}: {}", who.addr, s.error().message());
    co_return;
  }
  who.scheme = "https";
  who.sni = std::move(s->sni);
  co_await serve(std::move(s->stream), std::move(who));
}

void HttpFront::close() {
  closed_ = true;
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
}

awaitable<void> HttpFront::shutdown(std::chrono::milliseconds grace) {
  auto self = shared_from_this();
  close();
  co_await tasks_.shutdown(grace);
}

bool HttpFront::admitAddress(const std::string& block) {
  // One address cannot hold more than its share of connections: idle keep-alive clients each
  // keep a tunnel stream, and enough of them from one host would leave a deployment answering
  // 503 to everyone else.
  if (options_.maxConnectionsPerIp == 0) {
    return true;
  }
  const auto it = perIpConnections_.find(block);
  if (it == perIpConnections_.end() || it->second < options_.maxConnectionsPerIp) {
    return true;
  }
  logSecurityEvent(block, "connection over the per-address limit of " +
                              std::to_string(options_.maxConnectionsPerIp) +
                              " (max_connections_per_ip)");
  if (options_.metrics) {
    options_.metrics->refused(ConnectionRefusal::kMaxConnectionsPerIp, block);
  }
  return false;
}

awaitable<void> HttpFront::acceptLoop(std::shared_ptr<net::tcp::acceptor> acceptor,
                                      std::shared_ptr<TlsContext> tls) {
  auto self = shared_from_this();
  while (!closed_) {
    auto [ec, sock] = co_await acceptor->async_accept(net::kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || closed_) {
        co_return;
      }
      // EMFILE and friends: back off briefly instead of spinning.
      asio::steady_timer t(host_->executor(), std::chrono::milliseconds(50));
      co_await t.async_wait(net::kNoThrow);
      continue;
    }
    boost::system::error_code ignored;
    if (connections_ >= options_.maxConnections) {
      // Over the connection bound: refuse at once rather than queueing without limit.
      sock.close(ignored);
      if (options_.metrics) {
        options_.metrics->refused(ConnectionRefusal::kMaxConnections, "");
      }
      continue;
    }
    const auto ep = sock.remote_endpoint(ignored);
    if (ignored) {
      continue;  // already gone (reset before we got to it)
    }
    auto block = clientAddressBlock(ep.address());
    if (!admitAddress(block)) {
      sock.close(ignored);
      continue;
    }
    sock.set_option(net::tcp::no_delay(true), ignored);
    std::string ip = ep.address().to_string();
    if (ep.address().is_v6() && ep.address().to_v6().is_v4_mapped()) {
      ip = ep.address().to_v6().to_v4().to_string();
    }
    PublicClient who;
    who.addr = ep.address().is_v6() ? "[" + ip + "]:" + std::to_string(ep.port())
                                    : ip + ":" + std::to_string(ep.port());
    who.ip = std::move(ip);
    who.scheme = "http";
    who.localPort = sock.local_endpoint(ignored).port();
    // The slot is taken now (the next accept must see it) and moves into the task.
    auto slot = std::make_shared<IpSlot>(self, std::move(block));
    auto s = std::make_shared<net::tcp::socket>(std::move(sock));
    spawn([this, s, tls, who = std::move(who), slot] {
      return serveAccepted(std::move(*s), tls, who, std::move(*slot));
    });
  }
}

awaitable<void> HttpFront::serveAccepted(net::tcp::socket socket, std::shared_ptr<TlsContext> tls,
                                         PublicClient who, IpSlot slot) {
  (void)slot;  // held until the connection ends
  if (tls) {
    co_await serveTls(std::move(socket), std::move(tls), std::move(who));
    co_return;
  }
  auto client = std::make_shared<net::TcpStream>(std::move(socket));
  co_await serve(client, std::move(who));
}

awaitable<void> HttpFront::serve(std::shared_ptr<net::ByteStream> client, PublicClient who) {
  auto self = shared_from_this();
  ++connections_;
  struct Count {
    std::size_t& n;
    ~Count() { --n; }
  } count{connections_};
  if (options_.metrics) {
    client = std::make_shared<CountingStream>(std::move(client), *options_.metrics);
  }
  HttpConnection conn(*this, std::move(client), std::move(who));
  co_await conn.run();
}

}  // namespace pc::gateway
