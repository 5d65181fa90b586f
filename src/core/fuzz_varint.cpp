// Fuzz target: varint and protobuf decoders must reject or round-trip, never crash.
#include "core/protobuf.hpp"
#include "core/varint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pc::BytesView in(data, size);
  if (auto d = pc::varint::decode(in)) {
    if (pc::varint::encode(d->value) !=
        pc::Bytes(in.begin(), in.begin() + static_cast<long>(d->size))) {
      __builtin_trap();  // two encodings of one value
    }
  }
  pc::protobuf::Reader r(in);
  for (int i = 0; i < 4096; ++i) {
    auto f = r.next();
    if (!f || !*f) break;
  }
  return 0;
}
