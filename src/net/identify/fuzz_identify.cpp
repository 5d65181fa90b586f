// Fuzz target: the identify message decoder (a hostile peer's /ipfs/id/1.0.0 answer). A message
// that decodes must re-encode to something that decodes to the same message.
#include "net/identify/identify.hpp"

namespace {
bool same(const pc::net::identify::Message& a, const pc::net::identify::Message& b) {
  return a.publicKey == b.publicKey && a.info.agentVersion == b.info.agentVersion &&
         a.info.protocolVersion == b.info.protocolVersion && a.info.protocols == b.info.protocols &&
         a.info.listenAddrs == b.info.listenAddrs && a.info.observedAddr == b.info.observedAddr;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace identify = pc::net::identify;
  auto m = identify::decode(pc::BytesView(data, size));
  if (!m) {
    return 0;
  }
  const auto encoded = identify::encode(*m);
  if (encoded.size() > identify::kMaxSize) {
    return 0;  // the encoder adds the empty scalar fields a maximal input may have left out
  }
  const auto again = identify::decode(encoded);
  if (!again || !same(*m, *again)) {
    __builtin_trap();
  }
  return 0;
}
