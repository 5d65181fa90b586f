#pragma once
/// The admin listener's address: "HOST:PORT" with HOST an IPv4 literal, an IPv6 literal in
/// brackets or `localhost` (127.0.0.1). Pure.
#include <boost/asio/ip/tcp.hpp>
#include <string_view>

#include "core/error.hpp"

namespace pc::admin {

/// "127.0.0.1:9100", "[::1]:9100", "0.0.0.0:0", "localhost:9100" → the endpoint. Errors name the
/// text and what is wrong with it.
Result<boost::asio::ip::tcp::endpoint> parseListen(std::string_view text);

}  // namespace pc::admin
