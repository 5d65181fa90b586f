#include "gateway/http_relay.hpp"

#include <algorithm>
#include <cstdio>

#include "gateway/error.hpp"
#include "net/error.hpp"

namespace pc::gateway {

namespace asio = net::asio;
using asio::awaitable;

namespace {

/// Appends body bytes to `pending`, with chunked framing when `chunked`.
void frameBody(Bytes& pending, BytesView data, bool chunked) {
  if (chunked) {
    char head[24];
    const int n = std::snprintf(head, sizeof head, "%zx\r\n", data.size());
    pending.insert(pending.end(), head, head + n);
  }
  pending.insert(pending.end(), data.begin(), data.end());
  if (chunked) {
    pending.push_back('\r');
    pending.push_back('\n');
  }
}

awaitable<Result<void>> flush(net::ByteStream& to, Bytes& pending) {
  if (pending.empty()) {
    co_return Result<void>{};
  }
  auto w = co_await to.write(pending);
  pending.clear();
  co_return w;
}

/// A body of known length passes through raw: no decoding copy, reads go straight into the
/// scratch buffer and out again. (The parser is not consulted for this message any more; the
/// caller only uses its header.)
awaitable<Result<void>> relayRaw(std::uint64_t remaining, net::ByteStream& from, Bytes& in,
                                 net::ByteStream& to, Bytes& pending, Scratch& scratch) {
  const std::size_t fromIn =
      static_cast<std::size_t>(std::min<std::uint64_t>(remaining, in.size()));
  if (fromIn > 0) {
    pending.insert(pending.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(fromIn));
    consume(in, fromIn);
    remaining -= fromIn;
  }
  if (auto w = co_await flush(to, pending); !w) {
    co_return w.error();
  }
  const auto buf = scratch.span();
  while (remaining > 0) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(remaining, buf.size()));
    auto n = co_await from.readSome(buf.subspan(0, want));
    if (!n) {
      co_return n.error();
    }
    if (*n == 0) {
      co_return net::fail(net::Errc::kClosed, "the body ended early");
    }
    if (auto w = co_await to.write(BytesView(buf.data(), *n)); !w) {
      co_return w.error();
    }
    remaining -= *n;
  }
  co_return Result<void>{};
}

/// Offers the parser what `in` holds; decoded body bytes land in `out`. Returns the parse error
/// (need_more when it wants input) and sets `produced`.
template <class Parser>
boost::system::error_code parseSome(Parser& p, Bytes& in, std::span<std::uint8_t> out,
                                    std::size_t& produced) {
  boost::system::error_code ec;
  p.get().body().data = out.data();
  p.get().body().size = out.size();
  if (!in.empty()) {
    consume(in, p.put(asio::buffer(in.data(), in.size()), ec));
    if (ec == http::error::need_buffer) {
      ec = {};
    }
  } else {
    ec = http::error::need_more;
  }
  produced = out.size() - p.get().body().size;
  return ec;
}

/// The decoding relay: chunked or close-delimited bodies, or re-chunking.
template <class Parser>
awaitable<Result<void>> relayParsed(Parser& p, net::ByteStream& from, Bytes& in,
                                    net::ByteStream& to, bool chunkedOut, Bytes& pending,
                                    Scratch& scratch) {
  // Decoded body bytes land in the scratch buffer; each batch is written (or copied into
  // `pending`) before the next read reuses it.
  const auto out = scratch.span();
  while (!p.is_done()) {
    std::size_t produced = 0;
    const auto ec = parseSome(p, in, out, produced);
    if (produced > 0 && pending.empty() && !chunkedOut) {
      // The common streaming case: straight from the parse buffer, no copy.
      if (auto w = co_await to.write(BytesView(out.data(), produced)); !w) {
        co_return w.error();
      }
    } else if (produced > 0) {
      frameBody(pending, BytesView(out.data(), produced), chunkedOut);
      if (pending.size() >= kBodyChunk) {
        if (auto w = co_await flush(to, pending); !w) {
          co_return w.error();
        }
      }
    }
    if (ec && ec != http::error::need_more) {
      co_return fail(Errc::kMalformedBody, "bad message body: " + ec.message());
    }
    if (!ec || p.is_done()) {
      continue;
    }
    if (auto w = co_await flush(to, pending); !w) {
      co_return w.error();
    }
    auto n = co_await readMore(from, in, scratch);
    if (!n) {
      co_return n.error();
    }
    if (*n == 0) {
      boost::system::error_code eofEc;
      p.put_eof(eofEc);  // completes a close-delimited body, fails a truncated one
      if (eofEc) {
        co_return net::fail(net::Errc::kClosed, "the body ended early (" + eofEc.message() + ")");
      }
    }
  }
  if (chunkedOut) {
    static constexpr std::string_view kLast = "0\r\n\r\n";
    pending.insert(pending.end(), kLast.begin(), kLast.end());
  }
  co_return co_await flush(to, pending);
}

}  // namespace

awaitable<Result<std::size_t>> readMore(net::ByteStream& s, Bytes& buf, Scratch& scratch) {
  const auto span = scratch.span();
  auto n = co_await s.readSome(span);
  if (n && *n > 0) {
    buf.insert(buf.end(), scratch.data.get(), scratch.data.get() + *n);
  }
  co_return n;
}

void consume(Bytes& buf, std::size_t n) {
  buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
}

template <class Parser>
awaitable<Result<void>> relayBody(Parser& p, net::ByteStream& from, Bytes& in, net::ByteStream& to,
                                  bool chunkedOut, Bytes& pending, Scratch& scratch) {
  if (!chunkedOut && !p.chunked() && !p.is_done()) {
    if (auto left = p.content_length_remaining()) {
      co_return co_await relayRaw(*left, from, in, to, pending, scratch);
    }
  }
  co_return co_await relayParsed(p, from, in, to, chunkedOut, pending, scratch);
}

template awaitable<Result<void>> relayBody<RequestParser>(RequestParser&, net::ByteStream&, Bytes&,
                                                          net::ByteStream&, bool, Bytes&, Scratch&);
template awaitable<Result<void>> relayBody<ResponseParser>(ResponseParser&, net::ByteStream&,
                                                           Bytes&, net::ByteStream&, bool, Bytes&,
                                                           Scratch&);

}  // namespace pc::gateway
