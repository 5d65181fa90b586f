#pragma once
/// The answers the gateway gives a public request itself, without the deployment: refusals
/// (400/404/429/431/501/502/503), the 308 redirect to https, and ACME HTTP-01 key
/// authorizations. Each is a value; rendering it is pure, and every such answer closes the
/// connection (`Connection: close`).
#include <string>
#include <string_view>

#include "gateway/error.hpp"

namespace pc::gateway {

/// A request refused (or failed) with an HTTP error status chosen by `why`.
struct Refusal {
  Refusal(Errc w, std::string t, int retry = 0, std::string log = {})
      : why(w), text(std::move(t)), retryAfter(retry), logLine(std::move(log)) {}
  Errc why;
  std::string text;     ///< the sentence of the HTML body (HTML: escape what a client sent)
  int retryAfter = 0;   ///< seconds for Retry-After; 0 sends none
  std::string logLine;  ///< non-empty: also logged as a security event (see HttpFront)
};

/// Plain HTTP on a gateway that serves HTTPS: 308 to the same target over https.
struct Redirect {
  std::string location;
};

/// The key authorization of a pending ACME HTTP-01 challenge.
struct AcmeAnswer {
  std::string keyAuthorization;
};

/// The HTTP status of a refusal for `why`.
int statusOf(Errc why);

/// The complete response (head and HTML body) for a refusal.
std::string render(const Refusal& r);
/// The complete 308 response, with Location.
std::string render(const Redirect& r);
/// The complete 200 response carrying the key authorization.
std::string render(const AcmeAnswer& a);

/// `s` with <, >, & and " escaped for HTML text and attribute values.
std::string htmlEscape(std::string_view s);

}  // namespace pc::gateway
