#include "gateway/http_proxy.hpp"

#include "gateway/http_head.hpp"

#include <spdlog/spdlog.h>

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cctype>
#include <mutex>
#include <set>

#include "core/event_budget.hpp"
#include "net/error.hpp"
#include "net/pipe.hpp"
#include "net/tcp.hpp"
#include "net/watchdog.hpp"
#include "protocol/ids.hpp"
#include "protocol/messages.hpp"
#include "tunnel/proxy_header.hpp"

namespace pc::gateway {

namespace asio = net::asio;
using asio::awaitable;

namespace {

constexpr std::size_t kBodyChunk = 64 * 1024;
constexpr std::size_t kMaxResponseHeader = 64 * 1024;

/// A reusable, uninitialised I/O buffer: one per connection direction, so a request costs no
/// allocation and no zero-filling of fresh buffers (both showed up as the top of a profile).
/// Allocated on first use and released while the connection waits for its next request, so an
/// idle keep-alive connection holds no I/O buffer.
struct Scratch {
  std::unique_ptr<std::uint8_t[]> data;
  std::span<std::uint8_t> span() {
    if (!data) data.reset(new std::uint8_t[kBodyChunk]);
    return {data.get(), kBodyChunk};
  }
  void release() { data.reset(); }
};

awaitable<Result<std::size_t>> readMore(net::ByteStream& s, Bytes& buf, Scratch& scratch) {
  const auto span = scratch.span();
  auto n = co_await s.readSome(span);
  if (n && *n > 0) buf.insert(buf.end(), scratch.data.get(), scratch.data.get() + *n);
  co_return n;
}

void consume(Bytes& buf, std::size_t n) {
  buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
}

/// Appends body bytes to `pending`, with chunked framing when `chunked`.
void frameBody(Bytes& pending, BytesView data, bool chunked) {
  if (chunked) {
    char head[24];
    const int n = std::snprintf(head, sizeof head, "%zx\r\n", data.size());
    pending.insert(pending.end(), head, head + n);
  }
  pending.insert(pending.end(), data.begin(), data.end());
  if (chunked) {
    pending.push_back('\r');
    pending.push_back('\n');
  }
}

/// Relays the body of the message `p` is parsing from `from` (with `in` holding bytes already
/// read) to `to`. `pending` holds bytes to send first (the message head): they leave together
/// with the first body bytes, so a small message is one write (one encrypted frame, one
/// syscall) instead of two. Nothing is held back while waiting for more input.
template <class Parser>
awaitable<Result<void>> relayBody(Parser& p, net::ByteStream& from, Bytes& in, net::ByteStream& to,
                                  bool chunkedOut, Bytes& pending, Scratch& scratch) {
  // Decoded body bytes land in the scratch buffer; each batch is written (or copied into
  // `pending`) before the next read reuses it.
  const auto out = scratch.span();
  auto flush = [&]() -> awaitable<Result<void>> {
    if (pending.empty()) co_return Result<void>{};
    auto w = co_await to.write(pending);
    pending.clear();
    co_return w;
  };
  // A body of known length passes through raw: no decoding copy, reads go straight into the
  // scratch buffer and out again. (The parser is not consulted for this message any more; the
  // caller only uses its header.)
  if (!chunkedOut && !p.chunked() && !p.is_done()) {
    if (auto left = p.content_length_remaining()) {
      std::uint64_t remaining = *left;
      const std::size_t fromIn =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining, in.size()));
      if (fromIn > 0) {
        pending.insert(pending.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(fromIn));
        consume(in, fromIn);
        remaining -= fromIn;
      }
      if (auto w = co_await flush(); !w) co_return w.error();
      const auto buf = scratch.span();
      while (remaining > 0) {
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining, buf.size()));
        auto n = co_await from.readSome(buf.subspan(0, want));
        if (!n) co_return n.error();
        if (*n == 0) co_return net::fail(net::Errc::kClosed, "the body ended early");
        if (auto w = co_await to.write(BytesView(buf.data(), *n)); !w) co_return w.error();
        remaining -= *n;
      }
      co_return Result<void>{};
    }
  }
  while (!p.is_done()) {
    boost::system::error_code ec;
    std::size_t used = 0;
    p.get().body().data = out.data();
    p.get().body().size = out.size();
    if (!in.empty()) {
      used = p.put(asio::buffer(in.data(), in.size()), ec);
      consume(in, used);
      if (ec == http::error::need_buffer) ec = {};
    } else {
      ec = http::error::need_more;
    }
    const std::size_t produced = out.size() - p.get().body().size;
    if (produced > 0) {
      if (pending.empty() && !chunkedOut) {
        // The common streaming case: straight from the parse buffer, no copy.
        if (auto w = co_await to.write(BytesView(out.data(), produced)); !w) co_return w.error();
      } else {
        frameBody(pending, BytesView(out.data(), produced), chunkedOut);
        if (pending.size() >= kBodyChunk) {
          if (auto w = co_await flush(); !w) co_return w.error();
        }
      }
    }
    if (ec == http::error::need_more) {
      if (p.is_done()) break;
      if (auto w = co_await flush(); !w) co_return w.error();
      auto n = co_await readMore(from, in, scratch);
      if (!n) co_return n.error();
      if (*n == 0) {
        boost::system::error_code eofEc;
        p.put_eof(eofEc);  // completes a close-delimited body, fails a truncated one
        if (eofEc) {
          co_return net::fail(net::Errc::kClosed, "the body ended early (" + eofEc.message() + ")");
        }
      }
    } else if (ec) {
      co_return net::fail(net::Errc::kProtocolError, "bad message body: " + ec.message());
    }
  }
  if (chunkedOut) {
    static constexpr std::string_view kLast = "0\r\n\r\n";
    pending.insert(pending.end(), kLast.begin(), kLast.end());
  }
  co_return co_await flush();
}

/// A complete error response that closes the connection.
std::string errorResponse(int status, std::string_view reason, std::string_view text,
                          std::string_view extra = {}) {
  std::string body = "<!doctype html><title>" + std::to_string(status) + " " + std::string(reason) +
                     "</title><h1>" + std::to_string(status) + " " + std::string(reason) +
                     "</h1><p>" + std::string(text) + "</p>\n";
  std::string msg = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                    "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " +
                    std::to_string(body.size()) +
                    "\r\nConnection: close\r\nCache-Control: no-store\r\n" + std::string(extra) +
                    "\r\n" + body;
  return msg;
}

/// Callers pass a named string: GCC 12 destroys temporaries of a co_await expression twice.
/// Logs a refused request (smuggling shape, malformed or oversized header) as a security event
/// for the operator — at most kMaxSecurityLinesPerSecond a second, the rest counted in the next
/// line, so that a flood of bad requests cannot become a flood of log lines.
void securityEvent(const std::string& client, const std::string& what) {
  constexpr unsigned kMaxSecurityLinesPerSecond = 20;
  static std::mutex mutex;
  static EventBudget budget(kMaxSecurityLinesPerSecond);
  const std::lock_guard lock(mutex);
  const auto left = budget.admit();
  if (!left) return;
  if (*left > 0) {
    spdlog::warn("security: http {}: refused: {} ({} more refusals not logged)", client, what,
                 *left);
  } else {
    spdlog::warn("security: http {}: refused: {}", client, what);
  }
}

awaitable<void> sendAndClose(net::ByteStream& client, const std::string& msg) {
  (void)co_await client.write(
      BytesView(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()));
  (void)co_await client.closeWrite();
}

std::string htmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// The block a client address is counted in for the per-address connection bound: the address
/// itself for IPv4, its /64 for IPv6 (one host usually holds a whole /64, so counting single
/// addresses would let it open 2^64 times the bound).
std::string addressBlock(const asio::ip::address& a) {
  if (a.is_v4()) return a.to_string();
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) return v6.to_v4().to_string();
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return asio::ip::address_v6(bytes).to_string() + "/64";
}

}  // namespace

std::string clientAddressBlock(const std::string& ip) {
  boost::system::error_code ec;
  const auto a = asio::ip::make_address(ip, ec);
  return ec ? ip : addressBlock(a);
}

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
    if (!front_) return;
    auto it = front_->perIpConnections_.find(block_);
    if (it != front_->perIpConnections_.end() && --it->second == 0) {
      front_->perIpConnections_.erase(it);
    }
  }

 private:
  std::shared_ptr<HttpFront> front_;
  std::string block_;
};

/// Registers a connection as idle on `tunnel` for as long as it waits for its next request.
class HttpFront::IdleMark {
 public:
  IdleMark(HttpFront& front, const net::Connection* tunnel, std::function<void()> evict)
      : front_(front), tunnel_(tunnel) {
    if (tunnel_ == nullptr) return;  // holds no stream: nothing to give back
    auto& l = front_.idleByTunnel_[tunnel_];
    it_ = l.insert(l.end(), std::move(evict));
    registered_ = true;
  }
  IdleMark(const IdleMark&) = delete;
  IdleMark& operator=(const IdleMark&) = delete;
  ~IdleMark() {
    if (!registered_) return;
    // The entry is ours to erase, evicted (emptied) or not: evictIdle never erases.
    auto m = front_.idleByTunnel_.find(tunnel_);
    m->second.erase(it_);
    if (m->second.empty()) front_.idleByTunnel_.erase(m);
  }

 private:
  HttpFront& front_;
  const net::Connection* tunnel_;
  std::list<std::function<void()>>::iterator it_;
  bool registered_ = false;
};

bool HttpFront::evictIdle(const net::Connection* tunnel) {
  auto m = idleByTunnel_.find(tunnel);
  if (m == idleByTunnel_.end()) return false;
  for (auto& evict : m->second) {
    if (!evict) continue;
    // Emptied rather than erased: the waiting connection's IdleMark erases its own entry.
    auto f = std::move(evict);
    evict = nullptr;
    f();
    return true;
  }
  return false;
}

HttpFront::HttpFront(std::shared_ptr<net::Host> host, RouteTable& routes, FrontOptions options)
    : host_(std::move(host)),
      routes_(routes),
      options_(std::move(options)),
      perIp_(options_.ratePerIp,
             options_.burstPerIp > 0 ? options_.burstPerIp : options_.ratePerIp),
      perHost_(options_.ratePerHost,
               options_.burstPerHost > 0 ? options_.burstPerHost : options_.ratePerHost) {}

Result<net::Multiaddr> HttpFront::listen(const net::Multiaddr& addr) {
  return listenTls(addr, nullptr);
}

Result<net::Multiaddr> HttpFront::listenTls(const net::Multiaddr& addr,
                                            std::shared_ptr<TlsContext> tls) {
  auto acc = net::listenTcp(host_->executor(), addr);
  if (!acc) return acc.error();
  auto shared = std::make_shared<net::tcp::acceptor>(std::move(*acc));
  acceptors_.push_back(shared);
  asio::co_spawn(host_->executor(), acceptLoop(shared, std::move(tls)), asio::detached);
  return net::toMultiaddr(shared->local_endpoint());
}

awaitable<void> HttpFront::serveTls(net::tcp::socket socket, std::shared_ptr<TlsContext> tls,
                                    std::string clientIp, std::string clientAddr) {
  auto self = shared_from_this();
  ++connections_;  // a handshake in progress holds a connection slot too
  auto s = co_await acceptTls(std::move(socket), *tls, options_.headerTimeout);
  --connections_;
  if (!s) {
    spdlog::debug("TLS from {}: {}", clientAddr, s.error().message());
    co_return;
  }
  const std::string scheme = "https";  // named: no temporaries in a co_await expression
  co_await serve(*s, clientIp, clientAddr, scheme);
}

void HttpFront::close() {
  closed_ = true;
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
}

awaitable<void> HttpFront::acceptLoop(std::shared_ptr<net::tcp::acceptor> acceptor,
                                      std::shared_ptr<TlsContext> tls) {
  auto self = shared_from_this();
  while (!closed_) {
    auto [ec, sock] = co_await acceptor->async_accept(net::kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || closed_) co_return;
      // EMFILE and friends: back off briefly instead of spinning.
      asio::steady_timer t(host_->executor(), std::chrono::milliseconds(50));
      co_await t.async_wait(net::kNoThrow);
      continue;
    }
    if (connections_ >= options_.maxConnections) {
      // Over the connection bound: refuse at once rather than queueing without limit.
      boost::system::error_code ignored;
      sock.close(ignored);
      continue;
    }
    boost::system::error_code ignored;
    const auto ep = sock.remote_endpoint(ignored);
    if (ignored) continue;  // already gone (reset before we got to it)
    auto block = addressBlock(ep.address());
    // One address cannot hold more than its share of connections: idle keep-alive clients each
    // keep a tunnel stream, and enough of them from one host would leave a deployment answering
    // 503 to everyone else.
    if (options_.maxConnectionsPerIp > 0) {
      const auto it = perIpConnections_.find(block);
      if (it != perIpConnections_.end() && it->second >= options_.maxConnectionsPerIp) {
        sock.close(ignored);
        const std::string who = block;
        securityEvent(who, "connection over the per-address limit of " +
                               std::to_string(options_.maxConnectionsPerIp) +
                               " (max_connections_per_ip)");
        continue;
      }
    }
    sock.set_option(net::tcp::no_delay(true), ignored);
    std::string ip = ep.address().to_string();
    if (ep.address().is_v6() && ep.address().to_v6().is_v4_mapped()) {
      ip = ep.address().to_v6().to_v4().to_string();
    }
    std::string addr = ep.address().is_v6() ? "[" + ip + "]:" + std::to_string(ep.port())
                                            : ip + ":" + std::to_string(ep.port());
    asio::co_spawn(host_->executor(),
                   serveAccepted(std::move(sock), tls, std::move(ip), std::move(addr),
                                 IpSlot(self, std::move(block))),
                   asio::detached);
  }
}

awaitable<void> HttpFront::serveAccepted(net::tcp::socket socket, std::shared_ptr<TlsContext> tls,
                                         std::string clientIp, std::string clientAddr,
                                         IpSlot slot) {
  (void)slot;  // held until the connection ends
  if (tls) {
    co_await serveTls(std::move(socket), std::move(tls), std::move(clientIp),
                      std::move(clientAddr));
    co_return;
  }
  auto client = std::make_shared<net::TcpStream>(std::move(socket));
  const std::string scheme = "http";  // named: no temporaries in a co_await expression
  co_await serve(client, clientIp, clientAddr, scheme);
}

awaitable<void> HttpFront::serve(std::shared_ptr<net::ByteStream> client, std::string clientIp,
                                 std::string clientAddr, std::string scheme) {
  auto self = shared_from_this();
  auto ex = host_->executor();
  ++connections_;
  struct Count {
    std::size_t& n;
    ~Count() { --n; }
  } count{connections_};

  // Client bytes not parsed yet; shared with the request-body pump, which may outlive a failed
  // exchange by a moment.
  auto inPtr = std::make_shared<Bytes>();
  Bytes& in = *inPtr;
  auto clientScratch = std::make_shared<Scratch>();  // shared with the request-body pump
  Scratch upScratch;
  std::shared_ptr<net::yamux::Stream> up;   // the proxy stream of this connection
  std::shared_ptr<net::Connection> upConn;  // its tunnel
  std::string upDep;
  Bytes upIn;  // upstream bytes not parsed yet
  // Streams per tunnel are counted while a proxy stream is held.
  auto release = [&]() {
    if (upConn) {
      auto& n = routes_.streamsPerTunnel()[upConn.get()];
      if (n > 0) --n;
      if (n == 0) routes_.streamsPerTunnel().erase(upConn.get());
    }
    if (up) up->reset();
    up.reset();
    upConn.reset();
    upDep.clear();
    upIn.clear();
  };
  struct Release {
    std::function<void()> f;
    ~Release() { f(); }
  } releaseOnExit{release};

  net::ByteStream* cp = client.get();
  // Rate limits count per address block: an IPv6 client rotating through its /64 is one client.
  const std::string clientBlock = clientAddressBlock(clientIp);
  bool first = true;
  while (true) {
    // ---- request header ------------------------------------------------------------------
    auto parser = std::make_shared<http::request_parser<http::buffer_body>>();
    parser->header_limit(static_cast<std::uint32_t>(options_.maxHeaderBytes));
    parser->body_limit(boost::none);
    {
      // Until a request starts, the idle timeout applies (keep-alive); once its first byte is
      // here (and from accept for the first request), the header timeout: a slowloris client
      // trickling header bytes is cut off.
      auto dog = std::make_unique<net::Watchdog>(
          ex, (first || !in.empty()) ? options_.headerTimeout : options_.idleTimeout,
          [cp] { cp->reset(); });
      bool armedForHeader = first || !in.empty();
      bool headerStarted = !in.empty();
      while (!parser->is_header_done()) {
        if (!in.empty()) {
          if (!armedForHeader) {
            dog =
                std::make_unique<net::Watchdog>(ex, options_.headerTimeout, [cp] { cp->reset(); });
            armedForHeader = true;
          }
          boost::system::error_code ec;
          const std::size_t used = parser->put(asio::buffer(in.data(), in.size()), ec);
          consume(in, used);
          if (parser->is_header_done()) break;
          if (ec == http::error::header_limit) {
            {
              const std::string errMsg =
                  errorResponse(431, "Request Header Fields Too Large",
                                "The request header exceeds " +
                                    std::to_string(options_.maxHeaderBytes) + " bytes.");
              securityEvent(clientAddr, "request header over the size limit (431)");
              co_await sendAndClose(*client, errMsg);
            }
            co_return;
          }
          if (ec && ec != http::error::need_more) {
            {
              const std::string errMsg =
                  errorResponse(400, "Bad Request", "Malformed request: " + ec.message());
              securityEvent(clientAddr, "malformed request: " + ec.message());
              co_await sendAndClose(*client, errMsg);
            }
            co_return;
          }
          if (in.size() > options_.maxHeaderBytes) {
            {
              const std::string errMsg = errorResponse(431, "Request Header Fields Too Large",
                                                       "The request header is too large.");
              securityEvent(clientAddr, "request header over the size limit (431)");
              co_await sendAndClose(*client, errMsg);
            }
            co_return;
          }
        }
        if (in.empty()) {
          // Between requests: hold no buffers while the client is idle, and let a request that
          // needs this connection's proxy stream more than we do take it.
          clientScratch->release();
          upScratch.release();
          in.shrink_to_fit();
          upIn.shrink_to_fit();
          IdleMark idle(*this, headerStarted ? nullptr : upConn.get(), [&release, cp] {
            release();
            cp->reset();
          });
          if (auto r = co_await client->waitReadable(); !r) co_return;
        }
        auto n = co_await readMore(*client, in, *clientScratch);
        if (!n || *n == 0) {
          // Closed, or cut by the timeout. Cut with part of a header sent is what a slowloris
          // client looks like: the operator hears of it (a silent preconnect is not logged).
          if (dog->fired() && armedForHeader && headerStarted) {
            const std::string what = "request header not complete within " +
                                     std::to_string(options_.headerTimeout.count()) +
                                     " ms (slow client cut)";
            securityEvent(clientAddr, what);
          }
          co_return;
        }
        headerStarted = true;
      }
    }
    first = false;
    auto& req = parser->get();

    // ---- framing checks (request smuggling) -------------------------------------------------
    const bool hasTe = req.find(http::field::transfer_encoding) != req.end();
    const bool hasCl = req.find(http::field::content_length) != req.end();
    if (hasTe && hasCl) {
      // Two ways to delimit one body: a front and a back end could disagree on where the next
      // request starts. Refused outright (RFC 9112 §6.3).
      {
        const std::string errMsg = errorResponse(
            400, "Bad Request", "Content-Length and Transfer-Encoding together are not accepted.");
        securityEvent(clientAddr, "Content-Length with Transfer-Encoding (smuggling shape)");
        co_await sendAndClose(*client, errMsg);
      }
      co_return;
    }
    if (hasTe && lowerAscii(trimOws(req[http::field::transfer_encoding])) != "chunked") {
      {
        const std::string errMsg =
            errorResponse(501, "Not Implemented", "Only Transfer-Encoding: chunked is supported.");
        securityEvent(clientAddr,
                      "Transfer-Encoding other than chunked: " +
                          std::string(req[http::field::transfer_encoding].substr(0, 64)));
        co_await sendAndClose(*client, errMsg);
      }
      co_return;
    }
    if (req.method() == http::verb::connect || req.target().empty() ||
        (req.target().front() != '/' && req.target() != "*")) {
      {
        const std::string errMsg =
            errorResponse(400, "Bad Request", "Only origin-form request targets are accepted.");
        securityEvent(clientAddr, "request target not in origin form");
        co_await sendAndClose(*client, errMsg);
      }
      co_return;
    }

    // ---- routing ------------------------------------------------------------------------------
    const std::string hostHeader(req[http::field::host]);
    if (constexpr std::string_view kAcmePath = "/.well-known/acme-challenge/";
        scheme == "http" && options_.acmeHttp01 && req.method() == http::verb::get &&
        req.target().starts_with(kAcmePath)) {
      const std::string_view token = req.target().substr(kAcmePath.size());
      const auto answer = options_.acmeHttp01(token);
      const std::string msg =
          answer ? "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                       std::to_string(answer->size()) + "\r\nConnection: close\r\n\r\n" + *answer
                 : errorResponse(404, "Not Found", "No such ACME challenge.");
      co_await sendAndClose(*client, msg);
      co_return;
    }
    if (scheme == "http" && options_.redirectHttpsPort != 0) {
      std::string hostOnly = hostHeader.substr(
          0, hostHeader.rfind(':') == std::string::npos || hostHeader.find(']') != std::string::npos
                 ? hostHeader.size()
                 : hostHeader.rfind(':'));
      if (hostOnly.find_first_of("\r\n \t") != std::string::npos || hostOnly.empty()) {
        const std::string errMsg = errorResponse(400, "Bad Request", "Bad Host header.");
        co_await sendAndClose(*client, errMsg);
        co_return;
      }
      std::string location = "https://" + hostOnly;
      if (options_.redirectHttpsPort != 443)
        location += ":" + std::to_string(options_.redirectHttpsPort);
      location.append(req.target().data(), req.target().size());
      const std::string errMsg =
          errorResponse(308, "Permanent Redirect", "This site is served over HTTPS.",
                        "Location: " + location + "\r\n");
      co_await sendAndClose(*client, errMsg);
      co_return;
    }
    const std::string dep = deploymentFromHost(hostHeader, options_.domain);
    if (dep.empty()) {
      {
        const std::string errMsg =
            errorResponse(404, "Not Found",
                          "Unknown host " + htmlEscape(hostHeader) +
                              ": this gateway serves <code>&lt;deployment-id&gt;." +
                              htmlEscape(options_.domain) + "</code>.");
        co_await sendAndClose(*client, errMsg);
      }
      co_return;
    }
    if (const int wait = perIp_.take(clientBlock); wait > 0) {
      {
        const std::string errMsg = errorResponse(429, "Too Many Requests", "Slow down.",
                                                 "Retry-After: " + std::to_string(wait) + "\r\n");
        co_await sendAndClose(*client, errMsg);
      }
      co_return;
    }
    if (const int wait = perHost_.take(dep); wait > 0) {
      {
        const std::string errMsg = errorResponse(429, "Too Many Requests",
                                                 "This deployment is receiving too many requests.",
                                                 "Retry-After: " + std::to_string(wait) + "\r\n");
        co_await sendAndClose(*client, errMsg);
      }
      co_return;
    }
    RouteEntry* route = routes_.find(dep);
    if (route == nullptr) {
      {
        const std::string errMsg = errorResponse(
            404, "Not Found", "No deployment " + dep + " is served here (it may have stopped).");
        co_await sendAndClose(*client, errMsg);
      }
      co_return;
    }
    if (!route->conn->isOpen()) {
      {
        const std::string errMsg =
            errorResponse(502, "Bad Gateway", "The provider of " + dep + " is offline.");
        co_await sendAndClose(*client, errMsg);
      }
      co_return;
    }
    Bytes upPending;  // bytes for the proxy stream not written yet
    if (!up || upDep != dep || up->session().isClosed()) {
      release();
      auto& inUse = routes_.streamsPerTunnel()[route->conn.get()];
      if (inUse >= options_.maxStreamsPerTunnel && !evictIdle(route->conn.get())) {
        {
          const std::string errMsg =
              errorResponse(503, "Service Unavailable",
                            "The provider's tunnel is at its connection limit; try again shortly.",
                            "Retry-After: 1\r\n");
          co_await sendAndClose(*client, errMsg);
        }
        co_return;
      }
      auto conn = route->conn;
      const std::vector<std::string> protos{std::string(protocol::kProxyProtocol)};
      auto s = co_await host_->newStream(conn, protos);
      if (!s) {
        {
          const std::string errMsg =
              errorResponse(502, "Bad Gateway", "The provider of " + dep + " cannot be reached.");
          co_await sendAndClose(*client, errMsg);
        }
        co_return;
      }
      ++routes_.streamsPerTunnel()[conn.get()];
      up = *s;
      upConn = conn;
      upDep = dep;
      // The proxy header leaves together with the first request head (one frame).
      upPending = tunnel::encodeProxyHeader({dep, clientAddr});
    }

    // ---- request head upstream ----------------------------------------------------------------
    const bool upgrade = parser->upgrade();
    const bool chunkedReq = parser->chunked();
    const unsigned version = req.version() == 10 ? 10 : 11;
    std::optional<std::uint64_t> contentLength;
    if (auto cl = parser->content_length()) contentLength = *cl;
    const std::string head = upstreamRequestHead(req, version, chunkedReq, contentLength, upgrade,
                                                 clientIp, scheme, hostHeader);
    upPending.insert(upPending.end(), head.begin(), head.end());
    if (parser->is_done()) {
      if (auto w = co_await up->write(upPending); !w) {
        {
          const std::string errMsg = errorResponse(
              502, "Bad Gateway", "The provider of " + dep + " dropped the connection.");
          co_await sendAndClose(*client, errMsg);
        }
        co_return;
      }
      upPending.clear();
    }

    // ---- request body upstream, concurrently with the response --------------------------------
    struct Pump {
      explicit Pump(const asio::any_io_executor& e) : done(e) {}
      net::Signal done;
      bool finished = false;
      bool ok = true;
      std::string badBody;  ///< set when the client's body was malformed (a 400, not a 502)
    };
    auto pump = std::make_shared<Pump>(ex);
    if (parser->is_done()) {
      pump->finished = true;
    } else {
      auto upStream = up;
      auto headBytes = std::make_shared<Bytes>(std::move(upPending));
      asio::co_spawn(
          ex,
          [pump, parser, client, upStream, inPtr, chunkedReq, headBytes,
           clientScratch]() -> awaitable<void> {
            // The head goes out with the first body bytes (or before waiting for them).
            auto r = co_await relayBody(*parser, *client, *inPtr, *upStream, chunkedReq, *headBytes,
                                        *clientScratch);
            if (!r) {
              pump->ok = false;
              if (r.error() == net::make_error_code(net::Errc::kProtocolError)) {
                pump->badBody = r.error().message();
              }
              upStream->reset();
            }
            pump->finished = true;
            pump->done.notify();
          },
          asio::detached);
    }

    // ---- response -----------------------------------------------------------------------------
    bool keepAlive = parser->keep_alive();
    bool upstreamReusable = true;
    bool switched = false;
    net::yamux::Stream* upp = up.get();
    while (true) {
      http::response_parser<http::buffer_body> res;
      res.header_limit(kMaxResponseHeader);
      res.body_limit(boost::none);
      if (req.method() == http::verb::head) res.skip(true);
      net::Watchdog dog(ex, options_.idleTimeout, [upp] { upp->reset(); });
      bool gotAny = !upIn.empty();
      while (!res.is_header_done()) {
        if (!upIn.empty()) {
          normalizeHeaderLineEnds(upIn, kMaxResponseHeader);
          boost::system::error_code ec;
          const std::size_t used = res.put(asio::buffer(upIn.data(), upIn.size()), ec);
          consume(upIn, used);
          if (res.is_header_done()) break;
          if (ec && ec != http::error::need_more) {
            {
              const std::string errMsg =
                  errorResponse(502, "Bad Gateway", "The deployment sent a malformed response.");
              co_await sendAndClose(*client, errMsg);
            }
            co_return;
          }
        }
        auto n = co_await readMore(*up, upIn, upScratch);
        if (!n || *n == 0) {
          if (!gotAny && !pump->badBody.empty()) {
            // The client's fault, not the deployment's: its body could not be parsed.
            const std::string errMsg =
                errorResponse(400, "Bad Request", "Malformed request body: " + pump->badBody);
            securityEvent(clientAddr, "malformed request body: " + pump->badBody);
            co_await sendAndClose(*client, errMsg);
            co_return;
          }
          if (!gotAny) {
            {
              const std::string errMsg =
                  errorResponse(502, "Bad Gateway",
                                "The deployment " + dep +
                                    " did not answer (is it listening on its exposed port?).");
              co_await sendAndClose(*client, errMsg);
            }
          }
          co_return;
        }
        gotAny = true;
      }
      dog.disarm();
      auto& rh = res.get();
      const unsigned status = rh.result_int();
      // The parser takes any three digits; only 100–599 are statuses (RFC 9110 §15), and an
      // out-of-range one would be re-serialised as something else (099 → 99).
      if (status < 100 || status > 599) {
        const std::string errMsg =
            errorResponse(502, "Bad Gateway", "The deployment sent an invalid status code.");
        co_await sendAndClose(*client, errMsg);
        co_return;
      }
      std::string out = version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
      out += std::to_string(status) + " ";
      out.append(rh.reason().data(), rh.reason().size());
      out += "\r\n";
      appendEndToEndFields(out, rh.base());
      const bool informational = status >= 100 && status < 200;
      bool chunkedOut = false;
      bool closeDelimited = false;
      if (status == 101) {
        out += "Connection: Upgrade\r\nUpgrade: ";
        out.append(rh[http::field::upgrade].data(), rh[http::field::upgrade].size());
        out += "\r\n";
        switched = true;
      } else if (!informational) {
        if (auto cl = res.content_length(); cl && !res.chunked()) {
          out += "Content-Length: " + std::to_string(*cl) + "\r\n";
        } else if (res.chunked() && version == 11) {
          out += "Transfer-Encoding: chunked\r\n";
          chunkedOut = true;
        } else if (!res.is_done() && (res.chunked() || res.need_eof())) {
          closeDelimited = true;  // a 1.0 client gets the body delimited by our close
        }
        if (!res.keep_alive()) upstreamReusable = false;
        keepAlive = keepAlive && !closeDelimited;
        out += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
      }
      out += "\r\n";
      Bytes resHead(out.begin(), out.end());
      if (switched || informational) {
        if (auto w = co_await client->write(resHead); !w) co_return;
        if (switched) break;
        continue;  // 100 Continue and friends: the final response follows
      }
      if (auto r = co_await relayBody(res, *up, upIn, *client, chunkedOut, resHead, upScratch);
          !r) {
        // Either side broke mid-body: nothing sane to add, drop both — the client abortively,
        // so that a body cut short (tunnel lost, provider gone) is an error to it and never
        // passes for a complete close-delimited response.
        client->reset();
        co_return;
      }
      if (closeDelimited) keepAlive = false;
      break;
    }

    if (switched) {
      // Upgraded (WebSocket, h2c, …): from here on raw bytes both ways. What either side sent
      // right after the handshake goes first.
      while (!pump->finished) co_await pump->done.wait();
      if (!in.empty()) (void)co_await up->write(in);
      if (!upIn.empty()) (void)co_await client->write(upIn);
      in.clear();
      upIn.clear();
      std::shared_ptr<net::ByteStream> a = client;
      std::shared_ptr<net::ByteStream> b = up;
      (void)co_await net::pipeBoth(a, b, options_.idleTimeout);
      co_return;
    }
    // The response is complete. A request body still being sent (the server answered early)
    // leaves the connection in an unknown state: close it.
    if (!pump->finished) {
      up->reset();
      while (!pump->finished) co_await pump->done.wait();
      keepAlive = false;
    }
    if (!pump->ok) keepAlive = false;
    if (!keepAlive) {
      (void)co_await client->closeWrite();
      co_return;
    }
    if (!upstreamReusable) release();
  }
}

}  // namespace pc::gateway
