// Fuzz target: Noise XX handshake messages from a hostile peer, in both roles, and the libp2p
// handshake payload protobuf. The first byte picks the scenario; the rest is the peer's message.
#include "net/noise/handshake.hpp"

namespace {
const pc::crypto::Identity& identity() {
  static const auto id = pc::crypto::Identity::generate().value();
  return id;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const pc::BytesView msg(data + 1, size - 1);
  using pc::net::noise::Handshake;
  switch (data[0] % 3) {
    case 0: {  // responder reading message 1, then writing message 2
      auto hs = Handshake::create(false, identity()).value();
      if (hs.readMessage(msg)) (void)hs.writeMessage();
      break;
    }
    case 1: {  // initiator reading a forged message 2
      auto hs = Handshake::create(true, identity()).value();
      (void)hs.writeMessage();
      if (hs.readMessage(msg) && !hs.remotePeer()) __builtin_trap();
      break;
    }
    default:
      (void)pc::net::noise::decodePayload(msg);
  }
  return 0;
}
