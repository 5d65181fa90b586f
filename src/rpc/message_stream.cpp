#include "rpc/message_stream.hpp"

#include "net/error.hpp"

namespace pc::rpc {

namespace {
// A frame is read in chunks of this size; a bigger frame takes several reads.
constexpr std::size_t kReadChunk = 16 * 1024;

protocol::FrameDecoder makeDecoder(std::size_t maxBody) {
  auto d = protocol::FrameDecoder::create(maxBody);
  return d ? std::move(*d) : protocol::FrameDecoder{};
}
}  // namespace

MessageReader::MessageReader(net::ByteStream& stream, std::size_t maxBody)
    : stream_(stream), decoder_(makeDecoder(maxBody)) {}

net::Task<std::optional<protocol::Message>> MessageReader::next() {
  // A frame already buffered from an earlier read comes first.
  auto f = decoder_.next();
  while (true) {
    if (!f) co_return f.error();
    if (*f) {
      auto m = protocol::decodeMessage(**f);
      if (!m) co_return m.error();
      co_return std::optional<protocol::Message>(std::move(*m));
    }
    buf_.resize(kReadChunk);
    auto n = co_await stream_.readSome(std::span<std::uint8_t>(buf_.data(), buf_.size()));
    if (!n) co_return n.error();
    if (*n == 0) {
      if (decoder_.hasPartial()) {
        co_return net::fail(net::Errc::kClosed, "the stream ended in the middle of a message");
      }
      co_return std::optional<protocol::Message>{};
    }
    f = decoder_.feed(BytesView(buf_.data(), *n));
  }
}

net::Task<void> writeMessage(net::ByteStream& stream, const protocol::Message& m) {
  auto bytes = protocol::encodeMessage(m);
  if (!bytes) co_return bytes.error();
  co_return co_await stream.write(*bytes);
}

net::asio::awaitable<void> writeError(net::ByteStream& stream, std::string_view code,
                                      std::string_view message) {
  const protocol::Message m = protocol::ErrorMessage{
      std::string(code),
      // Cut below the limit, then mend a UTF-8 sequence the cut may have split.
      protocol::sanitizeUtf8(message.substr(0, protocol::kMaxErrorTextLength - 3))};
  (void)co_await writeMessage(stream, m);
}

}  // namespace pc::rpc
