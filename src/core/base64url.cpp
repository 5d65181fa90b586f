#include "core/base64url.hpp"

namespace pc::base64url {
namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '-') {
    return 62;
  }
  if (c == '_') {
    return 63;
  }
  return -1;
}
}  // namespace

std::string encode(BytesView in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (auto b : in) {
    buffer = ((buffer << 8) | b) & 0xffffU;
    bits += 8;
    while (bits >= 6) {
      out.push_back(kAlphabet[(buffer >> (bits - 6)) & 63]);
      bits -= 6;
    }
  }
  if (bits > 0) {
    out.push_back(kAlphabet[(buffer << (6 - bits)) & 63]);
  }
  return out;
}

std::string encode(std::string_view in) { return encode(asBytes(in)); }

Result<Bytes> decode(std::string_view in) {
  // A single character in the last group carries only 6 bits: no whole byte can end there.
  if (in.size() % 4 == 1) {
    return fail(Errc::kBadLength,
                "base64url text has an impossible length " + std::to_string(in.size()));
  }
  Bytes out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const int v = value(in[i]);
    if (v < 0) {
      return fail(Errc::kBadCharacter, "invalid base64url character '" + std::string(1, in[i]) +
                                           "' at offset " + std::to_string(i));
    }
    buffer = ((buffer << 6) | static_cast<std::uint32_t>(v)) & 0xffffU;
    bits += 6;
    if (bits >= 8) {
      out.push_back(static_cast<std::uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
    }
  }
  if ((buffer & ((1U << bits) - 1)) != 0) {
    return fail(Errc::kBadPadding, "base64url text has non-zero trailing bits");
  }
  return out;
}

}  // namespace pc::base64url
