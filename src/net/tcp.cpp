#include "net/tcp.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>

#include <ifaddrs.h>

#include <net/if.h>
#include <netinet/in.h>
#include <algorithm>

#include "net/error.hpp"

namespace pc::net {

Multiaddr toMultiaddr(const tcp::endpoint& ep) {
  const auto addr = ep.address();
  std::string text = addr.is_v4() ? "/ip4/" + addr.to_string() : "/ip6/" + addr.to_v6().to_string();
  text += "/tcp/" + std::to_string(ep.port());
  auto ma = Multiaddr::parse(text);
  return ma ? *ma : Multiaddr{};
}

std::vector<Multiaddr> expandWildcard(const tcp::endpoint& bound) {
  if (!bound.address().is_unspecified()) return {toMultiaddr(bound)};
  const bool v6 = bound.address().is_v6();
  std::vector<Multiaddr> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {toMultiaddr(bound)};
  for (auto* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
    if (ifa->ifa_addr == nullptr || (ifa->ifa_flags & IFF_UP) == 0) continue;
    asio::ip::address addr;
    if (ifa->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ifa->ifa_addr);
      addr = asio::ip::address_v4(ntohl(sin->sin_addr.s_addr));
    } else if (ifa->ifa_addr->sa_family == AF_INET6 && v6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ifa->ifa_addr);
      asio::ip::address_v6::bytes_type b{};
      std::copy(std::begin(sin6->sin6_addr.s6_addr), std::end(sin6->sin6_addr.s6_addr), b.begin());
      const asio::ip::address_v6 a6(b);
      if (a6.is_link_local()) continue;  // needs a zone id to be dialable
      addr = a6;
    } else {
      continue;
    }
    auto ma = toMultiaddr(tcp::endpoint(addr, bound.port()));
    if (!ma.empty() && std::find(out.begin(), out.end(), ma) == out.end()) out.push_back(ma);
  }
  ::freeifaddrs(list);
  if (out.empty()) out.push_back(toMultiaddr(bound));
  return out;
}

TcpStream::TcpStream(tcp::socket socket) : socket_(std::move(socket)) {
  boost::system::error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  // Non-blocking once, here: tryReadSome must never block, and setting it per call cost an
  // ioctl on every read. Asio's async operations work the same in this mode.
  socket_.non_blocking(true, ec);
  if (auto ep = socket_.local_endpoint(ec); !ec) local_ = toMultiaddr(ep);
  if (auto ep = socket_.remote_endpoint(ec); !ec) remote_ = toMultiaddr(ep);
}

Task<std::size_t> TcpStream::readSome(std::span<std::uint8_t> buf) {
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf.data(), buf.size()), kNoThrow);
  if (ec == asio::error::eof) co_return std::size_t{0};
  if (ec) co_return fail(Errc::kClosed, "tcp read: " + ec.message());
  co_return n;
}

Result<std::size_t> TcpStream::tryReadSome(std::span<std::uint8_t> buf) {
  boost::system::error_code ec;
  const auto n = socket_.read_some(asio::buffer(buf.data(), buf.size()), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) return std::size_t{0};
  if (ec == asio::error::eof) return fail(Errc::kClosed, "connection closed");
  if (ec) return fail(Errc::kClosed, "tcp read: " + ec.message());
  return n;
}

Task<void> TcpStream::waitReadable() {
  auto [ec] = co_await socket_.async_wait(tcp::socket::wait_read, kNoThrow);
  if (ec) co_return fail(Errc::kClosed, "tcp wait: " + ec.message());
  co_return Result<void>{};
}

Task<void> TcpStream::write(BytesView data) {
  auto [ec, n] =
      co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()), kNoThrow);
  if (ec) co_return fail(Errc::kClosed, "tcp write: " + ec.message());
  co_return Result<void>{};
}

Task<void> TcpStream::closeWrite() {
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  co_return Result<void>{};
}

void TcpStream::reset() {
  // Abortive close (RST, not FIN): a peer must be able to tell a stream that was cut off from
  // one that ended — e.g. a close-delimited HTTP body cut short by a lost tunnel would otherwise
  // look complete to the client.
  boost::system::error_code ec;
  socket_.set_option(tcp::socket::linger(true, 0), ec);
  socket_.close(ec);
}

Task<std::vector<tcp::endpoint>> resolve(const Multiaddr& addr) {
  auto target = addr.tcpTarget();
  if (!target) co_return fail(Errc::kBadMultiaddr, addr.toString() + " is not a TCP address");
  if (target->hostProto == Proto::kIp4 || target->hostProto == Proto::kIp6) {
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(target->host, ec);
    if (ec) co_return fail(Errc::kBadMultiaddr, "bad address " + target->host);
    co_return std::vector<tcp::endpoint>{tcp::endpoint(ip, target->port)};
  }
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  auto [ec, results] =
      co_await resolver.async_resolve(target->host, std::to_string(target->port), kNoThrow);
  if (ec)
    co_return fail(Errc::kUnreachable, "cannot resolve " + target->host + ": " + ec.message());
  std::vector<tcp::endpoint> out;
  for (const auto& r : results) {
    const auto ep = r.endpoint();
    if (target->hostProto == Proto::kDns4 && !ep.address().is_v4()) continue;
    if (target->hostProto == Proto::kDns6 && !ep.address().is_v6()) continue;
    out.push_back(ep);
  }
  if (out.empty()) co_return fail(Errc::kUnreachable, "no usable address for " + target->host);
  co_return out;
}

namespace {

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

/// Connects `socket` (open, maybe bound) to `ep` within `timeout`; an empty string on success,
/// else why not.
asio::awaitable<std::string> connectWithin(tcp::socket& socket, const tcp::endpoint& ep,
                                           std::chrono::milliseconds timeout,
                                           boost::system::error_code& ecOut) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex, timeout);
  // The deadline closes the socket, which completes the pending connect with an error. Its
  // handler may already be queued (expired) when the connect completes, or when this frame is
  // destroyed: `armed` tells it whether the socket may still be touched, so it never reaches a
  // socket that is connected (and handed on) or gone.
  struct Deadline {
    bool armed = true;
    bool fired = false;
  };
  auto deadline = std::make_shared<Deadline>();
  struct Disarm {
    std::shared_ptr<Deadline> d;
    ~Disarm() { d->armed = false; }
  } disarm{deadline};
  timer.async_wait([deadline, &socket](boost::system::error_code ec) {
    if (!ec && deadline->armed) {
      deadline->fired = true;
      boost::system::error_code ignored;
      socket.close(ignored);
    }
  });
  auto [ec] = co_await socket.async_connect(ep, kNoThrow);
  deadline->armed = false;
  timer.cancel();
  ecOut = ec;
  if (!ec && socket.is_open()) co_return std::string();
  co_return deadline->fired ? "timed out after " + std::to_string(timeout.count()) + " ms"
                            : ec.message();
}

/// A socket for `protocol` bound to local `port` with SO_REUSEADDR + SO_REUSEPORT.
boost::system::error_code bindShared(tcp::socket& socket, const tcp::endpoint& remote,
                                     std::uint16_t port) {
  boost::system::error_code ec;
  socket.open(remote.protocol(), ec);
  if (!ec) socket.set_option(tcp::socket::reuse_address(true), ec);
  if (!ec) socket.set_option(ReusePort(true), ec);
  const auto any = remote.address().is_v4() ? asio::ip::address(asio::ip::address_v4::any())
                                            : asio::ip::address(asio::ip::address_v6::any());
  if (!ec) socket.bind(tcp::endpoint(any, port), ec);
  return ec;
}

bool portTaken(const boost::system::error_code& ec) {
  return ec == asio::error::address_in_use || ec == boost::system::errc::address_not_available;
}

}  // namespace

Task<std::unique_ptr<TcpStream>> dialTcp(const Multiaddr& addr, std::chrono::milliseconds timeout) {
  auto eps = co_await resolve(addr);
  if (!eps) co_return eps.error();
  auto ex = co_await asio::this_coro::executor;
  std::string lastError = "no endpoint";
  for (const auto& ep : *eps) {
    tcp::socket socket(ex);
    boost::system::error_code ec;
    lastError = co_await connectWithin(socket, ep, timeout, ec);
    if (lastError.empty()) co_return std::make_unique<TcpStream>(std::move(socket));
  }
  co_return fail(Errc::kUnreachable, "cannot connect to " + addr.toString() + ": " + lastError);
}

Task<std::unique_ptr<TcpStream>> dialTcpFrom(const Multiaddr& addr, std::uint16_t localPort,
                                             std::chrono::milliseconds timeout,
                                             bool fallbackEphemeral) {
  auto eps = co_await resolve(addr);
  if (!eps) co_return eps.error();
  auto ex = co_await asio::this_coro::executor;
  std::string lastError = "no endpoint";
  bool fallback = false;
  for (const auto& ep : *eps) {
    tcp::socket socket(ex);
    auto ec = bindShared(socket, ep, localPort);
    if (!ec) {
      lastError = co_await connectWithin(socket, ep, timeout, ec);
      if (lastError.empty()) co_return std::make_unique<TcpStream>(std::move(socket));
    } else {
      lastError = "bind to port " + std::to_string(localPort) + ": " + ec.message();
    }
    fallback = fallback || portTaken(ec);
  }
  if (fallback && fallbackEphemeral) co_return co_await dialTcp(addr, timeout);
  co_return fail(Errc::kUnreachable, "cannot connect to " + addr.toString() + " from port " +
                                         std::to_string(localPort) + ": " + lastError);
}

Result<tcp::acceptor> listenTcp(const asio::any_io_executor& ex, const Multiaddr& addr,
                                bool reusePort) {
  auto target = addr.tcpTarget();
  if (!target || (target->hostProto != Proto::kIp4 && target->hostProto != Proto::kIp6)) {
    return fail(Errc::kBadMultiaddr,
                "can only listen on /ip4 or /ip6 TCP addresses, not " + addr.toString());
  }
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(target->host, ec);
  const tcp::endpoint ep(ip, target->port);
  tcp::acceptor acceptor(ex);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  // Shared with dialTcpFrom's sockets (see listenTcp's comment for what SO_REUSEPORT allows).
  if (!ec && reusePort) acceptor.set_option(ReusePort(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return fail(Errc::kUnreachable, "cannot listen on " + addr.toString() + ": " + ec.message());
  return acceptor;
}

}  // namespace pc::net
