#pragma once
/// Moving HTTP message bodies through the gateway: the per-direction I/O buffer, and the body
/// relay that streams a request or response body from one stream to another (never buffered
/// whole; chunked bodies re-chunked). For the gateway's .cpp files only (Beast types).
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <memory>
#include <span>

#include "core/bytes.hpp"
#include "net/asio.hpp"
#include "net/stream.hpp"

namespace pc::gateway {

namespace http = boost::beast::http;

using RequestParser = http::request_parser<http::buffer_body>;
using ResponseParser = http::response_parser<http::buffer_body>;

/// Bytes read and written per I/O call on a body.
inline constexpr std::size_t kBodyChunk = 64 * 1024;

/// A reusable, uninitialised I/O buffer: one per connection direction, so a request costs no
/// allocation and no zero-filling of fresh buffers (both showed up as the top of a profile).
/// Allocated on first use and released while the connection waits for its next request, so an
/// idle keep-alive connection holds no I/O buffer.
struct Scratch {
  std::unique_ptr<std::uint8_t[]> data;
  std::span<std::uint8_t> span() {
    if (!data) {
      data.reset(new std::uint8_t[kBodyChunk]);
    }
    return {data.get(), kBodyChunk};
  }
  void release() { data.reset(); }
};

/// Reads what `s` has (at most kBodyChunk) and appends it to `buf`. Returns the count, 0 at the
/// end of the stream. Cancel-safe only by closing the stream.
net::asio::awaitable<Result<std::size_t>> readMore(net::ByteStream& s, Bytes& buf,
                                                   Scratch& scratch);

/// Drops the first `n` bytes of `buf`.
void consume(Bytes& buf, std::size_t n);

/// Relays the body of the message `p` is parsing from `from` (with `in` holding bytes already
/// read, consumed as they are used) to `to`, re-chunked when `chunkedOut`. `pending` holds bytes
/// to send first (the message head): they leave together with the first body bytes, so a small
/// message is one write (one encrypted frame, one syscall) instead of two. Nothing is held back
/// while waiting for more input. Errors: Errc::kMalformedBody when the body's framing does not
/// parse; the streams' errors; net::Errc::kClosed when `from` ends early. Cancel-safe only by
/// resetting the streams (a body cut short leaves `to` mid-message).
template <class Parser>
net::asio::awaitable<Result<void>> relayBody(Parser& p, net::ByteStream& from, Bytes& in,
                                             net::ByteStream& to, bool chunkedOut, Bytes& pending,
                                             Scratch& scratch);

extern template net::asio::awaitable<Result<void>> relayBody<RequestParser>(
    RequestParser&, net::ByteStream&, Bytes&, net::ByteStream&, bool, Bytes&, Scratch&);
extern template net::asio::awaitable<Result<void>> relayBody<ResponseParser>(
    ResponseParser&, net::ByteStream&, Bytes&, net::ByteStream&, bool, Bytes&, Scratch&);

}  // namespace pc::gateway
