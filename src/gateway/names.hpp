#pragma once
/// The names the gateway derives from a public request, as pure functions: the deployment its
/// Host header names, and the address block its client counts in for per-client limits.
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

namespace pc::gateway {

/// A Host header without its ":port" ("dep-x.localhost:8080" → "dep-x.localhost"); a bracketed
/// IPv6 literal keeps its colons.
std::string_view hostWithoutPort(std::string_view host);
/// The name a Host header designates, compared as DNS names are: surrounding whitespace, the
/// port and a trailing dot dropped, lower-cased ("Dep-X.Example.NET.:443" → "dep-x.example.net").
std::string hostName(std::string_view host);

/// The deployment id a Host header names under `domain` ("dep-x.localhost:8080" → "dep-x"), or
/// empty when it names none. Case-insensitive; the port and a trailing dot are ignored.
std::string deploymentFromHost(std::string_view host, std::string_view domain);

/// The block a client address counts in for per-client limits (connections, requests/s): the
/// address itself for IPv4 (an IPv4-mapped IPv6 address counts as its IPv4 address), its /64 for
/// IPv6 — one host usually holds a whole /64, so counting single addresses would let it multiply
/// every per-client limit by 2^64.
std::string clientAddressBlock(const boost::asio::ip::address& a);
/// The same for an address in text; anything unparsable is its own block.
std::string clientAddressBlock(const std::string& ip);

}  // namespace pc::gateway
