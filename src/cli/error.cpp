#include "cli/error.hpp"

namespace pc::cli {
namespace {
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "pc.cli"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kDeadline:
        return "deadline reached";
      case Errc::kBadArgument:
        return "bad argument";
      case Errc::kUnknownDeployment:
        return "unknown deployment";
      case Errc::kUnexpectedAnswer:
        return "unexpected answer";
      case Errc::kCommandFailed:
        return "command failed";
    }
    return "unknown cli error";
  }
};
}  // namespace

const boost::system::error_category& cliCategory() {
  static const Category c;
  return c;
}

}  // namespace pc::cli
