#pragma once
/// ASCII case folding for protocol names (HTTP field names, DNS names, units, registry hosts):
/// locale-independent, bytes above 0x7f left as they are.
#include <cctype>
#include <string>
#include <string_view>

namespace pc {

/// `s` with A–Z turned to a–z.
inline std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace pc
