#include "http/request.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <sstream>

#include "http/error.hpp"

namespace pc::http {

namespace {

/// Request smuggling and header injection: a CR or LF in a URL path or header value that a
/// server (an ACME directory, say) handed us would end our field early and let it write its
/// own header or a second request.
bool splitsALine(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

}  // namespace

Result<std::string> render(const Request& request) {
  if (request.target.empty() || splitsALine(request.target)) {
    return fail(Errc::kInvalidRequest, "the request target is empty or holds CR, LF or NUL");
  }
  namespace beast_http = boost::beast::http;
  beast_http::request<beast_http::string_body> req{request.method, request.target, 11};
  for (const auto& [name, value] : request.fields) {
    if (name.empty() || splitsALine(name) || splitsALine(value)) {
      return fail(Errc::kInvalidRequest,
                  "the request field \"" + name.substr(0, 64) + "\" holds CR, LF or NUL");
    }
    req.set(name, value);
  }
  req.body() = request.body;
  req.prepare_payload();
  std::ostringstream out;
  out << req;
  return out.str();
}

}  // namespace pc::http
