#pragma once
/// The decision the gateway takes on a parsed request head, before any byte goes upstream:
/// refuse it, redirect it to https, answer an ACME challenge, or route it to the tunnel of the
/// deployment it names. Pure but for the rate limits it consults (passed in), so it is
/// unit-tested and fuzzed (fuzz_http_head). For the gateway's .cpp files only (Beast types).
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "gateway/answer.hpp"
#include "gateway/front_options.hpp"
#include "gateway/http_head.hpp"
#include "tunnel/route_table.hpp"

namespace pc::gateway {

/// A request the gateway forwards: the deployment it names and the (open) tunnel serving it.
struct Route {
  std::string deploymentId;
  std::shared_ptr<net::Connection> tunnel;
};

using Classified = std::variant<Refusal, Redirect, AcmeAnswer, Route>;

/// Which rate limit a request is taken from.
enum class RateScope { kClient, kDeployment };
/// Takes one request from the `scope` limit of `key` (the client's address block, or the
/// deployment id); returns the seconds the client must wait, 0 when admitted. Classify's only
/// effect, and the caller's to give.
using RateTake = std::function<int(RateScope scope, const std::string& key)>;

/// How a request arrived.
struct Arrival {
  std::string_view scheme;  ///< "http" or "https"
  std::string clientBlock;  ///< the client's address block (clientAddressBlock)
  std::string_view sni;     ///< the TLS server name asked for ("" on plain HTTP or none)
};

/// What the gateway does with request `req`, which arrived as `from`. In order:
///  1. framing and form (request smuggling): Content-Length with Transfer-Encoding → 400, a
///     Transfer-Encoding other than chunked → 501, Transfer-Encoding on HTTP/1.0 → 400, an
///     HTTP/1.1 request without exactly one Host → 400, CONNECT or a target not in origin form
///     → 400 (these Refusals carry a logLine: they are security events);
///  2. on plain HTTP: an ACME HTTP-01 challenge (AcmeAnswer, or 404), then, when the front
///     redirects to https, a Redirect (400 when the Host header cannot make a Location);
///  3. over TLS with a server name, the Host (without port) must be that name → else 421;
///     the Host header must name a deployment under options.domain → else 404;
///  4. rate limits, per client then per deployment (taken only for requests that name a
///     deployment, before its route is looked up, so probing ids costs tokens too) → 429;
///  5. the route must exist and its provider still be allowed (404), and its tunnel be open
///     (502) → Route.
/// `routes` is only read.
Classified classify(const http::request_header<>& req, const Arrival& from,
                    const FrontOptions& options, const tunnel::RouteTable& routes,
                    const RateTake& take);

}  // namespace pc::gateway
