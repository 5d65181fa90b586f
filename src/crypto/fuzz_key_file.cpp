// Fuzz target: identity key file decoder (libp2p protobuf PrivateKey).
#include "crypto/identity.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (auto id = pc::crypto::Identity::decodeKeyFile(pc::BytesView(data, size))) {
    auto again = pc::crypto::Identity::decodeKeyFile(id->encodeKeyFile());
    if (!again || again->peerId() != id->peerId()) __builtin_trap();
  }
  return 0;
}
