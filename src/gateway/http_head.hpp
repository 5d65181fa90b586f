#pragma once
/// The gateway's HTTP header rewriting, as pure functions (unit-tested and fuzzed): which fields
/// are hop-by-hop, the head sent upstream for a request, the head sent back for a response, and
/// bare-LF tolerance for response heads. Includes Beast's message types: for the gateway's .cpp
/// files only.
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/ascii.hpp"
#include "core/bytes.hpp"

namespace pc::gateway {

namespace http = boost::beast::http;

std::string_view trimOws(std::string_view s);

/// Appends "Name: value\r\n" for every field of `h` that is end-to-end: the hop-by-hop fields
/// of RFC 9110 §7.6.1, the fields named in Connection, framing fields (Content-Length,
/// Transfer-Encoding) and every forwarding field (Forwarded, X-Forwarded-*, X-Real-IP: the
/// gateway is the edge and writes its own) are left out. Names are compared case-insensitively
/// with '_' read as '-', since CGI-style servers map both to the same variable.
void appendEndToEndFields(std::string& out, const http::request_header<>& h);
void appendEndToEndFields(std::string& out, const http::response_header<>& h);

/// How the gateway frames a request body upstream.
struct UpstreamFraming {
  unsigned version = 11;  ///< 10 or 11
  bool chunked = false;
  std::optional<std::uint64_t> contentLength;
  bool upgrade = false;
};

/// What the gateway, as the edge, tells the deployment about the client.
struct Forwarding {
  std::string_view clientIp;  ///< the address the connection came from
  std::string_view scheme;    ///< "http" or "https"
  std::string_view host;      ///< the Host header the request was routed by
  std::uint16_t port = 0;     ///< the gateway port the client connected to
};

/// The head the gateway sends upstream for request `req`: request line, end-to-end fields,
/// the gateway's own forwarding fields (X-Forwarded-For/-Proto/-Host/-Port, X-Real-IP and an
/// RFC 7239 Forwarded), the framing the gateway will use for the body, and Connection.
std::string upstreamRequestHead(const http::request_header<>& req, const UpstreamFraming& framing,
                                const Forwarding& fwd);

/// Turns bare LF line ends into CRLF in the header at the start of `buf` (up to its blank line,
/// at most `limit` bytes). Responses only: RFC 9112 §2.2 lets a recipient accept a lone LF, and
/// common servers (busybox httpd's CGI, old scripts) send them. Idempotent, so it can run again
/// as the header grows; the head is re-serialised with CRLF, so clients never see the
/// difference.
void normalizeHeaderLineEnds(Bytes& buf, std::size_t limit);

/// How the gateway answers the client with a response whose head `p` has parsed (`h`), for a
/// request of HTTP `version` (10 or 11) that asked for keep-alive when `keepAlive`.
struct ResponsePlan {
  std::string head;              ///< the head to send the client (re-serialised, CRLF)
  bool switched = false;         ///< 101: after the head the connection is a raw pipe
  bool informational = false;    ///< another 1xx: the final response follows
  bool chunked = false;          ///< the body is re-chunked for the client
  bool closeDelimited = false;   ///< the body ends when the gateway closes (a 1.0 client)
  bool upstreamReusable = true;  ///< the proxy stream may carry the next request
  bool keepAlive = false;        ///< the client connection stays open after this response
};

/// The plan for the response `p` parsed, or nullopt when its status is outside 100–599 (the
/// parser takes any three digits, and an out-of-range one would be re-serialised as something
/// else: 099 → 99; RFC 9110 §15). Pure: the relay and fuzz_http_head both use it.
std::optional<ResponsePlan> planResponse(const http::basic_parser<false>& p,
                                         const http::response_header<>& h, unsigned version,
                                         bool keepAlive);

}  // namespace pc::gateway
