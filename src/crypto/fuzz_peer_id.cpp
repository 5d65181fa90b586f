// Fuzz target: PeerId text and binary parsers and the PublicKey protobuf.
#include "crypto/peer_id.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto id = pc::crypto::PeerId::parse(text)) {
    if (pc::crypto::PeerId::parse(id->toBase58()).value() != *id) __builtin_trap();
    if (pc::crypto::PeerId::parse(id->toCid()).value() != *id) __builtin_trap();
  }
  if (auto id = pc::crypto::PeerId::fromBytes(pc::BytesView(data, size))) {
    (void)id->ed25519Key();
  }
  (void)pc::crypto::decodePublicKey(pc::BytesView(data, size));
  return 0;
}
