#pragma once
/// Errors of the reverse tunnel (both halves): what went wrong with a proxy stream or a route.
#include "core/error.hpp"

namespace pc::tunnel {

enum class Errc {
  kMalformedProxyHeader = 1,  ///< the proxy header from the gateway does not parse
  kTargetUnreachable,         ///< the deployment does not answer on its exposed port
};

const boost::system::error_category& tunnelCategory();
inline boost::system::error_code make_error_code(Errc e) {
  return {static_cast<int>(e), tunnelCategory()};
}
inline Error fail(Errc e, std::string message) {
  return Error(make_error_code(e), std::move(message));
}

}  // namespace pc::tunnel

template <>
struct boost::system::is_error_code_enum<pc::tunnel::Errc> : std::true_type {};
