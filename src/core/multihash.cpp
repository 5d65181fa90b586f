#include "core/multihash.hpp"

#include "core/varint.hpp"

namespace pc::multihash {

Result<View> parse(BytesView in) {
  auto code = varint::decode(in);
  if (!code) return code.error().context("multihash code");
  if (code->value != kIdentity && code->value != kSha2_256) {
    return fail(Errc::kUnknownCode,
                "unsupported multihash code 0x" + toHex(varint::encode(code->value)));
  }
  auto rest = in.subspan(code->size);
  auto len = varint::decode(rest);
  if (!len) return len.error().context("multihash length");
  if (len->value > kMaxDigestLength) {
    return fail(Errc::kTooLarge,
                "multihash digest longer than " + std::to_string(kMaxDigestLength));
  }
  rest = rest.subspan(len->size);
  if (rest.size() != len->value) {
    return fail(Errc::kBadLength, "multihash digest is " + std::to_string(rest.size()) +
                                      " bytes but declares " + std::to_string(len->value));
  }
  if (code->value == kSha2_256 && rest.size() != 32) {
    return fail(Errc::kBadLength, "sha2-256 multihash digest must be 32 bytes");
  }
  return View{code->value, rest};
}

Bytes encode(std::uint64_t code, BytesView digest) {
  Bytes out;
  varint::encode(code, out);
  varint::encode(digest.size(), out);
  append(out, digest);
  return out;
}

}  // namespace pc::multihash
