#pragma once
/// RFC 4648 §5 base64url (the URL- and file-name-safe alphabet), without padding, as JOSE
/// (RFC 7515 §2) and ACME (RFC 8555) use it.
#include "core/bytes.hpp"

namespace pc::base64url {

/// The unpadded base64url text of `in` (ceil(4n/3) characters).
std::string encode(BytesView in);
/// encode() of the bytes of `in`.
std::string encode(std::string_view in);
/// The bytes of unpadded base64url text. One text form per byte string: rejects padding ('='),
/// characters outside the alphabet (Errc::kBadCharacter), a length of 1 mod 4
/// (Errc::kBadLength) and non-zero trailing bits (Errc::kBadPadding).
Result<Bytes> decode(std::string_view in);

}  // namespace pc::base64url
