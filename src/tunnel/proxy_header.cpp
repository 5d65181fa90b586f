#include "tunnel/proxy_header.hpp"

#include <algorithm>

#include "protocol/messages.hpp"
#include "tunnel/error.hpp"

namespace pc::tunnel {

Bytes encodeProxyHeader(const ProxyHeader& h) {
  Bytes out;
  out.push_back(kProxyHeaderVersion);
  out.push_back(static_cast<std::uint8_t>(h.deploymentId.size()));
  out.insert(out.end(), h.deploymentId.begin(), h.deploymentId.end());
  const std::string addr = h.clientAddr.substr(0, kMaxClientAddrLength);
  out.push_back(static_cast<std::uint8_t>(addr.size()));
  out.insert(out.end(), addr.begin(), addr.end());
  return out;
}

Result<std::optional<ProxyHeader>> decodeProxyHeader(BytesView in, std::size_t& used) {
  used = 0;
  if (in.empty()) return std::optional<ProxyHeader>{};
  if (in[0] != kProxyHeaderVersion) {
    return fail(Errc::kMalformedProxyHeader,
                "proxy header: unknown version " + std::to_string(in[0]));
  }
  if (in.size() < 2) return std::optional<ProxyHeader>{};
  const std::size_t idLen = in[1];
  if (in.size() < 2 + idLen + 1) return std::optional<ProxyHeader>{};
  ProxyHeader h;
  h.deploymentId.assign(reinterpret_cast<const char*>(in.data() + 2), idLen);
  // Only a well-formed id can reach the route lookup (and the logs).
  if (!protocol::isDeploymentId(h.deploymentId)) {
    return fail(Errc::kMalformedProxyHeader, "proxy header: not a deployment id");
  }
  const std::size_t addrLen = in[2 + idLen];
  if (addrLen > kMaxClientAddrLength) {
    return fail(Errc::kMalformedProxyHeader, "proxy header: client address too long");
  }
  if (in.size() < 3 + idLen + addrLen) return std::optional<ProxyHeader>{};
  h.clientAddr.assign(reinterpret_cast<const char*>(in.data() + 3 + idLen), addrLen);
  if (!std::all_of(h.clientAddr.begin(), h.clientAddr.end(),
                   [](char c) { return c > 0x20 && c < 0x7f; })) {
    return fail(Errc::kMalformedProxyHeader, "proxy header: client address is not printable");
  }
  used = 3 + idLen + addrLen;
  return std::optional<ProxyHeader>(std::move(h));
}

}  // namespace pc::tunnel
