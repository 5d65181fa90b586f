#include "net/multistream/codec.hpp"

#include "core/varint.hpp"
#include "net/error.hpp"

namespace pc::net::multistream {

void encode(std::string_view text, Bytes& out) {
  varint::encode(text.size() + 1, out);
  append(out, asBytes(text));
  out.push_back('\n');
}

Result<std::optional<Message>> decode(BytesView in) {
  auto len = varint::decode(in);
  if (!len) {
    if (len.error() == make_error_code(pc::Errc::kTruncated)) return std::optional<Message>{};
    return fail(Errc::kProtocolError, "multistream length: " + len.error().message());
  }
  if (len->value > kMaxMessageSize) {
    return fail(Errc::kTooLarge, "multistream message of " + std::to_string(len->value) +
                                     " bytes exceeds the " + std::to_string(kMaxMessageSize) +
                                     "-byte limit");
  }
  if (len->value < 2) return fail(Errc::kProtocolError, "empty multistream message");
  const auto size = static_cast<std::size_t>(len->value);
  if (in.size() - len->size < size) return std::optional<Message>{};
  const auto body = in.subspan(len->size, size);
  if (body.back() != '\n') {
    return fail(Errc::kProtocolError, "multistream message does not end with a newline");
  }
  for (std::size_t i = 0; i + 1 < body.size(); ++i) {
    // Printable ASCII only: protocol ids end up in logs and error messages.
    if (body[i] < 0x20 || body[i] > 0x7e) {
      return fail(Errc::kProtocolError, "multistream message has a non-printable byte");
    }
  }
  return std::optional<Message>{
      Message{std::string(asString(body.first(size - 1))), len->size + size}};
}

bool isValidProtocolId(std::string_view id) {
  if (id.empty() || id.size() >= kMaxMessageSize || id.front() != '/') return false;
  for (char c : id) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace pc::net::multistream
