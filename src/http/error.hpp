#pragma once
/// Errors of the HTTP/1.1 client pieces (response decoder, request rendering). Each client
/// (the Docker engine transport, the ACME client) words them for its own callers.
#include "core/error.hpp"

namespace pc::http {

/// Errors of the http module. Every `Error` carries a sentence saying what happened.
enum class Errc {
  kMalformed = 1,   ///< the response is not valid HTTP/1.1, or bytes follow its end
  kTruncated,       ///< the connection closed before the response was complete
  kTooLarge,        ///< the response header or body exceeds its named limit
  kInvalidRequest,  ///< a request field holds CR, LF or NUL (it would split the request)
};

const boost::system::error_category& httpCategory();
inline boost::system::error_code make_error_code(Errc e) {
  return {static_cast<int>(e), httpCategory()};
}
inline Error fail(Errc e, std::string message) {
  return Error(make_error_code(e), std::move(message));
}

}  // namespace pc::http

template <>
struct boost::system::is_error_code_enum<pc::http::Errc> : std::true_type {};
