// libFuzzer target: the gateway-peer frame decoder (peer_codec.hpp), fed what a listed peer
// gateway may send. Whatever decodes re-encodes to the same bytes; nothing over the limits is
// ever accepted.
#include <cstddef>
#include <cstdint>

#include "gateway/peer_codec.hpp"

namespace peer = pc::gateway::peer;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Fed in two pieces: a frame split anywhere must decode the same.
  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  peer::FrameDecoder decoder;
  std::size_t consumed = 0;
  auto check = [&](pc::Result<std::optional<peer::Message>> m) {
    while (m && *m) {
      auto again = peer::encode(**m);
      if (!again) __builtin_trap();
      if (consumed + again->size() > size ||
          !std::equal(again->begin(), again->end(), data + consumed)) {
        __builtin_trap();
      }
      consumed += again->size();
      m = decoder.next();
    }
    return static_cast<bool>(m);
  };
  if (check(decoder.feed(pc::BytesView(data, cut)))) {
    (void)check(decoder.feed(pc::BytesView(data + cut, size - cut)));
  }
  return 0;
}
