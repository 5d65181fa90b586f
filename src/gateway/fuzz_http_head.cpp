// Fuzzes the gateway's request path decisions and header rewriting:
//  - any request head Beast accepts (with the gateway's limits) is classified (classify.hpp:
//    the same checks the gateway makes), and whatever the gateway answers itself renders as one
//    complete response with the status of its refusal, and a redirect's Location cannot split
//    the response;
//  - the request is rewritten into a head that Beast parses again as one complete request with
//    the same method and target, and no smuggling vector (a second framing field, a client-sent
//    X-Forwarded-For) survives the rewrite;
//  - response heads go through the bare-LF normalisation and the gateway's response plan
//    (planResponse: the status check and re-serialisation the relay uses) and must parse again.
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <cstdint>

#include "crypto/identity.hpp"
#include "gateway/classify.hpp"
#include "gateway/http_head.hpp"
#include "gateway/names.hpp"

namespace http = boost::beast::http;
namespace gw = pc::gateway;

namespace {

template <class Parser>
bool parseHead(Parser& p, std::string_view text) {
  p.header_limit(16 * 1024);
  boost::system::error_code ec;
  p.put(boost::asio::buffer(text.data(), text.size()), ec);
  return !ec && p.is_header_done();
}

/// A route table with one deployment whose tunnel is closed.
const pc::tunnel::RouteTable& routes() {
  static const pc::tunnel::RouteTable table = [] {
    const auto provider = pc::crypto::Identity::generate().value().peerId();
    pc::tunnel::RouteTable t;
    auto conn = std::make_shared<pc::net::Connection>(pc::net::Connection{
        provider, {}, {}, false, {}, {}, nullptr, std::nullopt, std::nullopt, false});
    t.put("dep-abcdefghijklmnop", pc::tunnel::RouteEntry{provider, conn, "http://x/", ""});
    return t;
  }();
  return table;
}

/// The gateway's own answer must be one complete response with the refusal's status.
void checkAnswer(const std::string& msg, unsigned status) {
  http::response_parser<http::empty_body> p;
  p.skip(true);
  if (!parseHead(p, msg) || p.get().result_int() != status) {
    __builtin_trap();
  }
  const auto cl = p.content_length();
  const auto headEnd = msg.find("\r\n\r\n");
  if (!cl || headEnd == std::string::npos || *cl != msg.size() - headEnd - 4) {
    __builtin_trap();
  }
}

void classifyRequest(const http::request_header<>& req, std::uint8_t flags) {
  gw::FrontOptions options;
  options.domain = "example.net";
  options.redirectHttpsPort = (flags & 1) != 0 ? 8443 : 0;
  options.acmeHttp01 = [](std::string_view token) -> std::optional<std::string> {
    if (token == "tok") {
      return std::string("tok.key");
    }
    return std::nullopt;
  };
  const std::string scheme = (flags & 2) != 0 ? "https" : "http";
  const gw::RateTake take = [flags](gw::RateScope scope, const std::string&) {
    return scope == gw::RateScope::kClient ? (flags >> 2) & 1 : (flags >> 3) & 1;
  };
  const gw::Arrival from{scheme, "192.0.2.1",
                         (flags & 16) != 0 ? "dep-abcdefghijklmnop.example.net" : ""};
  const auto c = gw::classify(req, from, options, routes(), take);
  if (const auto* r = std::get_if<gw::Refusal>(&c)) {
    checkAnswer(gw::render(*r), static_cast<unsigned>(gw::statusOf(r->why)));
  } else if (const auto* d = std::get_if<gw::Redirect>(&c)) {
    if (d->location.find_first_of("\r\n") != std::string::npos) {
      __builtin_trap();
    }
    checkAnswer(gw::render(*d), 308);
  } else if (const auto* a = std::get_if<gw::AcmeAnswer>(&c)) {
    if (gw::render(*a).rfind("HTTP/1.1 200 OK\r\n", 0) != 0) {
      __builtin_trap();
    }
  } else {
    __builtin_trap();  // the only route's tunnel is closed
  }
}

void rewriteRequest(const http::request_parser<http::empty_body>& p) {
  const auto& req = p.get();
  const std::string host(req[http::field::host]);
  std::optional<std::uint64_t> contentLength;
  if (auto cl = p.content_length()) {
    contentLength = *cl;
  }
  const gw::UpstreamFraming framing{req.version() == 10 ? 10U : 11U, p.chunked(), contentLength,
                                    p.upgrade()};
  const std::string head =
      gw::upstreamRequestHead(req.base(), framing, gw::Forwarding{"192.0.2.1", "http", host, 80});
  http::request_parser<http::empty_body> again;
  if (!parseHead(again, head)) {
    __builtin_trap();
  }
  const auto& r2 = again.get();
  if (r2.method_string() != req.method_string() || r2.target() != req.target()) {
    __builtin_trap();
  }
  if (r2.count(http::field::transfer_encoding) + r2.count(http::field::content_length) > 1) {
    __builtin_trap();
  }
  if (r2.count("Forwarded") != 1 || r2.count("X-Real-IP") != 1 ||
      r2.count("X-Forwarded-Port") != 1 || r2["X-Real-IP"] != "192.0.2.1") {
    __builtin_trap();  // a client's forwarding field passed the edge
  }
  if (r2.count("X-Forwarded-For") != 1 || r2["X-Forwarded-For"] != "192.0.2.1") {
    __builtin_trap();
  }
}

void planResponse(const std::uint8_t* data, std::size_t size) {
  pc::Bytes b(data, data + size);
  gw::normalizeHeaderLineEnds(b, 64 * 1024);
  http::response_parser<http::empty_body> p;
  if (!parseHead(p, std::string_view(reinterpret_cast<const char*>(b.data()), b.size()))) {
    return;
  }
  for (const unsigned version : {10U, 11U}) {
    const auto plan = gw::planResponse(p, p.get().base(), version, true);
    if (!plan) {
      continue;
    }
    http::response_parser<http::empty_body> again;
    if (!parseHead(again, plan->head) || again.get().result_int() != p.get().result_int()) {
      __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  {
    http::request_parser<http::empty_body> p;
    if (parseHead(p, in)) {
      rewriteRequest(p);
      classifyRequest(p.get().base(), size > 0 ? data[size - 1] : 0);
    }
  }
  planResponse(data, size);
  (void)gw::deploymentFromHost(in.substr(0, 300), "example.net");
  return 0;
}
