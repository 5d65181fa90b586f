// Fuzz target: multistream-select message decoder over a stream of messages.
#include "net/multistream/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pc::BytesView in(data, size);
  for (int i = 0; i < 256 && !in.empty(); ++i) {
    auto m = pc::net::multistream::decode(in);
    if (!m || !*m) break;
    if ((*m)->consumed == 0 || (*m)->consumed > in.size()) __builtin_trap();
    in = in.subspan((*m)->consumed);
  }
  return 0;
}
