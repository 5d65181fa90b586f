// Fuzzes what the admin listener reads from a client before any handler runs: the Host and
// Authorization headers through the access rules (admin/access.hpp), and the listen address
// parser. Beast's request parser itself is fuzzed through the gateway's fuzz_http_head.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "admin/access.hpp"
#include "admin/listen.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto cut = in.find('\n');
  const std::string_view host = in.substr(0, cut);
  const std::string_view auth = cut == std::string_view::npos ? "" : in.substr(cut + 1);
  static const auto token =
      pc::admin::AdminToken::fromText("0123456789abcdef0123456789abcdef").value();
  for (const char* remote : {"127.0.0.1", "192.0.2.2", "::1", "::ffff:127.0.0.1"}) {
    const pc::admin::AccessRequest r{boost::asio::ip::make_address(remote), auth, host};
    (void)pc::admin::decideAccess(r, nullptr);
    (void)pc::admin::decideAccess(r, &token);
  }
  (void)pc::admin::isAddressHost(in);
  (void)pc::admin::bearerToken(in);
  (void)pc::admin::parseListen(in);
  (void)pc::admin::AdminToken::fromText(in);
  return 0;
}
