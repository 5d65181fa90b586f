// Fuzz target: image reference parser; a parsed reference must round-trip through toString()
// and stay within the grammar's length limits.
#include <cstdint>

#include "runtime/image_ref.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto ref = pc::runtime::ImageRef::parse(text)) {
    if (ref->name().size() > pc::runtime::kMaxNameLength) __builtin_trap();
    auto again = pc::runtime::ImageRef::parse(ref->toString());
    if (!again || !(*again == *ref)) __builtin_trap();
  }
  return 0;
}
