#include "protocol/error.hpp"

namespace pc::protocol {
namespace {
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "pc.protocol"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kUnknownType:
        return "unknown message type";
      case Errc::kTooLarge:
        return "message exceeds its limit";
      case Errc::kBadJson:
        return "malformed JSON";
      case Errc::kUnknownField:
        return "unknown field";
      case Errc::kMissingField:
        return "missing field";
      case Errc::kWrongType:
        return "field of the wrong type";
      case Errc::kOutOfRange:
        return "value out of range";
      case Errc::kBadFormat:
        return "value of the wrong form";
      case Errc::kNotARequest:
        return "message is not a signed request";
      case Errc::kBadSignature:
        return "request signature does not verify";
      case Errc::kRequesterMismatch:
        return "requester is not the authenticated peer";
      case Errc::kClockSkew:
        return "request timestamp too far from the local clock";
      case Errc::kReplay:
        return "request was already seen (replay)";
      case Errc::kReplayCacheFull:
        return "replay cache is full";
      case Errc::kStorage:
        return "replay cache storage failed";
      case Errc::kInvalidArgument:
        return "invalid argument";
      case Errc::kReplayQuota:
        return "requester's share of the replay cache is full";
    }
    return "unknown protocol error";
  }
};
}  // namespace

const boost::system::error_category& protocolCategory() {
  static const Category c;
  return c;
}

}  // namespace pc::protocol
