#include "dns/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "net/watchdog.hpp"

namespace pc::dns {

namespace asio = net::asio;
using boost::asio::ip::udp;
using net::kNoThrow;
using net::tcp;

Result<udp::endpoint> parseListen(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) {
    return fail(Errc::kInvalidArgument, "'" + std::string(text) + "': expected ADDRESS:PORT");
  }
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(host, ec);
  unsigned long port = 0;
  const std::string portText(text.substr(colon + 1));
  const bool digits = portText.find_first_not_of("0123456789") == std::string::npos;
  if (digits && portText.size() <= 5) port = std::stoul(portText);
  if (ec || !digits || port > 65535) {
    return fail(Errc::kInvalidArgument, "'" + std::string(text) + "': expected ADDRESS:PORT");
  }
  return udp::endpoint(addr, static_cast<std::uint16_t>(port));
}

Result<Addresses> parseAddresses(const std::vector<std::string>& ips) {
  Addresses out;
  for (const auto& ip : ips) {
    boost::system::error_code ec;
    const auto a = boost::asio::ip::make_address(ip, ec);
    if (ec) return fail(Errc::kInvalidArgument, "'" + ip + "' is not an IP address");
    if (a.is_v4()) {
      out.v4.push_back(a.to_v4().to_bytes());
    } else {
      out.v6.push_back(a.to_v6().to_bytes());
    }
  }
  if (out.size() > kMaxAddresses) {
    return fail(Errc::kInvalidArgument,
                "more than " + std::to_string(kMaxAddresses) + " addresses");
  }
  return out;
}

/// A TCP connection's place in the counts, given back when the connection ends.
class DnsServer::SourceSlot {
 public:
  SourceSlot(std::shared_ptr<DnsServer> server, ResponseBudget::Key source)
      : server_(std::move(server)), source_(source) {
    ++server_->tcpPerSource_[source_];
    ++server_->tcpOpen_;
  }
  SourceSlot(const SourceSlot&) = delete;
  SourceSlot& operator=(const SourceSlot&) = delete;
  ~SourceSlot() {
    --server_->tcpOpen_;
    auto it = server_->tcpPerSource_.find(source_);
    if (it != server_->tcpPerSource_.end() && --it->second == 0) server_->tcpPerSource_.erase(it);
  }

 private:
  std::shared_ptr<DnsServer> server_;
  ResponseBudget::Key source_;
};

DnsServer::DnsServer(const asio::any_io_executor& ex, std::shared_ptr<Zone> zone,
                     BudgetLimits budget)
    : ex_(ex), zone_(std::move(zone)), budget_(budget), udp_(ex), tcp_(ex), tasks_(ex) {}

Result<std::shared_ptr<DnsServer>> DnsServer::start(const asio::any_io_executor& ex,
                                                    const udp::endpoint& listen,
                                                    std::shared_ptr<Zone> zone,
                                                    BudgetLimits budget) {
  auto s = std::make_shared<DnsServer>(ex, std::move(zone), budget);
  if (auto r = s->bind(listen); !r) {
    s->close();
    return r.error();
  }
  s->tasks_.spawn([s] { return s->udpLoop(); });
  s->tasks_.spawn([s] { return s->acceptLoop(); });
  return s;
}

Result<void> DnsServer::bind(const udp::endpoint& listen) {
  // Port 0: the kernel picks a free UDP port, which may be taken for TCP; then another is tried
  // (tests start several servers side by side).
  constexpr int kEphemeralAttempts = 16;
  Result<void> r = bindOnce(listen);
  for (int i = 1; i < kEphemeralAttempts && !r && listen.port() == 0 && tcpPortTaken_; ++i) {
    r = bindOnce(listen);
  }
  return r;
}

Result<void> DnsServer::bindOnce(const udp::endpoint& listen) {
  boost::system::error_code ec;
  const auto where = [&](std::string_view what) {
    return fail(Errc::kIo, "dns_listen " + listen.address().to_string() + ":" +
                               std::to_string(listen.port()) + ": " + std::string(what) + ": " +
                               ec.message());
  };
  boost::system::error_code ignored;
  udp_.close(ignored);
  tcp_.close(ignored);
  tcpPortTaken_ = false;
  udp_.open(listen.protocol(), ec);
  if (!ec) udp_.bind(listen, ec);
  if (ec) return where("UDP");
  // Reads and sends never wait (UdpBatch uses MSG_DONTWAIT too): a full socket buffer drops the
  // response, as the network could.
  udp_.non_blocking(true, ec);
  endpoint_ = udp_.local_endpoint(ec);
  if (ec) return where("UDP");
  const tcp::endpoint tcpEp(endpoint_.address(), endpoint_.port());
  tcp_.open(tcpEp.protocol(), ec);
  if (!ec) tcp_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) tcp_.bind(tcpEp, ec);
  tcpPortTaken_ = ec == boost::asio::error::address_in_use;
  if (!ec) tcp_.listen(tcp::socket::max_listen_connections, ec);
  if (ec) return where("TCP");
  return {};
}

void DnsServer::close() {
  closed_ = true;
  boost::system::error_code ec;
  udp_.close(ec);
  tcp_.close(ec);
}

asio::awaitable<void> DnsServer::shutdown(std::chrono::milliseconds grace) {
  auto self = shared_from_this();
  close();
  co_await tasks_.shutdown(grace);
}

asio::awaitable<void> DnsServer::udpLoop() {
  UdpBatch batch;
  // Batches handled per wake-up before the loop yields to the other tasks (TCP, the gateway).
  constexpr int kBatchesPerWake = 8;
  while (!closed_) {
    auto [ec] = co_await udp_.async_wait(udp::socket::wait_read, kNoThrow);
    if (ec) co_return;  // closed or cancelled
    for (int round = 0; round < kBatchesPerWake && !closed_; ++round) {
      const std::size_t n = batch.receive(udp_.native_handle());
      for (std::size_t i = 0; i < n; ++i) {
        const auto query = batch.query(i);
        if (query.empty()) continue;  // over kMaxQuerySize: not a query we read
        auto response = answerDatagram(query, batch.source(i));
        if (!response.empty()) batch.reply(i, std::move(response));
      }
      batch.flush(udp_.native_handle());
      if (n < kUdpBatch) break;  // the queue is drained
    }
  }
}

Bytes DnsServer::answerDatagram(BytesView query, const udp::endpoint& from) {
  // Not worth a token: nothing is sent for these (short, or a response: QR=1).
  if (query.size() < net::dns::kHeaderSize || (query[2] & 0x80) != 0) return {};
  ++stats_.udpQueries;
  const auto verdict = budget_.take(from.address());
  if (verdict == ResponseBudget::Verdict::kDrop) {
    ++stats_.udpOverBudget;
    logOverBudget(from.address());
    return {};
  }
  const bool slip = verdict == ResponseBudget::Verdict::kSlip;
  auto r = zone_->respond(query, Transport::kUdp, slip);
  ++stats_.udpOutcomes[static_cast<std::size_t>(r.outcome)];
  if (!r.bytes.empty()) ++(slip ? stats_.udpSlipped : stats_.udpAnswered);
  return std::move(r.bytes);
}

void DnsServer::logOverBudget(const boost::asio::ip::address& source) {
  const auto left = logBudget_.admit();
  if (!left) return;
  const auto& l = budget_.limits();
  spdlog::warn(
      "dns: responses to {} over the budget (dns_responses_per_second = {}, "
      "dns_response_burst = {}): dropped, 1 in {} sent truncated (TC, dns_response_slip) so "
      "real clients retry over TCP{}",
      ResponseBudget::blockName(source), l.perSecond, l.burst, l.slip,
      *left > 0 ? " (" + std::to_string(*left) + " similar lines left out)" : "");
}

asio::awaitable<void> DnsServer::acceptLoop() {
  auto self = shared_from_this();
  while (!closed_) {
    auto [ec, sock] = co_await tcp_.async_accept(kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || closed_) co_return;
      // EMFILE and friends: back off briefly instead of spinning.
      co_await net::sleepFor(std::chrono::milliseconds(50));
      continue;
    }
    boost::system::error_code ignored;
    const auto peer = sock.remote_endpoint(ignored);
    if (ignored) continue;
    const auto block = ResponseBudget::keyOf(peer.address());
    const auto it = tcpPerSource_.find(block);
    // Each bound refuses at once: a client holding sockets idle cannot starve the others.
    if (tcpOpen_ >= kMaxTcpConnections ||
        (it != tcpPerSource_.end() && it->second >= kMaxTcpConnectionsPerSource)) {
      ++stats_.tcpRefused;
      if (logBudget_.admit()) {
        spdlog::warn(
            "dns: refused a TCP connection from {}: {} TCP connections at once "
            "(kMaxTcpConnections {}, kMaxTcpConnectionsPerSource {})",
            peer.address().to_string(),
            tcpOpen_ >= kMaxTcpConnections ? "over the server's" : "over its source's",
            kMaxTcpConnections, kMaxTcpConnectionsPerSource);
      }
      sock.close(ignored);
      continue;
    }
    ++stats_.tcpConnections;
    auto slot = std::make_shared<SourceSlot>(self, block);
    auto s = std::make_shared<tcp::socket>(std::move(sock));
    tasks_.spawn([self, s, slot] { return self->serveTcp(s, slot); });
  }
}

asio::awaitable<void> DnsServer::serveTcp(std::shared_ptr<tcp::socket> socket,
                                          std::shared_ptr<SourceSlot> slot) {
  (void)slot;  // held until the connection ends
  std::array<std::uint8_t, kMaxQuerySize> buf{};
  for (std::size_t answered = 0; !closed_ && answered < kMaxTcpQueriesPerConnection; ++answered) {
    // One deadline per message, from its first byte to its answer written: an idle or slow
    // client loses its connection (and slot) after kTcpIdleTimeout.
    net::Watchdog deadline(ex_, kTcpIdleTimeout, [socket] {
      boost::system::error_code ignored;
      socket->close(ignored);
    });
    std::array<std::uint8_t, 2> len{};
    auto [ec, n] = co_await asio::async_read(*socket, asio::buffer(len), kNoThrow);
    if (ec) co_return;
    const std::size_t size = (static_cast<std::size_t>(len[0]) << 8) | len[1];
    if (size == 0 || size > kMaxQuerySize) co_return;  // not a query we read: close
    auto [ec2, m] = co_await asio::async_read(*socket, asio::buffer(buf.data(), size), kNoThrow);
    if (ec2) co_return;
    ++stats_.tcpQueries;
    const auto r = zone_->respond(BytesView(buf.data(), size), Transport::kTcp);
    ++stats_.tcpOutcomes[static_cast<std::size_t>(r.outcome)];
    if (r.bytes.empty()) co_return;  // a response or junk: nothing to say, close
    Bytes out{static_cast<std::uint8_t>(r.bytes.size() >> 8),
              static_cast<std::uint8_t>(r.bytes.size())};
    append(out, r.bytes);
    auto [ec3, w] = co_await asio::async_write(*socket, asio::buffer(out), kNoThrow);
    if (ec3) co_return;
  }
}

}  // namespace pc::dns
