#pragma once
/// What the parts of the hostile libp2p client (p2p_hostile.cpp) share: its clock, the raw
/// multistream hello, and a drain that tells whether and when the provider closed.
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "core/protobuf.hpp"
#include "net/host.hpp"
#include "net/multistream/codec.hpp"
#include "net/multistream/negotiate.hpp"
#include "net/noise/handshake.hpp"
#include "net/secure_conn.hpp"
#include "net/tcp.hpp"
#include "net/yamux/frame.hpp"
#include "protocol/frame.hpp"
#include "protocol/stream_protocols.hpp"
#include "rpc/message_stream.hpp"

namespace hostile {

namespace asio = pc::net::asio;
using asio::awaitable;
using pc::Bytes;
using pc::net::tcp;
using Clock = std::chrono::steady_clock;

inline long msSince(Clock::time_point t0) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
}

inline tcp::endpoint endpointOf(const pc::net::Multiaddr& a) {
  // The tests use /ip4/127.0.0.1/tcp/<port>[/p2p/…].
  const std::string s = a.toString();
  const auto p = s.find("/tcp/");
  const auto port = static_cast<std::uint16_t>(std::stoi(s.substr(p + 5)));
  return {asio::ip::make_address(s.substr(5, p - 5)), port};
}

inline Bytes multistreamHello(std::string_view proto) {
  Bytes out;
  pc::net::multistream::encode(pc::net::multistream::kProtocolId, out);
  if (!proto.empty()) pc::net::multistream::encode(proto, out);
  return out;
}

/// Reads until the peer closes or `limit` passes; returns (closed, ms, bytes).
inline awaitable<std::tuple<bool, long, std::size_t>> drain(tcp::socket& s,
                                                            std::chrono::milliseconds limit) {
  const auto t0 = Clock::now();
  asio::steady_timer timer(s.get_executor(), limit);
  timer.async_wait([&s](boost::system::error_code ec) {
    if (!ec) {
      boost::system::error_code ignored;
      s.cancel(ignored);
    }
  });
  std::array<char, 4096> buf{};
  std::size_t total = 0;
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), pc::net::kNoThrow);
    total += n;
    if (ec == asio::error::operation_aborted) co_return std::make_tuple(false, msSince(t0), total);
    if (ec) {
      timer.cancel();
      co_return std::make_tuple(true, msSince(t0), total);
    }
  }
}

/// Sends malformed bytes at every layer; one "case …" line per case (see p2p_hostile.cpp).
awaitable<void> malformed(pc::net::Multiaddr addr, const pc::crypto::Identity& id,
                          pc::net::Host& host);

}  // namespace hostile
