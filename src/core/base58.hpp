#pragma once
/// Base58 with the Bitcoin alphabet (multibase `z`, base58btc).
#include "core/bytes.hpp"

namespace pc::base58 {

/// Inputs longer than this are refused: decoding is quadratic, and nothing we parse (peer ids,
/// multihashes) comes near it, so the cap stops a CPU-exhaustion input.
inline constexpr std::size_t kMaxEncodedLength = 1024;

std::string encode(BytesView in);
/// Errors: kBadCharacter (outside the alphabet), kTooLarge (over kMaxEncodedLength).
Result<Bytes> decode(std::string_view in);

}  // namespace pc::base58
