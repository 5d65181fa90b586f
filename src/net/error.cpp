#include "net/error.hpp"

namespace pc::net {
namespace {
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "pc.net"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kBadMultiaddr:
        return "invalid multiaddr";
      case Errc::kProtocolError:
        return "protocol violation by the remote peer";
      case Errc::kTooLarge:
        return "message exceeds its limit";
      case Errc::kTimeout:
        return "timed out";
      case Errc::kClosed:
        return "closed";
      case Errc::kReset:
        return "stream reset by the remote peer";
      case Errc::kLimit:
        return "resource limit reached";
      case Errc::kNegotiationFailed:
        return "protocol negotiation failed";
      case Errc::kHandshakeFailed:
        return "security handshake failed";
      case Errc::kPeerIdMismatch:
        return "remote peer id does not match";
      case Errc::kGated:
        return "peer is not trusted";
      case Errc::kUnreachable:
        return "peer unreachable";
    }
    return "unknown network error";
  }
};
}  // namespace

const boost::system::error_category& netCategory() {
  static const Category c;
  return c;
}

}  // namespace pc::net
