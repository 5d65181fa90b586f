// Fuzzes the parsers of the egress settings: allow entries, CIDRs, modes and resolv.conf.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "egress/address.hpp"
#include "egress/policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto a = pc::egress::AllowEntry::parse(text)) {
    // What parses prints back to something that parses to the same entry.
    auto again = pc::egress::AllowEntry::parse(a->toString());
    if (!again || !(*again == *a)) __builtin_trap();
    (void)pc::egress::refusal(a->net.network);
  }
  (void)pc::egress::parseMode(text);
  for (const auto& r : pc::egress::parseResolvConf(text)) (void)pc::egress::refusal(r);
  return 0;
}
