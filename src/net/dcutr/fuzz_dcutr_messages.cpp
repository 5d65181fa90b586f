// Hostile bytes into the DCUtR decoder: never a crash, and whatever decodes re-encodes to bytes
// that decode to the same message (the encoder is canonical).
#include <cstddef>
#include <cstdint>

#include "net/dcutr/messages.hpp"

namespace dcutr = pc::net::dcutr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (auto m = dcutr::decode(pc::BytesView(data, size))) {
    const auto once = dcutr::encode(*m);
    auto again = dcutr::decode(once);
    if (!again || dcutr::encode(*again) != once) {
      __builtin_trap();
    }
  }
  return 0;
}
