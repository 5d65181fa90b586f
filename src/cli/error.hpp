#pragma once
/// Errors of peerctl itself (the network, the provider and the runtime have their own codes).
#include "core/error.hpp"

namespace pc::cli {

enum class Errc {
  kDeadline = 1,       ///< the command did not finish within its --timeout
  kBadArgument,        ///< a flag or argument value is invalid
  kUnknownDeployment,  ///< this machine has no record of the deployment id
  kUnexpectedAnswer,   ///< the provider answered with a message that does not fit the request
  kCommandFailed,      ///< the command body failed unexpectedly (a bug, reported with its text)
};

const boost::system::error_category& cliCategory();
inline boost::system::error_code make_error_code(Errc e) {
  return {static_cast<int>(e), cliCategory()};
}
inline Error fail(Errc e, std::string message) {
  return Error(make_error_code(e), std::move(message));
}

}  // namespace pc::cli

template <>
struct boost::system::is_error_code_enum<pc::cli::Errc> : std::true_type {};
