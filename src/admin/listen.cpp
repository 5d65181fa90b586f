#include "admin/listen.hpp"

#include <charconv>

namespace pc::admin {

namespace {

Error badListen(std::string_view text, std::string_view why) {
  return Error(make_error_code(boost::system::errc::invalid_argument),
               "\"" + std::string(text) + "\": " + std::string(why) +
                   " (expected HOST:PORT, e.g. 127.0.0.1:9100 or [::1]:9100)");
}

}  // namespace

Result<boost::asio::ip::tcp::endpoint> parseListen(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return badListen(text, "no port");
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view portText = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc{} || end != portText.data() + portText.size() || port > 65535) {
    return badListen(text, "the port is not a number from 0 to 65535");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return badListen(text, "an IPv6 address goes in brackets");
  }
  if (host == "localhost") {
    host = "127.0.0.1";
  }
  boost::system::error_code aec;
  const auto addr = boost::asio::ip::make_address(std::string(host), aec);
  if (aec) {
    return badListen(text, "the host is not an IP address");
  }
  return boost::asio::ip::tcp::endpoint(addr, static_cast<std::uint16_t>(port));
}

}  // namespace pc::admin
