#include "gateway/names.hpp"

#include <algorithm>

#include "gateway/http_head.hpp"
#include "protocol/messages.hpp"

namespace pc::gateway {

std::string_view hostWithoutPort(std::string_view host) {
  const auto colon = host.rfind(':');
  const bool hasPort = colon != std::string_view::npos && host.find(']') == std::string_view::npos;
  return hasPort ? host.substr(0, colon) : host;
}

std::string hostName(std::string_view host) {
  std::string h = lowerAscii(hostWithoutPort(trimOws(host)));
  if (!h.empty() && h.back() == '.') {
    h.pop_back();  // "dep-x.example.net." is the same name
  }
  return h;
}

std::string deploymentFromHost(std::string_view host, std::string_view domain) {
  const std::string h = hostName(host);
  const std::string suffix = "." + lowerAscii(domain);
  if (h.size() <= suffix.size() || !h.ends_with(suffix)) {
    return "";
  }
  std::string label = h.substr(0, h.size() - suffix.size());
  return protocol::isDeploymentId(label) ? label : "";
}

std::string clientAddressBlock(const boost::asio::ip::address& a) {
  if (a.is_v4()) {
    return a.to_string();
  }
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) {
    return v6.to_v4().to_string();
  }
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

std::string clientAddressBlock(const std::string& ip) {
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(ip, ec);
  return ec ? ip : clientAddressBlock(a);
}

}  // namespace pc::gateway
