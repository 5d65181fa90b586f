#include "gateway/error.hpp"

namespace pc::gateway {
namespace {
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "pc.gateway"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kMalformedRequest:
        return "malformed request";
      case Errc::kHeaderTooLarge:
        return "request header too large";
      case Errc::kAmbiguousFraming:
        return "Content-Length with Transfer-Encoding";
      case Errc::kUnsupportedTransferEncoding:
        return "unsupported Transfer-Encoding";
      case Errc::kNotOriginForm:
        return "request target not in origin form";
      case Errc::kBadHost:
        return "bad Host header";
      case Errc::kNoAcmeChallenge:
        return "no such ACME challenge";
      case Errc::kUnknownHost:
        return "unknown host";
      case Errc::kClientRateLimited:
        return "client over its rate limit";
      case Errc::kDeploymentRateLimited:
        return "deployment over its rate limit";
      case Errc::kNoRoute:
        return "no route to the deployment";
      case Errc::kProviderOffline:
        return "provider offline";
      case Errc::kTunnelBusy:
        return "tunnel at its stream limit";
      case Errc::kProviderUnreachable:
        return "provider unreachable";
      case Errc::kProviderDropped:
        return "provider dropped the connection";
      case Errc::kMalformedBody:
        return "malformed request body";
      case Errc::kNoResponse:
        return "the deployment did not answer";
      case Errc::kBadResponse:
        return "malformed response from the deployment";
      case Errc::kHostCount:
        return "no Host header, or more than one";
      case Errc::kTransferEncodingOnHttp10:
        return "Transfer-Encoding in an HTTP/1.0 request";
      case Errc::kMisdirected:
        return "Host does not match the TLS server name";
      case Errc::kClientStreamShare:
        return "client at its share of the tunnel's streams";
      case Errc::kDeploymentStreamShare:
        return "deployment at its share of the tunnel's streams";
    }
    return "unknown gateway error";
  }
};
}  // namespace

const boost::system::error_category& gatewayCategory() {
  static const Category c;
  return c;
}

}  // namespace pc::gateway
