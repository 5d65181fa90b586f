#pragma once
/// Errors of the egress module.
#include "core/error.hpp"

namespace pc::egress {

enum class Errc {
  kBadSetting = 1,  ///< an egress setting (CIDR, port, mode) cannot be parsed
  kCommandFailed,   ///< iptables/ip6tables could not be run or refused our rules
  kRuleMissing,     ///< a rule a deployment depends on is not installed (fail closed)
  kWrongNetwork,    ///< the deployment's network is not on the interface the rules confine
};

const boost::system::error_category& category();
inline boost::system::error_code make_error_code(Errc e) {
  return {static_cast<int>(e), category()};
}
inline Error fail(Errc e, std::string message) { return {make_error_code(e), std::move(message)}; }

}  // namespace pc::egress

template <>
struct boost::system::is_error_code_enum<pc::egress::Errc> : std::true_type {};
