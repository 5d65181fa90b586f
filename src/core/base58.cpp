#include "core/base58.hpp"

#include <array>

namespace pc::base58 {
namespace {
constexpr char kAlphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

constexpr std::array<std::int8_t, 256> makeIndex() {
  std::array<std::int8_t, 256> idx{};
  for (auto& v : idx) v = -1;
  for (int i = 0; i < 58; ++i)
    idx[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return idx;
}
constexpr auto kIndex = makeIndex();
}  // namespace

std::string encode(BytesView in) {
  std::size_t zeros = 0;
  while (zeros < in.size() && in[zeros] == 0) ++zeros;
  // log(256)/log(58) ≈ 1.366: enough digits for the big-endian number.
  std::vector<std::uint8_t> digits((in.size() - zeros) * 138 / 100 + 1, 0);
  std::size_t used = 0;
  for (std::size_t i = zeros; i < in.size(); ++i) {
    unsigned carry = in[i];
    std::size_t j = 0;
    for (auto it = digits.rbegin(); (carry != 0 || j < used) && it != digits.rend(); ++it, ++j) {
      carry += 256u * *it;
      *it = static_cast<std::uint8_t>(carry % 58);
      carry /= 58;
    }
    used = j;
  }
  auto it = digits.begin() + static_cast<std::ptrdiff_t>(digits.size() - used);
  std::string out(zeros, '1');
  for (; it != digits.end(); ++it) out.push_back(kAlphabet[*it]);
  return out;
}

Result<Bytes> decode(std::string_view in) {
  if (in.size() > kMaxEncodedLength) {
    return fail(Errc::kTooLarge, "base58 text longer than " + std::to_string(kMaxEncodedLength));
  }
  std::size_t zeros = 0;
  while (zeros < in.size() && in[zeros] == '1') ++zeros;
  // log(58)/log(256) ≈ 0.733
  std::vector<std::uint8_t> b256((in.size() - zeros) * 733 / 1000 + 1, 0);
  std::size_t used = 0;
  for (std::size_t i = zeros; i < in.size(); ++i) {
    int v = kIndex[static_cast<unsigned char>(in[i])];
    if (v < 0) {
      return fail(Errc::kBadCharacter, "invalid base58 character '" + std::string(1, in[i]) +
                                           "' at offset " + std::to_string(i));
    }
    unsigned carry = static_cast<unsigned>(v);
    std::size_t j = 0;
    for (auto it = b256.rbegin(); (carry != 0 || j < used) && it != b256.rend(); ++it, ++j) {
      carry += 58u * *it;
      *it = static_cast<std::uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    used = j;
  }
  Bytes out(zeros, 0);
  out.insert(out.end(), b256.end() - static_cast<std::ptrdiff_t>(used), b256.end());
  return out;
}

}  // namespace pc::base58
