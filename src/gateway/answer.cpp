#include "gateway/answer.hpp"

namespace pc::gateway {
namespace {

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 421:
      return "Misdirected Request";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

/// A complete HTML answer that closes the connection; `extra` holds more header lines.
std::string page(int status, std::string_view text, std::string_view extra) {
  const std::string statusText = std::to_string(status) + " " + std::string(reasonPhrase(status));
  const std::string body = "<!doctype html><title>" + statusText + "</title><h1>" + statusText +
                           "</h1><p>" + std::string(text) + "</p>\n";
  return "HTTP/1.1 " + statusText +
         "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\nCache-Control: no-store\r\n" +
         std::string(extra) + "\r\n" + body;
}

}  // namespace

int statusOf(Errc why) {
  switch (why) {
    case Errc::kMalformedRequest:
    case Errc::kAmbiguousFraming:
    case Errc::kNotOriginForm:
    case Errc::kBadHost:
    case Errc::kMalformedBody:
    case Errc::kHostCount:
    case Errc::kTransferEncodingOnHttp10:
      return 400;
    case Errc::kMisdirected:
      return 421;
    case Errc::kHeaderTooLarge:
      return 431;
    case Errc::kUnsupportedTransferEncoding:
      return 501;
    case Errc::kNoAcmeChallenge:
    case Errc::kUnknownHost:
    case Errc::kNoRoute:
      return 404;
    case Errc::kClientRateLimited:
    case Errc::kDeploymentRateLimited:
    case Errc::kClientStreamShare:
      return 429;
    case Errc::kTunnelBusy:
    case Errc::kDeploymentStreamShare:
      return 503;
    case Errc::kProviderOffline:
    case Errc::kProviderUnreachable:
    case Errc::kProviderDropped:
    case Errc::kNoResponse:
    case Errc::kBadResponse:
      return 502;
  }
  return 500;
}

std::string render(const Refusal& r) {
  const std::string extra =
      r.retryAfter > 0 ? "Retry-After: " + std::to_string(r.retryAfter) + "\r\n" : std::string();
  return page(statusOf(r.why), r.text, extra);
}

std::string render(const Redirect& r) {
  return page(308, "This site is served over HTTPS.", "Location: " + r.location + "\r\n");
}

std::string render(const AcmeAnswer& a) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
         std::to_string(a.keyAuthorization.size()) + "\r\nConnection: close\r\n\r\n" +
         a.keyAuthorization;
}

std::string htmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace pc::gateway
