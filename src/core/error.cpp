#include "core/error.hpp"

namespace pc {

void throw_exception_from_error(const Error& e, const boost::source_location& /*loc*/) {
  throw ErrorException(e);
}

namespace {
class CoreCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "pc.core"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kTruncated:
        return "input is truncated";
      case Errc::kOverlong:
        return "varint is longer than 9 bytes";
      case Errc::kNonMinimal:
        return "varint is not minimally encoded";
      case Errc::kBadCharacter:
        return "invalid character";
      case Errc::kBadPadding:
        return "invalid padding or trailing bits";
      case Errc::kUnknownCode:
        return "unknown code";
      case Errc::kTooLarge:
        return "value exceeds its limit";
      case Errc::kBadLength:
        return "length mismatch";
      case Errc::kMalformed:
        return "malformed input";
      case Errc::kIo:
        return "I/O error";
      case Errc::kPermissions:
        return "unsafe file permissions";
      case Errc::kNotFound:
        return "not found";
      case Errc::kAlreadyExists:
        return "already exists";
      case Errc::kInvalidArgument:
        return "invalid argument";
    }
    return "unknown core error";
  }
};
}  // namespace

const boost::system::error_category& coreCategory() {
  static const CoreCategory category;
  return category;
}

}  // namespace pc
