#pragma once
/// Module-private: strict JSON parsing and RFC 8785 serialisation on Boost.JSON values. Only
/// the protocol module's .cpp files include this (Boost.JSON stays out of public headers).
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace pc::protocol::detail {

/// Largest magnitude a number may have: 2^53 - 1, the largest integer an IEEE double (and so
/// every JavaScript / JCS implementation) represents exactly.
inline constexpr std::int64_t kMaxSafeInteger = (std::int64_t{1} << 53) - 1;
/// Nesting bound for parsed documents (our messages nest at most 4 deep).
inline constexpr std::size_t kMaxJsonDepth = 16;

/// Parses `text` strictly: valid UTF-8 (no lone surrogate escapes), no comments or trailing
/// commas, no duplicate keys at any level, numbers only as integers within ±kMaxSafeInteger
/// (fractions and exponents are rejected, even "1.0"), depth ≤ kMaxJsonDepth. Errc::kBadJson.
Result<boost::json::value> parseStrict(std::string_view text);

/// RFC 8785 canonical form of `v`: object members sorted by the UTF-16 code units of their
/// names, no whitespace, JCS string escaping, integers in plain decimal. `v` must satisfy the
/// parseStrict number rule (callers build values from validated integers only).
std::string canonicalize(const boost::json::value& v);

}  // namespace pc::protocol::detail

#include <boost/json/object.hpp>

#include "protocol/messages.hpp"

namespace pc::protocol::detail {

/// `m` as a JSON object; the request `signature` member only when `withSignature`.
boost::json::object toObject(const Message& m, bool withSignature);
/// Validates and converts an object of type `t`. With `requireSignature` false the request
/// `signature` member must be absent (the to-be-signed form).
Result<Message> fromObject(MessageType t, const boost::json::object& o, bool requireSignature);

}  // namespace pc::protocol::detail
