#include "http/response_decoder.hpp"

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <array>
#include <limits>

#include "http/error.hpp"

namespace pc::http {

namespace beast_http = boost::beast::http;

struct ResponseDecoder::Impl {
  explicit Impl(const ResponseLimits& l) : limits(l) {
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(limits.maxHeader, std::numeric_limits<std::uint32_t>::max())));
    if (limits.maxBody) {
      parser.body_limit(*limits.maxBody);
    } else {
      parser.body_limit(boost::none);
    }
    parser.eager(true);
  }
  ResponseLimits limits;
  beast_http::response_parser<beast_http::buffer_body> parser;
  std::string pending;  // input the parser has not consumed yet (a partial header or chunk line)
  std::array<char, 16 * 1024> scratch{};
  bool failed = false;
  /// The parser asked for more input and none has come since. Offering it the same bytes again
  /// breaks Beast's preconditions (it asserts on a lone last-chunk line it has already seen), so
  /// run() waits for new bytes instead.
  bool starved = false;

  /// Beast (1.74) asserts when it is offered a last-chunk line it has already seen in fewer
  /// than 5 bytes ("0\r\n" and one more, the body's first and only chunk arriving a byte at a
  /// time). No chunked message ends in fewer ("0\r\n\r\n"), so such input waits for more.
  [[nodiscard]] bool shortLastChunk() const {
    if (pending.size() >= 5 || !parser.is_header_done() || !parser.chunked()) {
      return false;
    }
    const std::size_t zeros = pending.find_first_not_of('0');
    return zeros != 0 && zeros != std::string::npos &&
           pending.find("\r\n", zeros) != std::string::npos;
  }

  Result<void> run(std::string& body) {
    if (starved) {
      return {};
    }
    while (!parser.is_done()) {
      parser.get().body().data = scratch.data();
      parser.get().body().size = scratch.size();
      boost::system::error_code ec;
      const bool offer = !pending.empty() && !shortLastChunk();
      const std::size_t used =
          offer ? parser.put(boost::asio::buffer(pending.data(), pending.size()), ec) : 0;
      if (!offer) {
        ec = beast_http::error::need_more;
      }
      const std::size_t produced = scratch.size() - parser.get().body().size;
      body.append(scratch.data(), produced);
      pending.erase(0, used);
      if (ec == beast_http::error::need_buffer) {
        continue;  // scratch was full: drain and go on
      }
      if (ec == beast_http::error::need_more) {
        // Beast counts the header limit only over what it was offered whole; a header that never
        // ends would otherwise grow `pending` without bound.
        if (!parser.is_header_done() && pending.size() > limits.maxHeader) {
          return headerTooLarge();
        }
        starved = true;
        return {};
      }
      if (ec) {
        return invalid(ec);
      }
      if (used == 0 && produced == 0) {
        return {};
      }
    }
    return {};
  }
  Error headerTooLarge() {
    failed = true;
    return fail(Errc::kTooLarge,
                "the response header exceeds " + std::to_string(limits.maxHeader) + " bytes");
  }
  Error invalid(const boost::system::error_code& ec) {
    failed = true;
    if (ec == beast_http::error::header_limit) {
      return headerTooLarge();
    }
    if (ec == beast_http::error::body_limit) {
      return fail(Errc::kTooLarge,
                  "the response body exceeds " + std::to_string(*limits.maxBody) + " bytes");
    }
    return fail(Errc::kMalformed, "invalid HTTP response: " + ec.message());
  }
  Error finalError(Errc e, std::string message) {
    failed = true;
    return fail(e, std::move(message));
  }
};

ResponseDecoder::ResponseDecoder(ResponseLimits limits) : impl_(std::make_unique<Impl>(limits)) {}
ResponseDecoder::~ResponseDecoder() = default;
ResponseDecoder::ResponseDecoder(ResponseDecoder&&) noexcept = default;
ResponseDecoder& ResponseDecoder::operator=(ResponseDecoder&&) noexcept = default;

void ResponseDecoder::expectNoBody() { impl_->parser.skip(true); }

Result<void> ResponseDecoder::feed(std::string_view bytes, std::string& body) {
  if (impl_->failed) {
    return fail(Errc::kMalformed, "HTTP decoder used after an error");
  }
  if (impl_->parser.is_done()) {
    if (bytes.empty()) {
      return {};
    }
    return impl_->finalError(Errc::kMalformed, "bytes after the end of the response");
  }
  if (!bytes.empty()) {
    impl_->starved = false;
  }
  impl_->pending.append(bytes);
  if (auto r = impl_->run(body); !r) {
    return r;
  }
  if (impl_->parser.is_done() && !impl_->pending.empty()) {
    return impl_->finalError(Errc::kMalformed, "bytes after the end of the response");
  }
  return {};
}

Result<void> ResponseDecoder::feedEof(std::string& body) {
  if (impl_->failed) {
    return fail(Errc::kMalformed, "HTTP decoder used after an error");
  }
  if (impl_->parser.is_done()) {
    return {};
  }
  // Bytes the parser kept waiting for (none when the body runs to EOF) mean the message was cut.
  if (auto r = impl_->run(body); !r) {
    return r;
  }
  if (impl_->parser.is_done()) {
    return {};
  }
  if (!impl_->parser.got_some()) {
    return impl_->finalError(Errc::kTruncated,
                             "the connection closed without a complete response header");
  }
  boost::system::error_code ec;
  impl_->parser.get().body().data = impl_->scratch.data();
  impl_->parser.get().body().size = impl_->scratch.size();
  impl_->parser.put_eof(ec);
  if (ec || !impl_->parser.is_done()) {
    return impl_->finalError(Errc::kTruncated,
                             "the connection closed in the middle of a response" +
                                 (ec ? " (" + ec.message() + ")" : std::string()));
  }
  return {};
}

bool ResponseDecoder::headerDone() const { return impl_->parser.is_header_done(); }
bool ResponseDecoder::done() const { return impl_->parser.is_done(); }
unsigned ResponseDecoder::status() const {
  return impl_->parser.is_header_done() ? impl_->parser.get().result_int() : 0;
}
std::optional<std::string> ResponseDecoder::header(std::string_view name) const {
  if (!impl_->parser.is_header_done()) {
    return std::nullopt;
  }
  const auto& msg = impl_->parser.get();
  auto it = msg.find(boost::beast::string_view(name.data(), name.size()));
  if (it == msg.end()) {
    return std::nullopt;
  }
  return std::string(it->value());
}

}  // namespace pc::http
