#include "gateway/tls.hpp"

#include <openssl/ssl.h>

#include <boost/asio/ssl.hpp>

#include "net/error.hpp"
#include "net/watchdog.hpp"

namespace pc::gateway {

namespace asio = net::asio;
namespace ssl = boost::asio::ssl;

namespace {

class TlsStream final : public net::ByteStream {
 public:
  TlsStream(net::tcp::socket s, ssl::context& ctx) : ssl_(std::move(s), ctx) {}
  ssl::stream<net::tcp::socket>& ssl() { return ssl_; }

  net::Task<std::size_t> readSome(std::span<std::uint8_t> buf) override {
    auto [ec, n] =
        co_await ssl_.async_read_some(asio::buffer(buf.data(), buf.size()), net::kNoThrow);
    // A peer that closes without close_notify: for HTTP the framing says whether anything was
    // lost, so this is an ordinary end of stream here.
    if (ec == asio::error::eof || ec == ssl::error::stream_truncated) co_return std::size_t{0};
    if (ec) co_return net::fail(net::Errc::kClosed, "TLS read: " + ec.message());
    co_return n;
  }
  net::Task<void> write(BytesView data) override {
    auto [ec, n] =
        co_await asio::async_write(ssl_, asio::buffer(data.data(), data.size()), net::kNoThrow);
    (void)n;
    if (ec) co_return net::fail(net::Errc::kClosed, "TLS write: " + ec.message());
    co_return Result<void>{};
  }
  net::Task<void> closeWrite() override {
    // TLS has no half-close: end the TCP write side (the HTTP framing delimits every message).
    boost::system::error_code ec;
    ssl_.next_layer().shutdown(net::tcp::socket::shutdown_send, ec);
    co_return Result<void>{};
  }
  void reset() override {
    boost::system::error_code ec;
    ssl_.next_layer().close(ec);
  }

 private:
  ssl::stream<net::tcp::socket> ssl_;
};

}  // namespace

TlsContext::TlsContext() : ctx_(std::make_unique<ssl::context>(ssl::context::tls_server)) {}
TlsContext::~TlsContext() = default;

Result<std::shared_ptr<TlsContext>> TlsContext::fromFiles(const std::filesystem::path& chainPem,
                                                          const std::filesystem::path& keyPem) {
  std::shared_ptr<TlsContext> t(new TlsContext());
  auto& c = *t->ctx_;
  // TLS 1.2 minimum: older versions have known downgrade and padding-oracle weaknesses.
  SSL_CTX_set_min_proto_version(c.native_handle(), TLS1_2_VERSION);
  c.set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                ssl::context::single_dh_use);
  SSL_CTX_set_cipher_list(c.native_handle(), "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!MD5:!DSS:!RSA");
  boost::system::error_code ec;
  c.use_certificate_chain_file(chainPem.string(), ec);
  if (ec) {
    return fail(Errc::kInvalidArgument,
                "TLS certificate " + chainPem.string() + ": " + ec.message());
  }
  c.use_private_key_file(keyPem.string(), ssl::context::pem, ec);
  if (ec) {
    return fail(Errc::kInvalidArgument, "TLS key " + keyPem.string() + ": " + ec.message());
  }
  if (SSL_CTX_check_private_key(c.native_handle()) != 1) {
    return fail(Errc::kInvalidArgument, "TLS key " + keyPem.string() +
                                            " does not belong to certificate " + chainPem.string());
  }
  return t;
}

net::Task<std::shared_ptr<net::ByteStream>> acceptTls(net::tcp::socket socket, TlsContext& ctx,
                                                      std::chrono::milliseconds timeout) {
  auto s = std::make_shared<TlsStream>(std::move(socket), ctx.native());
  TlsStream* sp = s.get();
  net::Watchdog dog(co_await asio::this_coro::executor, timeout, [sp] { sp->reset(); });
  auto [ec] = co_await s->ssl().async_handshake(ssl::stream_base::server, net::kNoThrow);
  if (dog.fired()) co_return net::fail(net::Errc::kTimeout, "TLS handshake timed out");
  if (ec) co_return net::fail(net::Errc::kHandshakeFailed, "TLS handshake: " + ec.message());
  co_return std::shared_ptr<net::ByteStream>(s);
}

}  // namespace pc::gateway
