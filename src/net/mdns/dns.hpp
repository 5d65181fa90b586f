#pragma once
/// mDNS speaks DNS messages: the codec is shared with the gateway's authoritative server and
/// lives in net/dns/message.hpp. Its names are visible here unqualified (`mdns::decode`,
/// `mdns::Name`), as they were when the codec lived in this folder.
#include "net/dns/message.hpp"

namespace pc::net::mdns {
using namespace pc::net::dns;  // NOLINT(google-build-using-namespace): one codec, two users
}  // namespace pc::net::mdns
