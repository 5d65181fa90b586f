#pragma once
/// The header a gateway sends first on each `/peercompute/proxy/1.0.0` stream, before the raw
/// bytes of the public connection:
///   1 byte version (1) ‖ 1 byte length ‖ deployment id ‖ 1 byte length ‖ client address text
/// Pure codec (sans-IO, fuzzed); the provider reads it with a deadline.
#include <optional>
#include <string>

#include "core/bytes.hpp"

namespace pc::tunnel {

inline constexpr std::uint8_t kProxyHeaderVersion = 1;
inline constexpr std::size_t kMaxClientAddrLength = 64;  ///< "[v6 address]:port" fits
inline constexpr std::size_t kMaxProxyHeader = 3 + 32 + kMaxClientAddrLength;

struct ProxyHeader {
  std::string deploymentId;
  std::string clientAddr;  ///< the public client's "ip:port" (for the provider's logs)
  friend bool operator==(const ProxyHeader&, const ProxyHeader&) = default;
};

Bytes encodeProxyHeader(const ProxyHeader& h);

/// Decodes a header at the start of `in`. nullopt: more bytes needed. On success `used` is the
/// header's size. Errors (Errc::kMalformed): unknown version, a deployment id that is not one,
/// a client address that is too long or not printable ASCII.
Result<std::optional<ProxyHeader>> decodeProxyHeader(BytesView in, std::size_t& used);

}  // namespace pc::tunnel
