#pragma once
/// Errors of the provider module (scheduler, store, handlers).
#include "core/error.hpp"

namespace pc::provider {

enum class Errc {
  kStorage = 1,   ///< the state database failed or is corrupt
  kNotFound,      ///< no such deployment of this requester
  kBadState,      ///< the deployment is not in a state that allows the operation
  kConfig,        ///< an invalid configuration value
  kShuttingDown,  ///< the provider is stopping and takes no new work
  kDeployFailed,  ///< pulling or starting failed (the runtime's reason is kept)
  kRateLimited,   ///< the peer sent requests faster than its request_rate (retry later)
  kBadRequest     ///< a request field the provider cannot act on (the field is named)
};

const boost::system::error_category& providerCategory();
inline boost::system::error_code make_error_code(Errc e) {
  return {static_cast<int>(e), providerCategory()};
}
inline Error fail(Errc e, std::string message) {
  return Error(make_error_code(e), std::move(message));
}

}  // namespace pc::provider

template <>
struct boost::system::is_error_code_enum<pc::provider::Errc> : std::true_type {};
