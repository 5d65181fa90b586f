#include "provider/error.hpp"

namespace pc::provider {
namespace {
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "pc.provider"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kStorage:
        return "provider state database failed";
      case Errc::kNotFound:
        return "no such deployment";
      case Errc::kBadState:
        return "deployment is in the wrong state";
      case Errc::kConfig:
        return "invalid provider configuration";
      case Errc::kShuttingDown:
        return "provider is shutting down";
      case Errc::kDeployFailed:
        return "deployment failed";
      case Errc::kRateLimited:
        return "too many requests from this peer";
      case Errc::kBadRequest:
        return "bad request";
    }
    return "unknown provider error";
  }
};
}  // namespace

const boost::system::error_category& providerCategory() {
  static const Category c;
  return c;
}

}  // namespace pc::provider
