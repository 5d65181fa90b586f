#pragma once
/// Sans-IO decoding of the engine's HTTP/1.1 responses: status line, headers, and a body that is
/// Content-Length delimited, chunked, or read until EOF, delivered incrementally (streamed logs,
/// events and pull progress never end up in one buffer). Uses Beast's parser underneath; the
/// header stays light (pimpl).
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace pc::runtime {

/// Largest status line + headers accepted.
inline constexpr std::size_t kMaxResponseHeader = 64 * 1024;
/// Largest JSON message in a streamed body (one event, one pull progress line).
inline constexpr std::size_t kMaxJsonMessage = 1U << 20;
static_assert(kMaxJsonMessage > kMaxResponseHeader);

class HttpResponseDecoder {
 public:
  HttpResponseDecoder();
  ~HttpResponseDecoder();
  HttpResponseDecoder(HttpResponseDecoder&&) noexcept;
  HttpResponseDecoder& operator=(HttpResponseDecoder&&) noexcept;

  /// Consumes `bytes` (all of them; a partial header or chunk line is kept internally) and
  /// appends the body bytes they complete to `body`. Errors: `kProtocolError` for invalid HTTP,
  /// `kTooLarge` for a header over `kMaxResponseHeader`. An error is final.
  Result<void> feed(std::string_view bytes, std::string& body);
  /// The peer closed the connection. Errors: `kProtocolError` when the message was incomplete.
  Result<void> feedEof(std::string& body);

  [[nodiscard]] bool headerDone() const;
  /// The whole message has been received.
  [[nodiscard]] bool done() const;
  /// Status code; 0 before the header is complete.
  [[nodiscard]] unsigned status() const;
  /// A header value (case-insensitive name); `nullopt` when absent.
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Splits a streamed body of newline-delimited JSON messages (events, pull progress) into
/// messages. Empty lines are skipped. Pure; never parses the JSON itself.
class JsonLineSplitter {
 public:
  /// Appends bytes and moves every complete message into `out`. Errors: `kTooLarge` for a
  /// message over `kMaxJsonMessage` (final).
  Result<void> feed(std::string_view bytes, std::vector<std::string>& out);
  /// The stream ended: a last message without a trailing newline is returned too.
  void finish(std::vector<std::string>& out);

 private:
  std::string pending_;
};

}  // namespace pc::runtime
