#include "tunnel/error.hpp"

namespace pc::tunnel {
namespace {
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "pc.tunnel"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kMalformedProxyHeader:
        return "malformed proxy header";
      case Errc::kTargetUnreachable:
        return "deployment unreachable";
    }
    return "unknown tunnel error";
  }
};
}  // namespace

const boost::system::error_category& tunnelCategory() {
  static const Category c;
  return c;
}

}  // namespace pc::tunnel
