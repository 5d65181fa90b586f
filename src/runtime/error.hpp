#pragma once
/// Errors of the container runtime (Docker engine client, security profile, image policy).
#include "core/error.hpp"

namespace pc::runtime {

/// Errors of the runtime module. Each `Error` carries a sentence saying what happened and what
/// to do; the code says which kind of failure it was.
enum class Errc {
  kDaemonUnreachable = 1,  ///< nothing answers on the engine socket (is dockerd running?)
  kTimeout,                ///< a deadline expired (connect, request, pull, stop)
  kProtocolError,          ///< the engine sent something that is not valid HTTP / JSON / framing
  kTooLarge,               ///< a response, frame or message over its named limit
  kUnsupportedApi,         ///< the engine's API version is older than the minimum we speak
  kImageNotFound,          ///< the image is not on this host (pull it) or not in its registry
  kNoSuchContainer,        ///< no container with that id or name
  kConflict,               ///< a name is already in use, or the container is in the wrong state
  kEngineError,            ///< any other error the engine reported (its message is kept)
  kPullFailed,             ///< the engine reported an error in the middle of a pull
  kBadReference,           ///< an image reference that does not follow the reference grammar
  kImageNotAllowed,        ///< the image's registry or repository is not on the allowlist
  kLimitExceeded,          ///< a per-container, provider or per-requester limit would be exceeded
  kInvalidSpec             ///< a container spec field is invalid (the field is named)
};

const boost::system::error_category& runtimeCategory();
inline boost::system::error_code make_error_code(Errc e) {
  return {static_cast<int>(e), runtimeCategory()};
}
inline Error fail(Errc e, std::string message) {
  return Error(make_error_code(e), std::move(message));
}

}  // namespace pc::runtime

template <>
struct boost::system::is_error_code_enum<pc::runtime::Errc> : std::true_type {};
