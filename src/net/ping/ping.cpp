#include "net/ping/ping.hpp"

#include <openssl/rand.h>

#include <array>

#include "net/error.hpp"
#include "net/multistream/negotiate.hpp"

namespace pc::net::ping {

asio::awaitable<void> serve(ByteStream& s) {
  // One 32-byte buffer; a peer that pings without reading the echoes stalls this loop on the
  // stream's send window and the session's write bound, so it queues nothing more.
  std::array<std::uint8_t, kPayloadSize> buf{};
  for (;;) {
    if (auto r = co_await readExact(s, buf); !r) {
      break;
    }
    if (auto w = co_await s.write(buf); !w) {
      break;
    }
  }
  co_await s.closeWrite();
}

Task<std::chrono::microseconds> roundTrip(ByteStream& s, Step& failed) {
  std::array<std::uint8_t, kPayloadSize> out{};
  std::array<std::uint8_t, kPayloadSize> in{};
  RAND_bytes(out.data(), static_cast<int>(out.size()));
  Bytes flight;
  multistream::encodeProposal(kProtocolId, flight);
  append(flight, out);
  const auto start = std::chrono::steady_clock::now();
  if (auto w = co_await s.write(flight); !w) {
    failed = Step::kSend;
    co_return w.error();
  }
  if (auto r = co_await multistream::readConfirmation(s, kProtocolId); !r) {
    failed = Step::kNegotiate;
    co_return r.error();
  }
  if (auto r = co_await readExact(s, in); !r) {
    failed = Step::kEcho;
    co_return r.error();
  }
  const auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  co_await s.closeWrite();
  if (in != out) {
    failed = Step::kCompare;
    co_return fail(Errc::kProtocolError, "ping reply does not match");
  }
  co_return rtt;
}

}  // namespace pc::net::ping
