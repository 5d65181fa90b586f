#pragma once
/// RFC 8785 JSON Canonicalization Scheme (JCS), restricted to integer numbers.
///
/// Restriction: numbers must be integers written without fraction or exponent, with magnitude
/// at most 2^53 - 1. In that range ES6 number serialisation is plain decimal, so the canonical
/// form is exact and needs no floating-point formatting; every protocol number (times in unix
/// milliseconds, bytes, millicores) fits. Other numbers are rejected, never approximated.
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace pc::protocol {

/// The canonical form of the JSON text `json`. Errors (Errc::kBadJson): invalid JSON or UTF-8,
/// duplicate member names, non-integer or out-of-range numbers, nesting deeper than 16.
Result<std::string> canonicalizeJson(std::string_view json);

}  // namespace pc::protocol
