#pragma once
/// Server-side TLS for the public listener (OpenSSL through Asio): TLS 1.2 and 1.3 only, modern
/// ciphers, the certificate chain and key loaded from PEM files (a wildcard `*.<domain>`
/// certificate covers every deployment). Handshakes have a deadline.
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/stream.hpp"

namespace boost::asio::ssl {
class context;
}
typedef struct x509_st X509;          // NOLINT(modernize-use-using): OpenSSL's own declarations
typedef struct evp_pkey_st EVP_PKEY;  // NOLINT(modernize-use-using)
struct stack_st_X509;

namespace pc::gateway {

/// A certificate chain (leaf first) with its private key, parsed and checked once and then
/// shared by every handshake that presents it.
class CertifiedKey {
 public:
  /// Errors: kMalformed naming what is missing, kInvalidArgument when the key is not the leaf's.
  static Result<std::shared_ptr<const CertifiedKey>> fromPem(std::string_view chainPem,
                                                             std::string_view keyPem);
  ~CertifiedKey();
  CertifiedKey(const CertifiedKey&) = delete;
  CertifiedKey& operator=(const CertifiedKey&) = delete;
  [[nodiscard]] std::chrono::system_clock::time_point notBefore() const { return notBefore_; }
  [[nodiscard]] std::chrono::system_clock::time_point notAfter() const { return notAfter_; }
  /// True when the leaf is valid for `host` (subjectAltName match, wildcards as RFC 6125).
  [[nodiscard]] bool covers(std::string_view host) const;
  /// The leaf's DNS subjectAltNames, as written (a wildcard stays "*.<domain>").
  [[nodiscard]] std::vector<std::string> dnsNames() const;
  [[nodiscard]] std::string serialHex() const;
  [[nodiscard]] X509* leaf() const { return leaf_; }
  [[nodiscard]] EVP_PKEY* key() const { return key_; }
  [[nodiscard]] stack_st_X509* chain() const { return chain_; }

 private:
  CertifiedKey() = default;
  X509* leaf_ = nullptr;
  EVP_PKEY* key_ = nullptr;
  stack_st_X509* chain_ = nullptr;
  std::chrono::system_clock::time_point notBefore_{};
  std::chrono::system_clock::time_point notAfter_{};
};

/// What to present to a client, decided from its ClientHello.
struct CertChoice {
  enum class Kind {
    kUse,     ///< present `cert`
    kWait,    ///< no certificate yet; one is being obtained: hold the handshake (waitFor)
    kRefuse,  ///< no certificate for this name: fail the handshake (unrecognized_name)
  };
  Kind kind = Kind::kRefuse;
  std::shared_ptr<const CertifiedKey> cert;
  bool acmeAlpn = false;  ///< a TLS-ALPN-01 challenge answer: negotiate "acme-tls/1"
};

/// Chooses a certificate per connection from the SNI name (ACME on-demand certificates).
class CertResolver {
 public:
  virtual ~CertResolver() = default;
  /// `sni` is the lower-cased server name ("" when the client sent none); `offersAcmeAlpn` is
  /// true when the client offered only-for-validation ALPN "acme-tls/1".
  virtual CertChoice choose(const std::string& sni, bool offersAcmeAlpn) = 0;
  /// After kWait: true once `host` has a certificate, false when it could not be obtained in
  /// the resolver's own bounded time.
  virtual net::asio::awaitable<bool> waitFor(std::string host) = 0;
};

/// The host_name of a TLS server_name extension body (RFC 6066 §3), lower-cased; nullopt when
/// the body is malformed or names no host. Pure: fuzzed.
std::optional<std::string> parseServerName(BytesView ext);
/// True when an ALPN extension body (RFC 7301 §3.1) lists `protocol`; false when malformed.
bool alpnOffers(BytesView ext, std::string_view protocol);

/// A TLS server context. Errors: kInvalidArgument naming the file that could not be used.
class TlsContext {
 public:
  static Result<std::shared_ptr<TlsContext>> fromFiles(const std::filesystem::path& chainPem,
                                                       const std::filesystem::path& keyPem);
  /// A context with no default certificate: `resolver` picks one per ClientHello.
  static std::shared_ptr<TlsContext> withResolver(std::shared_ptr<CertResolver> resolver);
  ~TlsContext();
  boost::asio::ssl::context& native() { return *ctx_; }
  [[nodiscard]] CertResolver* resolver() const { return resolver_.get(); }

 private:
  TlsContext();
  std::unique_ptr<boost::asio::ssl::context> ctx_;
  std::shared_ptr<CertResolver> resolver_;
};

/// A completed server handshake.
struct TlsAccepted {
  std::shared_ptr<net::ByteStream> stream;
  std::string sni;  ///< the server name the client asked for, lower-cased ("" when none)
};

/// Performs the server handshake on `socket` within `timeout` and returns the secured stream.
/// When the resolver asks to wait for a certificate, the handshake is held (outside `timeout`,
/// bounded by the resolver) and resumed once it exists.
/// Errors: kHandshakeFailed (with OpenSSL's reason), kTimeout.
net::Task<TlsAccepted> acceptTls(net::tcp::socket socket, TlsContext& ctx,
                                 std::chrono::milliseconds timeout);

}  // namespace pc::gateway
