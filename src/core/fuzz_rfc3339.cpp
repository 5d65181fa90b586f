// Fuzz target: the RFC 3339 parser and the UTF-8 helpers. A parsed time printed back parses to
// the same millisecond; sanitize() always yields valid UTF-8 and keeps valid text unchanged;
// truncate() stays within its limit.
#include "core/time.hpp"
#include "core/utf8.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto t = pc::time::parseRfc3339(text)) {
    const auto printed = pc::time::formatRfc3339(*t, pc::time::Precision::kMillis);
    auto again = pc::time::parseRfc3339(printed);
    if (!again || pc::time::toUnixMillis(*again) != pc::time::toUnixMillis(*t)) __builtin_trap();
  }
  const std::string clean = pc::utf8::sanitize(text);
  if (!pc::utf8::isValid(clean)) __builtin_trap();
  if (pc::utf8::isValid(text) && clean != text) __builtin_trap();
  const std::size_t limit = size == 0 ? 0 : data[0];
  const std::string cut = pc::utf8::truncate(text, limit);
  if (cut.size() > limit || !pc::utf8::isValid(cut)) __builtin_trap();
  return 0;
}
