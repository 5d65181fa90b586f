#pragma once
/// The cryptography an ACME client needs (RFC 8555, RFC 7515/7518/7638, RFC 8737), with OpenSSL:
/// the P-256 key of an account or certificate, JWS ES256 signatures, JWK thumbprints, the
/// certificate signing request of a deployment host and the self-signed TLS-ALPN-01 challenge
/// certificate. Sans-IO; OpenSSL stays inside the .cpp.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"

typedef struct evp_pkey_st EVP_PKEY;  // NOLINT(modernize-use-using): OpenSSL's own declaration

namespace pc::gateway::acme {

/// True for a DNS host name we will put in a CSR: lower-case LDH labels of 1–63 characters, at
/// least two labels, ≤ 253 characters. Stops a name carrying `,` or `=` from smuggling extra
/// subjectAltName entries into the OpenSSL extension string, and requests for IPs or wildcards.
bool isValidHostName(std::string_view host);
/// A name we put in an order or CSR: a valid host name, or `*.` followed by one (a wildcard of
/// one label, RFC 8555 §7.1.3). Stops the same smuggling as isValidHostName.
bool isValidCertName(std::string_view name);

/// DNS-01 (RFC 8555 §8.4): the TXT value for a key authorization, base64url(SHA-256(keyAuth)).
std::string dns01TxtValue(std::string_view keyAuthorization);
/// DNS-01: where the TXT record goes for `identifier` ("_acme-challenge.<name>"; a wildcard
/// identifier `*.<name>` uses its base name, so the wildcard and the apex share one name).
std::string dns01RecordName(std::string_view identifier);

/// An ECDSA P-256 private key (accounts and certificates both use one).
class EcKey {
 public:
  static Result<EcKey> generate();
  /// Errors: kMalformed when the PEM holds no key, kInvalidArgument when it is not a P-256 key.
  static Result<EcKey> fromPem(std::string_view pem);
  /// PKCS#8 PEM.
  [[nodiscard]] std::string toPem() const;
  /// The public JWK with its members in lexicographic order (RFC 7638 §3), so it is also the
  /// thumbprint input: {"crv":"P-256","kty":"EC","x":"…","y":"…"}.
  [[nodiscard]] std::string jwkJson() const;
  /// base64url(SHA-256(jwkJson())).
  [[nodiscard]] std::string thumbprint() const;
  /// ES256: ECDSA P-256 over SHA-256 as the 64-byte r‖s of RFC 7518 §3.4 (not DER).
  [[nodiscard]] Result<Bytes> signEs256(std::string_view data) const;
  [[nodiscard]] EVP_PKEY* native() const { return key_.get(); }

 private:
  explicit EcKey(std::shared_ptr<EVP_PKEY> k) : key_(std::move(k)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

/// DER PKCS#10 request for `host` (CN and the only subjectAltName), signed by `key`.
Result<Bytes> makeCsr(std::string_view host, const EcKey& key);
/// DER PKCS#10 request for `names` (each isValidCertName; CN = the first, every one a
/// subjectAltName), signed by `key`. Errors: kInvalidArgument for an empty list or a bad name.
Result<Bytes> makeCsr(const std::vector<std::string>& names, const EcKey& key);

/// RFC 8737 §3: a self-signed certificate for `host` carrying the critical id-pe-acmeIdentifier
/// extension = SHA-256(keyAuthorization). Returns the certificate PEM (its key is `key`).
Result<std::string> makeAlpnChallengeCert(std::string_view host, std::string_view keyAuthorization,
                                          const EcKey& key);

}  // namespace pc::gateway::acme
