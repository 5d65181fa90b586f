// Fuzz target: yamux frame header decoder; a decoded header must re-encode to the same bytes.
#include "net/yamux/frame.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pc::BytesView in(data, size);
  while (in.size() >= pc::net::yamux::kHeaderSize) {
    auto h = pc::net::yamux::decode(in);
    if (!h) break;
    auto enc = pc::net::yamux::encode(**h);
    if (!std::equal(enc.begin(), enc.end(), in.begin())) __builtin_trap();
    in = in.subspan(pc::net::yamux::kHeaderSize);
  }
  return 0;
}
