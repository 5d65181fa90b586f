#include "runtime/http_response.hpp"

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <array>

#include "runtime/error.hpp"

namespace pc::runtime {

namespace http = boost::beast::http;

struct HttpResponseDecoder::Impl {
  Impl() {
    parser.header_limit(static_cast<std::uint32_t>(kMaxResponseHeader));
    // Streamed bodies (follow logs, events) are unbounded by nature; their consumers bound each
    // message, and buffered callers bound the total.
    parser.body_limit(boost::none);
    parser.eager(true);
  }
  http::response_parser<http::buffer_body> parser;
  std::string pending;  // input the parser has not consumed yet (a partial header or chunk line)
  std::array<char, 16 * 1024> scratch{};
  bool failed = false;
  /// The parser asked for more input and none has come since. Offering it the same bytes again
  /// breaks Beast's preconditions (it asserts on a lone last-chunk line it has already seen), so
  /// run() waits for new bytes instead.
  bool starved = false;

  Result<void> run(std::string& body) {
    if (starved) return {};
    while (!parser.is_done()) {
      parser.get().body().data = scratch.data();
      parser.get().body().size = scratch.size();
      boost::system::error_code ec;
      const std::size_t used =
          pending.empty() ? 0 : parser.put(boost::asio::buffer(pending.data(), pending.size()), ec);
      if (pending.empty()) ec = http::error::need_more;
      const std::size_t produced = scratch.size() - parser.get().body().size;
      body.append(scratch.data(), produced);
      pending.erase(0, used);
      if (ec == http::error::need_buffer) continue;  // scratch was full: drain and go on
      if (ec == http::error::need_more) {
        if (!parser.is_header_done() && pending.size() > kMaxResponseHeader) {
          return tooLarge();
        }
        starved = true;
        return {};
      }
      if (ec) return protocol(ec);
      if (used == 0 && produced == 0) return {};
    }
    return {};
  }
  Error tooLarge() {
    failed = true;
    return fail(Errc::kTooLarge, "the engine's response header exceeds " +
                                     std::to_string(kMaxResponseHeader) + " bytes");
  }
  Error protocol(const boost::system::error_code& ec) {
    failed = true;
    if (ec == http::error::header_limit) return tooLarge();
    return fail(Errc::kProtocolError, "invalid HTTP from the engine: " + ec.message() +
                                          "; is the socket really a Docker engine?");
  }
};

HttpResponseDecoder::HttpResponseDecoder() : impl_(std::make_unique<Impl>()) {}
HttpResponseDecoder::~HttpResponseDecoder() = default;
HttpResponseDecoder::HttpResponseDecoder(HttpResponseDecoder&&) noexcept = default;
HttpResponseDecoder& HttpResponseDecoder::operator=(HttpResponseDecoder&&) noexcept = default;

Result<void> HttpResponseDecoder::feed(std::string_view bytes, std::string& body) {
  if (impl_->failed) return fail(Errc::kProtocolError, "HTTP decoder used after an error");
  if (impl_->parser.is_done()) {
    if (bytes.empty()) return {};
    impl_->failed = true;
    return fail(Errc::kProtocolError, "the engine sent bytes after the end of its response");
  }
  if (!bytes.empty()) impl_->starved = false;
  impl_->pending.append(bytes);
  if (auto r = impl_->run(body); !r) return r;
  if (impl_->parser.is_done() && !impl_->pending.empty()) {
    impl_->failed = true;
    return fail(Errc::kProtocolError, "the engine sent bytes after the end of its response");
  }
  return {};
}

Result<void> HttpResponseDecoder::feedEof(std::string& body) {
  if (impl_->failed) return fail(Errc::kProtocolError, "HTTP decoder used after an error");
  if (impl_->parser.is_done()) return {};
  // Bytes the parser kept waiting for (none when the body runs to EOF) mean the message was cut.
  if (auto r = impl_->run(body); !r) return r;
  if (impl_->parser.is_done()) return {};
  if (!impl_->parser.got_some()) {
    impl_->failed = true;
    return fail(Errc::kProtocolError,
                "the engine closed the connection without a complete response header");
  }
  boost::system::error_code ec;
  impl_->parser.get().body().data = impl_->scratch.data();
  impl_->parser.get().body().size = impl_->scratch.size();
  impl_->parser.put_eof(ec);
  if (ec || !impl_->parser.is_done()) {
    impl_->failed = true;
    return fail(Errc::kProtocolError,
                "the engine closed the connection in the middle of a response" +
                    (ec ? " (" + ec.message() + ")" : std::string()));
  }
  return {};
}

bool HttpResponseDecoder::headerDone() const { return impl_->parser.is_header_done(); }
bool HttpResponseDecoder::done() const { return impl_->parser.is_done(); }
unsigned HttpResponseDecoder::status() const {
  return impl_->parser.is_header_done() ? impl_->parser.get().result_int() : 0;
}
std::optional<std::string> HttpResponseDecoder::header(std::string_view name) const {
  if (!impl_->parser.is_header_done()) return std::nullopt;
  const auto& msg = impl_->parser.get();
  auto it = msg.find(boost::beast::string_view(name.data(), name.size()));
  if (it == msg.end()) return std::nullopt;
  return std::string(it->value());
}

Result<void> JsonLineSplitter::feed(std::string_view bytes, std::vector<std::string>& out) {
  std::size_t start = 0;
  while (start < bytes.size()) {
    const auto nl = bytes.find('\n', start);
    const auto piece = bytes.substr(start, nl == std::string_view::npos ? nl : nl - start);
    if (pending_.size() + piece.size() > kMaxJsonMessage) {
      pending_.clear();
      return fail(Errc::kTooLarge, "a streamed JSON message from the engine exceeds " +
                                       std::to_string(kMaxJsonMessage) + " bytes");
    }
    pending_.append(piece);
    if (nl == std::string_view::npos) break;
    if (pending_.find_first_not_of(" \t\r") != std::string::npos) out.push_back(pending_);
    pending_.clear();
    start = nl + 1;
  }
  return {};
}

void JsonLineSplitter::finish(std::vector<std::string>& out) {
  if (pending_.find_first_not_of(" \t\r") != std::string::npos) out.push_back(pending_);
  pending_.clear();
}

}  // namespace pc::runtime
