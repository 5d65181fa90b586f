#include "http/error.hpp"

namespace pc::http {
namespace {
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "pc.http"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kMalformed:
        return "malformed HTTP response";
      case Errc::kTruncated:
        return "the connection closed in the middle of an HTTP response";
      case Errc::kTooLarge:
        return "HTTP response over its size limit";
      case Errc::kInvalidRequest:
        return "invalid HTTP request field";
    }
    return "unknown http error";
  }
};
}  // namespace

const boost::system::error_category& httpCategory() {
  static const Category c;
  return c;
}

}  // namespace pc::http
