// Fuzz target: the DNS message decoder and the mDNS announcement reader. A decoded message must
// re-encode, and decoding that encoding must give the same message (the encoder compresses
// names differently, so bytes may differ; the meaning may not).
#include "net/mdns/discovery.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pc::net::mdns;
  auto m = decode(pc::BytesView(data, size));
  if (!m) return 0;
  static const Name service = parseName(kServiceName).value();
  (void)asksFor(*m, service);
  auto found = readAnnouncements(*m, service);
  PeerTable table;
  for (const auto& a : found) {
    if (a.addrs.size() > kMaxAddrsPerPeer || a.ttl > kMaxTtlSeconds) __builtin_trap();
    table.learn(a, std::chrono::steady_clock::time_point{});
  }
  if (table.size() > kMaxPeers) __builtin_trap();
  auto bytes = encode(*m);
  if (!bytes) {
    // Only a message grown past the size limit by the re-encoding may fail.
    if (bytes.error() != pc::net::make_error_code(pc::net::Errc::kTooLarge)) __builtin_trap();
    return 0;
  }
  auto again = decode(*bytes);
  if (!again || !(*again == *m)) __builtin_trap();
  return 0;
}
