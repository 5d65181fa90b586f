#include "runtime/error.hpp"

namespace pc::runtime {
namespace {
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "pc.runtime"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kDaemonUnreachable:
        return "the Docker engine is unreachable";
      case Errc::kTimeout:
        return "the Docker engine did not answer in time";
      case Errc::kProtocolError:
        return "malformed response from the Docker engine";
      case Errc::kTooLarge:
        return "response from the Docker engine exceeds its limit";
      case Errc::kUnsupportedApi:
        return "the Docker engine's API version is too old";
      case Errc::kImageNotFound:
        return "image not found";
      case Errc::kNoSuchContainer:
        return "no such container";
      case Errc::kConflict:
        return "conflict with the container's current state";
      case Errc::kEngineError:
        return "the Docker engine reported an error";
      case Errc::kPullFailed:
        return "image pull failed";
      case Errc::kBadReference:
        return "invalid image reference";
      case Errc::kImageNotAllowed:
        return "image not allowed by the provider's policy";
      case Errc::kLimitExceeded:
        return "resource limit exceeded";
      case Errc::kInvalidSpec:
        return "invalid container spec";
    }
    return "unknown runtime error";
  }
};
}  // namespace

const boost::system::error_category& runtimeCategory() {
  static const Category c;
  return c;
}

}  // namespace pc::runtime
