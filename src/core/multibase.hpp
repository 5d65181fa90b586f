#pragma once
/// Multibase: a one-character prefix naming the base of the text that follows.
#include "core/bytes.hpp"

namespace pc::multibase {

enum class Base : char { kBase58Btc = 'z', kBase32Lower = 'b', kBase16Lower = 'f' };

std::string encode(Base base, BytesView in);
/// Errors: kUnknownCode for an unsupported prefix (named in the message), or the base's error.
Result<Bytes> decode(std::string_view text);

}  // namespace pc::multibase
