#include "gateway/classify.hpp"

#include "gateway/names.hpp"

namespace pc::gateway {
namespace {

constexpr std::string_view kAcmePath = "/.well-known/acme-challenge/";

/// Framing and form checks. Two ways to delimit one body, or an encoding the gateway cannot
/// re-state, would let a front and a back end disagree on where the next request starts
/// (request smuggling): refused outright (RFC 9112 §6.3). Only origin-form targets are proxied:
/// the gateway is no forward proxy.
std::optional<Refusal> checkFraming(const http::request_header<>& req) {
  const bool hasTe = req.find(http::field::transfer_encoding) != req.end();
  const bool hasCl = req.find(http::field::content_length) != req.end();
  if (hasTe && hasCl) {
    return Refusal{Errc::kAmbiguousFraming,
                   "Content-Length and Transfer-Encoding together are not accepted.", 0,
                   "Content-Length with Transfer-Encoding (smuggling shape)"};
  }
  // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing (a 1.0 hop
  // in front of us would have read the body by Content-Length or to the close).
  if (hasTe && req.version() < 11) {
    return Refusal{Errc::kTransferEncodingOnHttp10,
                   "Transfer-Encoding is not accepted in a request of HTTP version 1.0.", 0,
                   "Transfer-Encoding in an HTTP/1.0 request (smuggling shape)"};
  }
  if (hasTe && lowerAscii(trimOws(req[http::field::transfer_encoding])) != "chunked") {
    return Refusal{Errc::kUnsupportedTransferEncoding,
                   "Only Transfer-Encoding: chunked is supported.", 0,
                   "Transfer-Encoding other than chunked: " +
                       std::string(req[http::field::transfer_encoding].substr(0, 64))};
  }
  // RFC 9112 §3.2: one Host, exactly. With two, we would route by one and the deployment
  // might read the other (a request for one tenant reaching another's virtual host).
  const std::size_t hosts = req.count(http::field::host);
  if (hosts > 1 || (hosts == 0 && req.version() >= 11)) {
    return Refusal{Errc::kHostCount, "A request must carry exactly one Host header.", 0,
                   hosts > 1 ? "more than one Host header" : ""};
  }
  const auto target = req.target();
  if (req.method() == http::verb::connect || target.empty() ||
      (target.front() != '/' && target != "*")) {
    return Refusal{Errc::kNotOriginForm, "Only origin-form request targets are accepted.", 0,
                   "request target not in origin form"};
  }
  return std::nullopt;
}

/// The https redirect for `req` with Host `host`, or a 400 when the host cannot be put in a
/// Location header (it would split the response).
Classified redirect(const http::request_header<>& req, const std::string& host,
                    std::uint16_t httpsPort) {
  const std::string hostOnly(hostWithoutPort(host));
  if (hostOnly.empty() || hostOnly.find_first_of("\r\n \t") != std::string::npos) {
    return Refusal{Errc::kBadHost, "Bad Host header."};
  }
  std::string location = "https://" + hostOnly;
  if (httpsPort != 443) {
    location += ":" + std::to_string(httpsPort);
  }
  location.append(req.target().data(), req.target().size());
  return Redirect{std::move(location)};
}

/// Over TLS, the Host (its name, lower-cased, without port) must be the server name the client
/// asked for in the handshake: a connection set up for one name must not carry requests for
/// another (one certificate's connection reused for a host it does not cover, RFC 9110 §7.4).
bool misdirected(std::string_view sni, const std::string& host) {
  return !sni.empty() && hostName(host) != sni;
}

}  // namespace

Classified classify(const http::request_header<>& req, const Arrival& from,
                    const FrontOptions& options, const tunnel::RouteTable& routes,
                    const RateTake& take) {
  if (auto refusal = checkFraming(req)) {
    return std::move(*refusal);
  }
  const std::string host(req[http::field::host]);
  const bool plain = from.scheme == "http";
  if (plain && options.acmeHttp01 && req.method() == http::verb::get &&
      req.target().starts_with(kAcmePath)) {
    if (auto answer = options.acmeHttp01(req.target().substr(kAcmePath.size()))) {
      return AcmeAnswer{std::move(*answer)};
    }
    return Refusal{Errc::kNoAcmeChallenge, "No such ACME challenge."};
  }
  if (plain && options.redirectHttpsPort != 0) {
    return redirect(req, host, options.redirectHttpsPort);
  }
  if (!plain && misdirected(from.sni, host)) {
    return Refusal{Errc::kMisdirected,
                   "This connection was made for " + htmlEscape(std::string(from.sni)) +
                       ", not for " + htmlEscape(host) + ".",
                   0, "Host does not match the TLS server name"};
  }
  const std::string dep = deploymentFromHost(host, options.domain);
  if (dep.empty()) {
    return Refusal{Errc::kUnknownHost, "Unknown host " + htmlEscape(host) +
                                           ": this gateway serves <code>&lt;deployment-id&gt;." +
                                           htmlEscape(options.domain) + "</code>."};
  }
  if (const int wait = take(RateScope::kClient, from.clientBlock); wait > 0) {
    return Refusal{Errc::kClientRateLimited, "Slow down.", wait};
  }
  if (const int wait = take(RateScope::kDeployment, dep); wait > 0) {
    return Refusal{Errc::kDeploymentRateLimited, "This deployment is receiving too many requests.",
                   wait};
  }
  const tunnel::RouteEntry* route = routes.find(dep);
  // A provider taken off the allowlist serves nothing more, even before its tunnel is closed.
  if (route == nullptr || (options.providerAllowed && !options.providerAllowed(route->provider))) {
    return Refusal{Errc::kNoRoute,
                   "No deployment " + dep + " is served here (it may have stopped)."};
  }
  if (!route->conn->isOpen()) {
    return Refusal{Errc::kProviderOffline, "The provider of " + dep + " is offline."};
  }
  return Route{dep, route->conn};
}

}  // namespace pc::gateway
