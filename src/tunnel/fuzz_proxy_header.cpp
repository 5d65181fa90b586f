#include <cstddef>
#include <cstdint>

#include "tunnel/proxy_header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::size_t used = 0;
  auto r = pc::tunnel::decodeProxyHeader(pc::BytesView(data, size), used);
  if (r && *r) {
    // Whatever decodes re-encodes to the same bytes.
    const auto again = pc::tunnel::encodeProxyHeader(**r);
    if (again.size() != used || !std::equal(again.begin(), again.end(), data)) __builtin_trap();
  }
  return 0;
}
