// Hostile bytes into the Circuit Relay v2 decoders: never a crash, and whatever decodes
// re-encodes to bytes that decode to the same message (the encoder is canonical).
#include <cstddef>
#include <cstdint>

#include "net/relay/messages.hpp"

namespace relay = pc::net::relay;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const pc::BytesView in(data, size);
  if (auto hop = relay::decodeHop(in)) {
    const auto once = relay::encode(*hop);
    auto again = relay::decodeHop(once);
    if (!again || relay::encode(*again) != once) {
      __builtin_trap();
    }
  }
  if (auto stop = relay::decodeStop(in)) {
    const auto once = relay::encode(*stop);
    auto again = relay::decodeStop(once);
    if (!again || relay::encode(*again) != once) {
      __builtin_trap();
    }
  }
  return 0;
}
