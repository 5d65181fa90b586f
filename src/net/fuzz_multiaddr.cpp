// Fuzz target: multiaddr text and binary parsers; a parsed address must round-trip in both forms.
#include "net/multiaddr.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (auto m = pc::net::Multiaddr::fromBytes(pc::BytesView(data, size))) {
    if (pc::net::Multiaddr::fromBytes(m->toBytes()).value() != *m) __builtin_trap();
    if (pc::net::Multiaddr::parse(m->toString()).value() != *m) __builtin_trap();
  }
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto m = pc::net::Multiaddr::parse(text)) {
    if (pc::net::Multiaddr::fromBytes(m->toBytes()).value() != *m) __builtin_trap();
  }
  return 0;
}
