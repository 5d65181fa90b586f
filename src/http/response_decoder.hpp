#pragma once
/// Sans-IO decoding of one HTTP/1.1 response: status line, headers, and a body that is
/// Content-Length delimited, chunked, or read until EOF, delivered incrementally (a streamed
/// body never has to end up in one buffer). Uses Beast's parser underneath; this header stays
/// light (pimpl), so a client's other files do not compile Beast.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace pc::http {

/// Default bound on the status line + headers.
inline constexpr std::size_t kDefaultMaxHeader = 64 * 1024;

/// What a response may make us hold.
struct ResponseLimits {
  /// Largest status line + headers; beyond: kTooLarge.
  std::size_t maxHeader = kDefaultMaxHeader;
  /// Largest body (a Content-Length over it fails at once); nullopt: unbounded, for streamed
  /// bodies whose consumers bound each message instead.
  std::optional<std::uint64_t> maxBody;
};

class ResponseDecoder {
 public:
  explicit ResponseDecoder(ResponseLimits limits = {});
  ~ResponseDecoder();
  ResponseDecoder(ResponseDecoder&&) noexcept;
  ResponseDecoder& operator=(ResponseDecoder&&) noexcept;

  /// The request was HEAD: the response is a header only, whatever its Content-Length says
  /// (RFC 9110 §9.3.2). Call before feeding.
  void expectNoBody();

  /// Consumes `bytes` (all of them; a partial header or chunk line is kept internally) and
  /// appends the body bytes they complete to `body`. Errors (all final): `kMalformed` for
  /// invalid HTTP or bytes after the end of the response, `kTooLarge` for a header or body over
  /// its limit.
  Result<void> feed(std::string_view bytes, std::string& body);
  /// The peer closed the connection. Errors: `kTruncated` when the message was incomplete.
  Result<void> feedEof(std::string& body);

  [[nodiscard]] bool headerDone() const;
  /// The whole message has been received.
  [[nodiscard]] bool done() const;
  /// Status code; 0 before the header is complete.
  [[nodiscard]] unsigned status() const;
  /// A header value (case-insensitive name); `nullopt` when absent or before the header is done.
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pc::http
