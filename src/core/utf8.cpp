#include "core/utf8.hpp"

namespace pc::utf8 {
namespace {

// The lead byte's sequence length, its payload bits and the smallest code point that needs that
// many bytes (smaller ones are overlong forms); length 0 for a byte that cannot lead.
struct Lead {
  std::size_t length = 0;
  char32_t bits = 0;
  char32_t min = 0;
};

Lead lead(unsigned char b0) {
  if (b0 < 0x80) {
    return {1, b0, 0};
  }
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    return {2, b0 & 0x1fU, 0x80};
  }
  if ((b0 & 0xf0) == 0xe0) {
    return {3, b0 & 0x0fU, 0x800};
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    return {4, b0 & 0x07U, 0x10000};
  }
  return {};
}

// The code point of the valid sequence at `i` and its length; length 0 when invalid.
std::pair<char32_t, std::size_t> codePointAt(std::string_view s, std::size_t i) {
  if (i >= s.size()) {
    return {kReplacement, 0};
  }
  const Lead l = lead(static_cast<unsigned char>(s[i]));
  if (l.length == 0 || i + l.length > s.size()) {
    return {kReplacement, 0};
  }
  char32_t cp = l.bits;
  for (std::size_t k = 1; k < l.length; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) {
      return {kReplacement, 0};
    }
    cp = (cp << 6) | (b & 0x3fU);
  }
  if (cp < l.min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return {kReplacement, 0};
  }
  return {cp, l.length};
}

}  // namespace

std::size_t sequenceLength(std::string_view s, std::size_t i) { return codePointAt(s, i).second; }

bool isValid(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = sequenceLength(s, i);
    if (n == 0) {
      return false;
    }
    i += n;
  }
  return true;
}

char32_t decode(std::string_view s, std::size_t& i) {
  const auto [cp, n] = codePointAt(s, i);
  i += n == 0 ? 1 : n;
  return cp;
}

std::size_t length(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) {
    decode(s, i);
  }
  return n;
}

std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = sequenceLength(s, i);
    if (n == 0) {
      out += "\xef\xbf\xbd";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string truncate(std::string_view s, std::size_t maxBytes) {
  std::string clean = sanitize(s);
  if (clean.size() <= maxBytes) {
    return clean;
  }
  if (maxBytes < kEllipsis.size()) {
    return {};
  }
  std::size_t cut = maxBytes - kEllipsis.size();
  // Back off to the start of a character: never leave half a sequence.
  while (cut > 0 && (static_cast<unsigned char>(clean[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  clean.resize(cut);
  clean += kEllipsis;
  return clean;
}

}  // namespace pc::utf8
