#include "net/yamux/frame.hpp"

#include "net/error.hpp"

namespace pc::net::yamux {
namespace {
void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}
std::uint32_t get32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
}  // namespace

std::array<std::uint8_t, kHeaderSize> encode(const Header& h) {
  std::array<std::uint8_t, kHeaderSize> out{};
  out[0] = 0;
  out[1] = static_cast<std::uint8_t>(h.type);
  put16(&out[2], h.flags);
  put32(&out[4], h.streamId);
  put32(&out[8], h.length);
  return out;
}

void encode(const Header& h, Bytes& out) {
  const auto a = encode(h);
  out.insert(out.end(), a.begin(), a.end());
}

Result<std::optional<Header>> decode(BytesView in) {
  if (in.size() < kHeaderSize) return std::optional<Header>{};
  if (in[0] != 0) {
    return fail(Errc::kProtocolError, "yamux: unsupported version " + std::to_string(in[0]));
  }
  if (in[1] > 3)
    return fail(Errc::kProtocolError, "yamux: unknown frame type " + std::to_string(in[1]));
  Header h{static_cast<Type>(in[1]), static_cast<std::uint16_t>(in[2] << 8 | in[3]), get32(&in[4]),
           get32(&in[8])};
  if ((h.flags & ~flags::kAll) != 0) {
    return fail(Errc::kProtocolError, "yamux: unknown flag bits " + std::to_string(h.flags));
  }
  const bool session = h.type == Type::kPing || h.type == Type::kGoAway;
  if (session && h.streamId != 0) {
    return fail(Errc::kProtocolError,
                "yamux: ping/go-away frame on stream " + std::to_string(h.streamId));
  }
  if (!session && h.streamId == 0) {
    return fail(Errc::kProtocolError, "yamux: data/window-update frame on stream 0");
  }
  return std::optional<Header>{h};
}

}  // namespace pc::net::yamux
