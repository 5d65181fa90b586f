// libFuzzer target: the ClientHello extension readers (server_name, ALPN) the gateway runs on
// every public TLS connection before any certificate is chosen.
#include <cstddef>
#include <cstdint>

#include "gateway/tls.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const pc::BytesView in(data, size);
  if (auto name = pc::gateway::parseServerName(in)) {
    // Whatever is accepted is a short, lower-case DNS-ish name.
    if (name->empty() || name->size() > 253) __builtin_trap();
    for (const char c : *name) {
      if (c >= 'A' && c <= 'Z') __builtin_trap();
    }
  }
  (void)pc::gateway::alpnOffers(in, "acme-tls/1");
  return 0;
}
