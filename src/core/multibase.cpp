#include "core/multibase.hpp"

#include "core/base32.hpp"
#include "core/base58.hpp"

namespace pc::multibase {

std::string encode(Base base, BytesView in) {
  std::string out(1, static_cast<char>(base));
  switch (base) {
    case Base::kBase58Btc:
      out += base58::encode(in);
      break;
    case Base::kBase32Lower:
      out += base32::encode(in);
      break;
    case Base::kBase16Lower:
      out += toHex(in);
      break;
  }
  return out;
}

Result<Bytes> decode(std::string_view text) {
  if (text.empty()) {
    return fail(Errc::kTruncated, "empty multibase text");
  }
  const auto body = text.substr(1);
  switch (text.front()) {
    case 'z':
      return base58::decode(body);
    case 'b':
      return base32::decode(body);
    case 'f': {
      for (char c : body) {
        if (c >= 'A' && c <= 'F') {
          return fail(Errc::kBadCharacter, "multibase 'f' must be lower-case hex");
        }
      }
      return fromHex(body);
    }
    default:
      return fail(Errc::kUnknownCode,
                  "unsupported multibase prefix '" + std::string(1, text.front()) + "'");
  }
}

}  // namespace pc::multibase
