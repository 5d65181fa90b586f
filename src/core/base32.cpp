#include "core/base32.hpp"

namespace pc::base32 {
namespace {
constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

int value(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}
}  // namespace

std::string encode(BytesView in) {
  std::string out;
  out.reserve((in.size() * 8 + 4) / 5);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (auto b : in) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) {
    out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  }
  return out;
}

Result<Bytes> decode(std::string_view in) {
  // Lengths 1, 3 and 6 mod 8 cannot come from whole bytes.
  const auto rem = in.size() % 8;
  if (rem == 1 || rem == 3 || rem == 6) {
    return fail(Errc::kBadLength,
                "base32 text has an impossible length " + std::to_string(in.size()));
  }
  Bytes out;
  out.reserve(in.size() * 5 / 8);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    int v = value(in[i]);
    if (v < 0) {
      return fail(Errc::kBadCharacter, "invalid base32 character '" + std::string(1, in[i]) +
                                           "' at offset " + std::to_string(i));
    }
    buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<std::uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
    }
  }
  if ((buffer & ((1u << bits) - 1)) != 0) {
    return fail(Errc::kBadPadding, "base32 text has non-zero trailing bits");
  }
  return out;
}

}  // namespace pc::base32
