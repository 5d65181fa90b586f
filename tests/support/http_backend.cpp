#include "support/http_backend.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "net/multiaddr.hpp"

namespace pc::test {
namespace {

namespace asio = net::asio;

std::string hex(const unsigned char* d, unsigned n) {
  static constexpr std::string_view k = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; ++i) {
    s += k[d[i] >> 4];
    s += k[d[i] & 15];
  }
  return s;
}

/// One connection: buffered reads, one request head at a time.
class Conn {
 public:
  explicit Conn(std::shared_ptr<net::TcpStream> s) : s_(std::move(s)) {}

  asio::awaitable<void> serve() {
    while (co_await readHead()) {
      const bool keep = co_await answer();
      if (!keep || lower_.find("connection: close") != std::string::npos) co_return;
    }
  }

 private:
  std::shared_ptr<net::TcpStream> s_;
  std::string in_, head_, lower_, path_;

  asio::awaitable<bool> readMore() {
    std::array<std::uint8_t, 65536> buf{};
    auto n = co_await s_->readSome(buf);
    if (!n || *n == 0) co_return false;
    in_.append(reinterpret_cast<const char*>(buf.data()), *n);
    co_return true;
  }
  asio::awaitable<bool> send(const std::string& t) {
    co_return static_cast<bool>(
        co_await s_->write(BytesView(reinterpret_cast<const std::uint8_t*>(t.data()), t.size())));
  }
  static std::string ok(std::string_view body) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           std::string(body);
  }

  asio::awaitable<bool> readHead() {
    std::size_t end;
    while ((end = in_.find("\r\n\r\n")) == std::string::npos) {
      if (!co_await readMore()) co_return false;
    }
    head_ = in_.substr(0, end + 4);
    in_.erase(0, end + 4);
    lower_ = head_;
    for (auto& c : lower_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string line = head_.substr(0, head_.find("\r\n"));
    const auto sp = line.find(' ');
    path_ = line.substr(sp + 1, line.rfind(' ') - sp - 1);
    co_return true;
  }

  /// Answers the request just read; false when the connection must end.
  asio::awaitable<bool> answer() {
    if (path_ == "/") co_return co_await send(ok(kBackendBody));
    if (path_.starts_with("/bytes/")) co_return co_await sendPattern(std::stoull(path_.substr(7)));
    if (path_ == "/sha256") co_return co_await hashBody();
    if (path_ == "/headers") co_return co_await send(ok(head_));
    if (path_ == "/chunked") {
      co_return co_await send(
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\n\r\n");
    }
    if (path_ == "/ws" && lower_.find("upgrade: websocket") != std::string::npos) {
      co_await echo();
      co_return false;
    }
    co_return co_await send("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  }

  asio::awaitable<bool> sendPattern(std::uint64_t n) {
    if (!co_await send("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(n) + "\r\n\r\n")) {
      co_return false;
    }
    Bytes chunk(64 * 1024);
    for (std::uint64_t off = 0; off < n;) {
      const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), n - off));
      for (std::size_t i = 0; i < k; ++i) chunk[i] = patternByte(off + i);
      if (!co_await s_->write(BytesView(chunk.data(), k))) co_return false;
      off += k;
    }
    co_return true;
  }

  /// Feeds `n` body bytes to `ctx` as they arrive.
  asio::awaitable<bool> digest(EVP_MD_CTX* ctx, std::uint64_t n) {
    while (n > 0) {
      if (in_.empty() && !co_await readMore()) co_return false;
      const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(n, in_.size()));
      EVP_DigestUpdate(ctx, in_.data(), k);
      in_.erase(0, k);
      n -= k;
    }
    co_return true;
  }
  asio::awaitable<bool> digestChunked(EVP_MD_CTX* ctx) {
    while (true) {
      std::size_t eol;
      while ((eol = in_.find("\r\n")) == std::string::npos) {
        if (!co_await readMore()) co_return false;
      }
      const std::size_t size = std::stoul(in_.substr(0, eol), nullptr, 16);
      in_.erase(0, eol + 2);
      while (in_.size() < size + 2) {
        if (!co_await readMore()) co_return false;
      }
      EVP_DigestUpdate(ctx, in_.data(), size);
      in_.erase(0, size + 2);
      if (size == 0) co_return true;
    }
  }
  asio::awaitable<bool> hashBody() {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
    bool read = false;
    if (lower_.find("transfer-encoding: chunked") != std::string::npos) {
      read = co_await digestChunked(ctx.get());
    } else {
      const auto cl = lower_.find("content-length: ");
      read = co_await digest(ctx.get(),
                             cl == std::string::npos ? 0 : std::stoull(lower_.substr(cl + 16)));
    }
    if (!read) co_return false;
    unsigned char md[32];
    unsigned mdLen = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &mdLen);
    co_return co_await send(ok(hex(md, mdLen)));
  }

  /// 101, then every byte back as it comes (a stand-in for a WebSocket server).
  asio::awaitable<void> echo() {
    if (!co_await send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\n\r\n")) {
      co_return;
    }
    while (true) {
      if (!in_.empty()) {
        const std::string out = std::move(in_);
        in_.clear();
        if (!co_await send(out)) co_return;
      }
      if (!co_await readMore()) co_return;
    }
  }
};

asio::awaitable<void> serveConn(std::shared_ptr<net::TcpStream> s) {
  Conn c(std::move(s));
  co_await c.serve();
}

asio::awaitable<void> acceptLoop(std::shared_ptr<net::tcp::acceptor> acc) {
  while (true) {
    auto [ec, sock] = co_await acc->async_accept(net::kNoThrow);
    if (ec) co_return;
    asio::co_spawn(acc->get_executor(),
                   serveConn(std::make_shared<net::TcpStream>(std::move(sock))), asio::detached);
  }
}

}  // namespace

std::shared_ptr<net::tcp::acceptor> startHttpBackend(const asio::any_io_executor& ex) {
  auto acc = std::make_shared<net::tcp::acceptor>(
      net::listenTcp(ex, net::Multiaddr::parse("/ip4/127.0.0.1/tcp/0").value()).value());
  asio::co_spawn(ex, acceptLoop(acc), asio::detached);
  return acc;
}

}  // namespace pc::test
