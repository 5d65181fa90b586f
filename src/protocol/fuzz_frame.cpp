// Fuzz target: the frame decoder fed in input-chosen chunk sizes must reject or decode, never
// crash, never exceed its limit; every decoded frame goes through the message decoder too.
#include "protocol/messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // First byte: chunk size (1..256) and the body limit (small, to reach the limit paths).
  const std::size_t chunk = std::size_t{data[0]} + 1;
  auto decoder = pc::protocol::FrameDecoder::create(data[0] % 2 == 0 ? 4096 : 64).value();
  pc::BytesView in(data + 1, size - 1);
  while (!in.empty()) {
    const std::size_t n = std::min(chunk, in.size());
    auto f = decoder.feed(in.first(n));
    in = in.subspan(n);
    while (f && *f) {
      if ((*f)->body.size() > decoder.maxBody()) __builtin_trap();
      auto m = pc::protocol::decodeMessage(**f);
      if (m && typeOf(*m) != (*f)->type) __builtin_trap();
      f = decoder.next();
    }
    if (!f) return 0;
  }
  return 0;
}
