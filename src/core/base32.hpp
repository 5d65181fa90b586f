#pragma once
/// RFC 4648 base32, lower-case alphabet, no padding (multibase `b`).
#include "core/bytes.hpp"

namespace pc::base32 {

std::string encode(BytesView in);
/// Accepts lower case only (multibase `b` is the lower-case variant); rejects padding and
/// non-zero trailing bits so that each byte string has exactly one text form.
Result<Bytes> decode(std::string_view in);

}  // namespace pc::base32
