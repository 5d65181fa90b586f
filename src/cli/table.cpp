#include "cli/table.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

namespace pc::cli {
namespace {

/// The code point starting at `s[i]` and its length, or nullopt for a byte that does not start
/// a valid sequence (overlong forms and surrogates included).
std::optional<std::pair<char32_t, std::size_t>> decodeAt(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    return std::pair{char32_t{b0}, std::size_t{1}};
  }
  std::size_t len = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return std::nullopt;
  }
  if (i + len > s.size()) {
    return std::nullopt;
  }
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      return std::nullopt;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  constexpr std::array<char32_t, 5> kMinForLength{0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return std::nullopt;
  }
  return std::pair{cp, len};
}

struct Range {
  char32_t first;
  char32_t last;
};

bool inRanges(char32_t cp, const auto& ranges) {
  return std::any_of(std::begin(ranges), std::end(ranges),
                     [cp](const Range& r) { return cp >= r.first && cp <= r.last; });
}

/// Combining marks and zero-width characters: they join the character before them.
constexpr Range kZeroWidth[] = {
    {0x0300, 0x036F}, {0x200B, 0x200F}, {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F},
};

/// East Asian Wide and Fullwidth blocks, and the emoji blocks (UAX #11, simplified).
constexpr Range kWide[] = {
    {0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},
    {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},
    {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F},
    {0x1F680, 0x1F6FF}, {0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

std::size_t columnsOf(char32_t cp) {
  if (inRanges(cp, kZeroWidth)) {
    return 0;
  }
  return inRanges(cp, kWide) ? 2 : 1;
}

}  // namespace

std::size_t displayWidth(std::string_view text) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto decoded = decodeAt(text, i);
    if (!decoded) {
      ++width;
      ++i;
      continue;
    }
    width += columnsOf(decoded->first);
    i += decoded->second;
  }
  return width;
}

std::string Table::render() const {
  std::vector<std::size_t> widths;
  for (const auto& row : rows_) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], displayWidth(row[i]));
    }
  }
  std::string out;
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) {
        out.append(widths[i] - displayWidth(row[i]) + 2, ' ');
      }
    }
    out += '\n';
  }
  return out;
}

}  // namespace pc::cli
