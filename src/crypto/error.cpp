#include "crypto/error.hpp"

namespace pc::crypto {
namespace {
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "pc.crypto"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kBadKey:
        return "invalid key";
      case Errc::kBadSignature:
        return "signature does not verify";
      case Errc::kDecryptFailed:
        return "decryption failed";
      case Errc::kWeakSharedSecret:
        return "weak Diffie-Hellman shared secret";
      case Errc::kOpenSsl:
        return "OpenSSL failure";
      case Errc::kBadKeyFile:
        return "malformed identity key file";
      case Errc::kUnsafeKeyFile:
        return "identity key file has unsafe permissions";
      case Errc::kBadPeerId:
        return "invalid peer id";
      case Errc::kUnsupportedKeyType:
        return "unsupported key type";
    }
    return "unknown crypto error";
  }
};
}  // namespace

const boost::system::error_category& cryptoCategory() {
  static const Category c;
  return c;
}

}  // namespace pc::crypto
