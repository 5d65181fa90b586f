#pragma once
/// One HTTP/1.1 request as the clients here send it, and its wire form.
#include <boost/beast/http/verb.hpp>

#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace pc::http {

using Verb = boost::beast::http::verb;

struct Request {
  Verb method = Verb::get;
  std::string target = "/";
  /// Header fields in the order they are sent (Host first, by convention of the callers).
  std::vector<std::pair<std::string, std::string>> fields;
  /// Content-Length is set from it (a bodiless GET or HEAD carries none).
  std::string body;
};

/// The request's bytes (HTTP/1.1, Content-Length from the body). Errors: kInvalidRequest when
/// the target, a field name or a value holds CR, LF or NUL.
Result<std::string> render(const Request& request);

}  // namespace pc::http
