#pragma once
/// UTF-8 (RFC 3629) validation and repair: the one place the project decides what valid UTF-8
/// is. Overlong forms, UTF-16 surrogates (U+D800..U+DFFF) and code points above U+10FFFF are
/// invalid, as RFC 3629 requires.
#include <cstddef>
#include <string>
#include <string_view>

namespace pc::utf8 {

/// U+FFFD REPLACEMENT CHARACTER, the stand-in for invalid bytes.
inline constexpr char32_t kReplacement = 0xfffd;
/// "…" (U+2026), the mark truncate() leaves at a cut.
inline constexpr std::string_view kEllipsis = "\xe2\x80\xa6";

/// Length in bytes (1..4) of the valid UTF-8 sequence starting at `s[i]`; 0 when the bytes there
/// are not a valid sequence (or `i` is past the end).
std::size_t sequenceLength(std::string_view s, std::size_t i);

/// True when all of `s` is valid UTF-8.
bool isValid(std::string_view s);

/// The code point at `s[i]`, advancing `i` past it; an invalid byte yields kReplacement and
/// advances `i` by one (the same resynchronisation sanitize() uses). Precondition: i < s.size().
char32_t decode(std::string_view s, std::size_t& i);

/// The number of characters (code points) in `s`, each invalid byte counting as one (as
/// sanitize() would show it): the width of text in a terminal table, for the common scripts.
std::size_t length(std::string_view s);

/// `s` with every invalid byte replaced by U+FFFD (text from outside, e.g. container logs).
std::string sanitize(std::string_view s);

/// `s` as valid UTF-8 of at most `maxBytes` bytes (sanitized first), cut at a character boundary
/// with kEllipsis marking a cut; empty when a cut is needed and `maxBytes` cannot hold the mark.
std::string truncate(std::string_view s, std::size_t maxBytes);

}  // namespace pc::utf8
