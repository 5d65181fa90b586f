#include "net/stream.hpp"

#include "core/varint.hpp"
#include "net/error.hpp"

namespace pc::net {

Task<void> readExact(ByteStream& s, std::span<std::uint8_t> buf) {
  std::size_t got = 0;
  while (got < buf.size()) {
    auto n = co_await s.readSome(buf.subspan(got));
    if (!n) co_return n.error();
    if (*n == 0) co_return fail(Errc::kClosed, "stream ended early");
    got += *n;
  }
  co_return Result<void>{};
}

Task<std::uint64_t> readVarint(ByteStream& s) {
  std::uint8_t buf[varint::kMaxBytes];
  for (std::size_t i = 0; i < varint::kMaxBytes; ++i) {
    if (auto r = co_await readExact(s, std::span(buf + i, 1)); !r) co_return r.error();
    if ((buf[i] & 0x80) == 0) {
      auto v = varint::decode(BytesView(buf, i + 1));
      if (!v) co_return fail(Errc::kProtocolError, v.error().message());
      co_return v->value;
    }
  }
  co_return fail(Errc::kProtocolError, "varint longer than 9 bytes");
}

Task<Bytes> readLengthPrefixed(ByteStream& s, std::size_t maxSize) {
  auto len = co_await readVarint(s);
  if (!len) co_return len.error();
  if (*len > maxSize) {
    co_return fail(Errc::kTooLarge, "message of " + std::to_string(*len) + " bytes exceeds the " +
                                        std::to_string(maxSize) + "-byte limit");
  }
  Bytes out(static_cast<std::size_t>(*len));
  if (auto r = co_await readExact(s, out); !r) co_return r.error();
  co_return out;
}

Task<void> writeLengthPrefixed(ByteStream& s, BytesView msg) {
  Bytes out;
  varint::encode(msg.size(), out);
  append(out, msg);
  co_return co_await s.write(out);
}

Task<Bytes> readToEnd(ByteStream& s, std::size_t maxSize) {
  Bytes out;
  std::uint8_t buf[16384];
  for (;;) {
    auto n = co_await s.readSome(buf);
    if (!n) co_return n.error();
    if (*n == 0) co_return out;
    if (out.size() + *n > maxSize) {
      co_return fail(Errc::kTooLarge, "more than " + std::to_string(maxSize) + " bytes");
    }
    out.insert(out.end(), buf, buf + *n);
  }
}

}  // namespace pc::net
