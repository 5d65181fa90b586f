#include "egress/error.hpp"

namespace pc::egress {
namespace {
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "pc.egress"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kBadSetting:
        return "invalid egress setting";
      case Errc::kCommandFailed:
        return "the firewall command failed";
      case Errc::kRuleMissing:
        return "an egress rule is missing";
      case Errc::kWrongNetwork:
        return "the deployment network is not where the egress rules expect it";
    }
    return "unknown egress error";
  }
};
}  // namespace

const boost::system::error_category& category() {
  static const Category c;
  return c;
}

}  // namespace pc::egress
