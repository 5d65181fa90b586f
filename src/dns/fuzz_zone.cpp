// Fuzz target: the authoritative zone's query handling (decode, checks, answer, EDNS, render,
// truncation), over both transports and as a slip. Whatever the bytes: no crash, and a response
// carries the query's id, is a response, and fits its transport's bound.
#include "dns/zone.hpp"

namespace {

const pc::dns::Zone& zone() {
  static const pc::dns::Zone z = [] {
    auto made = pc::dns::Zone::create(pc::dns::ZoneSettings{"example.org", {}, 60, 1}).value();
    pc::dns::Addresses a;
    a.v4.push_back({192, 0, 2, 1});
    a.v6.push_back({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    (void)made.setAddresses(a);
    (void)made.setChallenge("_acme-challenge.example.org", {"digest-one", "digest-two"});
    return made;
  }();
  return z;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pc::dns;
  const pc::BytesView query(data, size);
  for (auto t : {Transport::kUdp, Transport::kTcp}) {
    for (bool slip : {false, true}) {
      const auto r = zone().respond(query, t, slip);
      if (r.bytes.empty()) continue;
      if (size < 12 || r.bytes[0] != data[0] || r.bytes[1] != data[1]) __builtin_trap();
      if ((r.bytes[2] & 0x80) == 0) __builtin_trap();
      if (r.bytes.size() > (t == Transport::kUdp ? kMaxUdpPayloadEdns : kMaxTcpResponse)) {
        __builtin_trap();
      }
      // What we send must itself be a valid message.
      if (!pc::net::dns::decode(r.bytes)) __builtin_trap();
    }
  }
  return 0;
}
