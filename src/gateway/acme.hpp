#pragma once
/// An ACME client (RFC 8555) for the gateway's certificates: account (ES256 JWS, registered or
/// found again by its key), order, HTTP-01, TLS-ALPN-01 (RFC 8737) or DNS-01 challenge,
/// finalize with a CSR, polling with Retry-After, chain download. `badNonce` answers are retried
/// with the fresh nonce, as the RFC asks (§6.5). Talks HTTPS over OpenSSL (Asio's ssl::stream)
/// with the shared HTTP exchange (src/http), verifying the server's certificate (the system
/// store, or a CA file for a test CA such as pebble's).
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/acme_crypto.hpp"
#include "net/asio.hpp"

namespace pc::gateway::acme {

/// Bounds on what an ACME server may make us do or hold.
inline constexpr std::size_t kMaxResponseBytes = 1 << 20;     ///< body; a chain is a few KiB
inline constexpr std::size_t kMaxResponseHeader = 16 * 1024;  ///< status line + headers
inline constexpr int kMaxBadNonceRetries = 5;
/// One exchange, connect and TLS handshake included.
inline constexpr std::chrono::seconds kRequestTimeout{30};

struct AcmeOptions {
  std::string directoryUrl;  ///< e.g. https://acme-v02.api.letsencrypt.org/directory
  std::string email;         ///< account contact (optional)
  /// A CA certificate (PEM) to trust for the ACME server's own HTTPS; empty: the system store.
  std::filesystem::path caFile;
  /// The whole issuance of one certificate (validation and finalisation polls included).
  std::chrono::seconds orderTimeout{120};
};

enum class ChallengeType { kHttp01, kTlsAlpn01, kDns01 };
/// "http-01" | "tls-alpn-01" | "dns-01"; nullopt otherwise.
std::optional<ChallengeType> parseChallengeType(std::string_view s);

/// Where challenge answers are published while the CA validates them (the gateway serves them:
/// HTTP-01 on its HTTP port, TLS-ALPN-01 on its HTTPS port, DNS-01 in its own zone).
struct ChallengeSink {
  std::function<void(const std::string& token, const std::string& keyAuthorization)> publishHttp01;
  std::function<void(const std::string& token)> withdrawHttp01;
  std::function<void(const std::string& host, const std::string& keyAuthorization)>
      publishTlsAlpn01;
  std::function<void(const std::string& host)> withdrawTlsAlpn01;
  /// DNS-01: every value of TXT `name` at once (the wildcard and the apex of one order share
  /// `_acme-challenge.<domain>`, so one name carries two values). An error ends the order.
  std::function<Result<void>(const std::string& name, const std::vector<std::string>& values)>
      publishDns01;
  /// Removed after the order, whether it succeeded or not.
  std::function<void(const std::string& name)> withdrawDns01;
  /// DNS-01, optional: awaited after every value is published and before the first challenge
  /// is answered — until the values can be looked up at every name server of the zone (peer
  /// gateways). An error ends the order.
  std::function<net::Task<void>()> awaitDns01;
};

class AcmeClient {
 public:
  /// Errors: kInvalidArgument for a bad directory URL or an unreadable CA file.
  static Result<std::unique_ptr<AcmeClient>> create(AcmeOptions options, EcKey accountKey,
                                                    ChallengeSink sink);
  ~AcmeClient();
  AcmeClient(const AcmeClient&) = delete;
  AcmeClient& operator=(const AcmeClient&) = delete;

  /// Obtains a certificate for `host` whose key is `certKey`; returns the PEM chain (leaf
  /// first). One issuance at a time per client is not required: calls may overlap.
  /// Errors: kIo naming the step and the server's problem document (type and detail).
  net::Task<std::string> issue(std::string host, ChallengeType type, EcKey certKey);
  /// The same for one certificate naming all of `names` (isValidCertName each, e.g.
  /// {"*.example.org", "example.org"}; a wildcard needs kDns01): one order, one authorization
  /// per name. DNS-01 answers are all published before the first is submitted and withdrawn
  /// when the order ends (also on error or cancellation).
  net::Task<std::string> issue(std::vector<std::string> names, ChallengeType type, EcKey certKey);

  /// The account URL once registered ("" before).
  [[nodiscard]] const std::string& accountUrl() const;

 private:
  struct Impl;
  explicit AcmeClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pc::gateway::acme
