#pragma once
/// Errors of the gateway's request path: why a public request was refused or failed. Each value
/// is answered with one HTTP status (answer.hpp renders it); the code says which kind of
/// refusal it was, the answer's sentence says what happened and what to do.
#include "core/error.hpp"

namespace pc::gateway {

/// Why the gateway refused or could not complete a public request.
enum class Errc {
  kMalformedRequest = 1,         ///< 400: the request head does not parse
  kHeaderTooLarge,               ///< 431: the request head is over its limit
  kAmbiguousFraming,             ///< 400: Content-Length and Transfer-Encoding together
  kUnsupportedTransferEncoding,  ///< 501: a Transfer-Encoding other than chunked
  kNotOriginForm,                ///< 400: CONNECT, or a target not in origin form
  kBadHost,                      ///< 400: a Host header unusable for the https redirect
  kNoAcmeChallenge,              ///< 404: no pending ACME challenge has that token
  kUnknownHost,                  ///< 404: the Host header names no deployment of this gateway
  kClientRateLimited,            ///< 429: the client is over its requests/s
  kDeploymentRateLimited,        ///< 429: the deployment is over its requests/s
  kNoRoute,                      ///< 404: no provider serves the deployment (now)
  kProviderOffline,              ///< 502: the provider's tunnel is closed
  kTunnelBusy,                   ///< 503: the tunnel is at its stream bound
  kProviderUnreachable,          ///< 502: no proxy stream could be opened on the tunnel
  kProviderDropped,              ///< 502: the proxy stream failed before the request was sent
  kMalformedBody,                ///< 400: the request body's framing does not parse
  kNoResponse,                   ///< 502: the deployment closed without answering
  kBadResponse,                  ///< 502: the deployment's response head is malformed
  kHostCount,                    ///< 400: an HTTP/1.1 request with no Host, or more than one
  kTransferEncodingOnHttp10,     ///< 400: Transfer-Encoding in an HTTP/1.0 request
  kMisdirected,                  ///< 421: the Host is not the name the TLS handshake asked for
  kClientStreamShare,            ///< 429: the client holds its share of the tunnel's streams
  kDeploymentStreamShare         ///< 503: the deployment holds its share of the tunnel's streams
};

const boost::system::error_category& gatewayCategory();
inline boost::system::error_code make_error_code(Errc e) {
  return {static_cast<int>(e), gatewayCategory()};
}
inline Error fail(Errc e, std::string message) {
  return Error(make_error_code(e), std::move(message));
}

}  // namespace pc::gateway

template <>
struct boost::system::is_error_code_enum<pc::gateway::Errc> : std::true_type {};
