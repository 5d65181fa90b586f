#pragma once
/// One HTTP/1.1 exchange over an already connected stream: the request out, the response
/// decoded as it arrives, its body handed over piece by piece. Shared by the Docker engine
/// transport (a unix socket under a deadline) and the ACME client (TLS under a watchdog): the
/// caller connects, bounds the time (the stream's own deadline or a watchdog that closes it) and
/// words the failures for its users. Only Asio's core is needed here: Beast and OpenSSL stay in
/// the callers that need them.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <functional>
#include <string>
#include <string_view>

#include "http/request.hpp"
#include "http/response_decoder.hpp"

namespace pc::http {

/// Bytes asked of the stream per read.
inline constexpr std::size_t kReadChunk = 16 * 1024;

/// Receives body bytes as they arrive; the response's status and headers are decoded by then.
/// Returning false ends the exchange early (not an error); an error ends it with that error.
using BodyFn = std::function<Result<bool>(const ResponseDecoder& response, std::string_view bytes)>;

/// Which step the stream failed in.
enum class Step { kNone, kWrite, kRead };

/// How an exchange ended.
struct Exchanged {
  ResponseDecoder response;  ///< status and headers (once headerDone())
  /// kNone: the response is complete, or the body consumer stopped it (`stopped`).
  Step failedAt = Step::kNone;
  /// The stream's error at `failedAt` (a timeout, a reset, a closed socket), for the caller to
  /// word: only it knows how its stream reports a deadline.
  boost::system::error_code streamError;
  bool stopped = false;  ///< the body consumer ended the exchange
};

/// Writes `request` to `stream` and reads one response from it, bounded by `limits`; body
/// bytes go to `onBody` (may be empty: the body is then discarded). A stream failure is not an
/// error but an outcome (`failedAt`, `streamError`), since the response may already be usable
/// (a streamed body that ends at its deadline). Errors: kInvalidRequest (nothing was sent), the
/// decoder's (kMalformed, kTruncated, kTooLarge), and what `onBody` returns. The stream's EOF
/// ends a body that runs to EOF. Cancelling is safe for this process: the caller closes the
/// stream, the server may still act on the request.
///
/// `Stream` is an Asio AsyncReadStream and AsyncWriteStream (a socket, beast::basic_stream, an
/// ssl::stream) used by this coroutine alone until it returns.
template <class Stream>
boost::asio::awaitable<Result<Exchanged>> exchange(Stream& stream, const Request& request,
                                                   const ResponseLimits& limits,
                                                   const BodyFn& onBody) {
  namespace asio = boost::asio;
  constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
  auto wire = render(request);
  if (!wire) {
    co_return wire.error();
  }
  Exchanged out{ResponseDecoder(limits), Step::kNone, {}, false};
  if (request.method == Verb::head) {
    out.response.expectNoBody();
  }
  auto [wec, written] = co_await asio::async_write(stream, asio::buffer(*wire), kTuple);
  (void)written;
  if (wec) {
    out.failedAt = Step::kWrite;
    out.streamError = wec;
    co_return std::move(out);
  }
  std::array<char, kReadChunk> buf{};
  std::string chunk;
  bool eof = false;
  while (!out.response.done() && !eof) {
    auto [rec, n] = co_await stream.async_read_some(asio::buffer(buf), kTuple);
    chunk.clear();
    if (rec == asio::error::eof) {
      eof = true;
      if (auto r = out.response.feedEof(chunk); !r) {
        co_return r.error();
      }
    } else if (rec) {
      out.failedAt = Step::kRead;
      out.streamError = rec;
      co_return std::move(out);
    } else if (auto r = out.response.feed(std::string_view(buf.data(), n), chunk); !r) {
      co_return r.error();
    }
    if (!chunk.empty() && onBody) {
      auto more = onBody(out.response, chunk);
      if (!more) {
        co_return more.error();
      }
      if (!*more) {
        out.stopped = true;
        co_return std::move(out);
      }
    }
  }
  co_return std::move(out);
}

}  // namespace pc::http
