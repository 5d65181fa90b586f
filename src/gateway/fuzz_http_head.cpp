// Fuzzes the gateway's header rewriting: any request head Beast accepts (with the gateway's
// limits) must be rewritten into a head that Beast parses again as one complete request with the
// same method, target and Host, and no smuggling vector (a second framing field, a client-sent
// X-Forwarded-For) may survive the rewrite. Response heads go through the bare-LF normalisation
// first and must re-serialise to a parseable head as well.
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <cstdint>

#include "gateway/http_head.hpp"

namespace http = boost::beast::http;

namespace {

template <class Parser>
bool parseHead(Parser& p, std::string_view text) {
  p.header_limit(16 * 1024);
  boost::system::error_code ec;
  p.put(boost::asio::buffer(text.data(), text.size()), ec);
  return !ec && p.is_header_done();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  {
    http::request_parser<http::empty_body> p;
    if (parseHead(p, in)) {
      const auto& req = p.get();
      const std::string host(req[http::field::host]);
      std::optional<std::uint64_t> contentLength;
      if (auto cl = p.content_length()) contentLength = *cl;
      const std::string head =
          pc::gateway::upstreamRequestHead(req.base(), req.version() == 10 ? 10 : 11, p.chunked(),
                                           contentLength, p.upgrade(), "192.0.2.1", "http", host);
      http::request_parser<http::empty_body> again;
      if (!parseHead(again, head)) __builtin_trap();
      const auto& r2 = again.get();
      if (r2.method_string() != req.method_string() || r2.target() != req.target())
        __builtin_trap();
      if (r2.count(http::field::transfer_encoding) + r2.count(http::field::content_length) > 1) {
        __builtin_trap();
      }
      if (r2.count("X-Forwarded-For") != 1 || r2["X-Forwarded-For"] != "192.0.2.1") {
        __builtin_trap();
      }
    }
  }
  {
    pc::Bytes b(data, data + size);
    pc::gateway::normalizeHeaderLineEnds(b, 64 * 1024);
    http::response_parser<http::empty_body> p;
    if (parseHead(p, std::string_view(reinterpret_cast<const char*>(b.data()), b.size())) &&
        p.get().result_int() >= 100 && p.get().result_int() <= 599) {  // as the gateway checks
      std::string out = "HTTP/1.1 " + std::to_string(p.get().result_int()) + " OK\r\n";
      pc::gateway::appendEndToEndFields(out, p.get().base());
      out += "\r\n";
      http::response_parser<http::empty_body> again;
      if (!parseHead(again, out)) __builtin_trap();
    }
  }
  (void)pc::gateway::deploymentFromHost(in.substr(0, 300), "example.net");
  return 0;
}
