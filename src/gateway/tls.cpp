#include "gateway/tls.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl.hpp>
#include <ctime>

#include "core/ascii.hpp"
#include "net/error.hpp"
#include "net/watchdog.hpp"

namespace pc::gateway {

namespace asio = net::asio;
namespace ssl = boost::asio::ssl;

namespace {

constexpr std::string_view kAcmeAlpn = "acme-tls/1";

/// What the ClientHello callback decided for one connection.
struct HandshakeState {
  std::string waitHost;  ///< set when the handshake was paused for this host's certificate
  bool resumed = false;  ///< a paused handshake is resumed once; a second pause is a refusal
  bool acmeAlpn = false;
};

int handshakeStateIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

class TlsStream final : public net::ByteStream {
 public:
  TlsStream(net::tcp::socket s, ssl::context& ctx) : ssl_(std::move(s), ctx) {
    SSL_set_ex_data(ssl_.native_handle(), handshakeStateIndex(), &state_);
  }
  ssl::stream<net::tcp::socket>& ssl() { return ssl_; }
  HandshakeState& state() { return state_; }

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
    // Abortive close, as net::TcpStream::reset: a cut stream must not look like an ended one.
    boost::system::error_code ec;
    ssl_.next_layer().set_option(net::tcp::socket::linger(true, 0), ec);
    ssl_.next_layer().close(ec);
  }

 private:
  ssl::stream<net::tcp::socket> ssl_;
  HandshakeState state_;
};

/// Reads a 16-bit big-endian length at `p` (bounds checked by the caller).
std::size_t be16(const std::uint8_t* p) { return (std::size_t{p[0]} << 8) | p[1]; }

/// ClientHello callback of resolver contexts: SNI and ALPN read from the raw extensions (the
/// parsed servername is not available this early), the certificate set on this connection only.
int onClientHello(SSL* ssl, int* alert, void* arg) {
  auto* resolver = static_cast<CertResolver*>(arg);
  auto* st = static_cast<HandshakeState*>(SSL_get_ex_data(ssl, handshakeStateIndex()));
  if (resolver == nullptr || st == nullptr) return SSL_CLIENT_HELLO_SUCCESS;
  const unsigned char* p = nullptr;
  std::size_t len = 0;
  std::string sni;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len) == 1) {
    auto name = parseServerName(BytesView(p, len));
    if (!name) {
      *alert = SSL_AD_DECODE_ERROR;
      return SSL_CLIENT_HELLO_ERROR;
    }
    sni = std::move(*name);
  }
  bool acme = false;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &p,
                                &len) == 1) {
    acme = alpnOffers(BytesView(p, len), kAcmeAlpn);
  }
  CertChoice choice = resolver->choose(sni, acme);
  if (choice.kind == CertChoice::Kind::kWait && !st->resumed) {
    st->waitHost = sni;
    return SSL_CLIENT_HELLO_RETRY;
  }
  if (choice.kind != CertChoice::Kind::kUse || !choice.cert) {
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_CLIENT_HELLO_ERROR;
  }
  const CertifiedKey& c = *choice.cert;
  if (SSL_use_cert_and_key(ssl, c.leaf(), c.key(), c.chain(), 1) != 1) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  st->acmeAlpn = choice.acmeAlpn;
  return SSL_CLIENT_HELLO_SUCCESS;
}

/// ALPN: "acme-tls/1" only on a challenge answer (RFC 8737 §3 — and never for ordinary traffic,
/// so a validation server cannot be served a normal certificate by mistake), else "http/1.1"
/// when offered, else no ALPN.
int onAlpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
           unsigned int inlen, void* /*arg*/) {
  auto* st = static_cast<HandshakeState*>(SSL_get_ex_data(ssl, handshakeStateIndex()));
  const std::string_view want = st != nullptr && st->acmeAlpn ? kAcmeAlpn : "http/1.1";
  for (unsigned i = 0; i < inlen;) {
    const unsigned n = in[i];
    if (i + 1 + n > inlen) break;
    if (std::string_view(reinterpret_cast<const char*>(in + i + 1), n) == want) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(n);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + n;
  }
  // A validation connection that cannot get acme-tls/1 must fail rather than fall back.
  if (st != nullptr && st->acmeAlpn) return SSL_TLSEXT_ERR_ALERT_FATAL;
  return SSL_TLSEXT_ERR_NOACK;
}

void hardenContext(ssl::context& c) {
  // TLS 1.2 minimum: older versions have known downgrade and padding-oracle weaknesses.
  SSL_CTX_set_min_proto_version(c.native_handle(), TLS1_2_VERSION);
  c.set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                ssl::context::single_dh_use);
  SSL_CTX_set_cipher_list(c.native_handle(), "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!MD5:!DSS:!kRSA");
  SSL_CTX_set_alpn_select_cb(c.native_handle(), onAlpn, nullptr);
}

std::chrono::system_clock::time_point asnTime(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

std::optional<std::string> parseServerName(BytesView ext) {
  // server_name_list: u16 length, then entries of u8 type, u16 length, name. Every length is
  // checked against what remains so a hostile ClientHello cannot make us read past it.
  if (ext.size() < 2 || be16(ext.data()) != ext.size() - 2) return std::nullopt;
  std::size_t i = 2;
  while (i + 3 <= ext.size()) {
    const std::uint8_t type = ext[i];
    const std::size_t n = be16(ext.data() + i + 1);
    i += 3;
    if (n > ext.size() - i) return std::nullopt;
    if (type == 0) {
      // DNS names only: at most 253 characters, no NUL or other bytes that could confuse a
      // later string comparison or log line.
      if (n == 0 || n > 253) return std::nullopt;
      std::string name;
      for (std::size_t k = 0; k < n; ++k) {
        char c = static_cast<char>(ext[i + k]);
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
        if (!ok) return std::nullopt;
        name += c;
      }
      return name;
    }
    i += n;
  }
  return std::nullopt;
}

bool alpnOffers(BytesView ext, std::string_view protocol) {
  if (ext.size() < 2 || be16(ext.data()) != ext.size() - 2) return false;
  for (std::size_t i = 2; i < ext.size();) {
    const std::size_t n = ext[i];
    if (n == 0 || n > ext.size() - i - 1) return false;
    if (std::string_view(reinterpret_cast<const char*>(ext.data() + i + 1), n) == protocol) {
      return true;
    }
    i += 1 + n;
  }
  return false;
}

Result<std::shared_ptr<const CertifiedKey>> CertifiedKey::fromPem(std::string_view chainPem,
                                                                  std::string_view keyPem) {
  std::shared_ptr<CertifiedKey> ck(new CertifiedKey());
  BIO* bio = BIO_new_mem_buf(chainPem.data(), static_cast<int>(chainPem.size()));
  ck->chain_ = sk_X509_new_null();
  while (bio != nullptr && ck->chain_ != nullptr) {
    X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (x == nullptr) break;
    if (ck->leaf_ == nullptr) {
      ck->leaf_ = x;
    } else if (sk_X509_push(ck->chain_, x) == 0) {
      X509_free(x);
    }
  }
  BIO_free(bio);
  ERR_clear_error();
  if (ck->leaf_ == nullptr) return fail(Errc::kMalformed, "no PEM certificate found");
  bio = BIO_new_mem_buf(keyPem.data(), static_cast<int>(keyPem.size()));
  ck->key_ = bio != nullptr ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  ERR_clear_error();
  if (ck->key_ == nullptr) return fail(Errc::kMalformed, "no PEM private key found");
  if (X509_check_private_key(ck->leaf_, ck->key_) != 1) {
    ERR_clear_error();
    return fail(Errc::kInvalidArgument, "the private key does not belong to the certificate");
  }
  ck->notBefore_ = asnTime(X509_get0_notBefore(ck->leaf_));
  ck->notAfter_ = asnTime(X509_get0_notAfter(ck->leaf_));
  return std::shared_ptr<const CertifiedKey>(std::move(ck));
}

CertifiedKey::~CertifiedKey() {
  X509_free(leaf_);
  EVP_PKEY_free(key_);
  sk_X509_pop_free(chain_, X509_free);
}

bool CertifiedKey::covers(std::string_view host) const {
  return X509_check_host(leaf_, host.data(), host.size(), 0, nullptr) == 1;
}

std::vector<std::string> CertifiedKey::dnsNames() const {
  std::vector<std::string> out;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf_, NID_subject_alt_name, nullptr, nullptr));
  if (sans == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
    if (gn->type != GEN_DNS) continue;
    const auto* data = ASN1_STRING_get0_data(gn->d.dNSName);
    out.emplace_back(reinterpret_cast<const char*>(data),
                     static_cast<std::size_t>(ASN1_STRING_length(gn->d.dNSName)));
  }
  GENERAL_NAMES_free(sans);
  return out;
}

std::string CertifiedKey::serialHex() const {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf_), nullptr);
  if (bn == nullptr) return {};
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

TlsContext::TlsContext() : ctx_(std::make_unique<ssl::context>(ssl::context::tls_server)) {}
TlsContext::~TlsContext() = default;

std::shared_ptr<TlsContext> TlsContext::withResolver(std::shared_ptr<CertResolver> resolver) {
  std::shared_ptr<TlsContext> t(new TlsContext());
  hardenContext(*t->ctx_);
  t->resolver_ = std::move(resolver);
  SSL_CTX_set_client_hello_cb(t->ctx_->native_handle(), onClientHello, t->resolver_.get());
  return t;
}

Result<std::shared_ptr<TlsContext>> TlsContext::fromFiles(const std::filesystem::path& chainPem,
                                                          const std::filesystem::path& keyPem) {
  std::shared_ptr<TlsContext> t(new TlsContext());
  auto& c = *t->ctx_;
  hardenContext(c);
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

net::Task<TlsAccepted> acceptTls(net::tcp::socket socket, TlsContext& ctx,
                                 std::chrono::milliseconds timeout) {
  auto s = std::make_shared<TlsStream>(std::move(socket), ctx.native());
  TlsStream* sp = s.get();
  const auto ex = co_await asio::this_coro::executor;
  for (;;) {
    boost::system::error_code ec;
    {
      net::Watchdog dog(ex, timeout, [sp] { sp->reset(); });
      std::tie(ec) = co_await s->ssl().async_handshake(ssl::stream_base::server, net::kNoThrow);
      if (dog.fired()) co_return net::fail(net::Errc::kTimeout, "TLS handshake timed out");
    }
    auto& st = s->state();
    if (!st.waitHost.empty() && !st.resumed && ctx.resolver() != nullptr) {
      // Paused in the ClientHello until the name's certificate exists (ACME on demand). OpenSSL
      // keeps the ClientHello; calling the handshake again re-runs the callback.
      const std::string host = st.waitHost;
      const bool ok = co_await ctx.resolver()->waitFor(host);
      if (!ok) {
        co_return net::fail(net::Errc::kHandshakeFailed,
                            "TLS handshake: no certificate could be obtained for " + host);
      }
      st.resumed = true;
      continue;
    }
    if (ec) co_return net::fail(net::Errc::kHandshakeFailed, "TLS handshake: " + ec.message());
    if (SSL_is_init_finished(s->ssl().native_handle()) != 1) {
      co_return net::fail(net::Errc::kHandshakeFailed, "TLS handshake did not complete");
    }
    TlsAccepted done;
    if (const char* name =
            SSL_get_servername(s->ssl().native_handle(), TLSEXT_NAMETYPE_host_name)) {
      done.sni = lowerAscii(name);
    }
    done.stream = std::move(s);
    co_return done;
  }
}

}  // namespace pc::gateway
