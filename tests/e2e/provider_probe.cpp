// Sends deliberately bad requests to a running peercomputed, for the e2e test of the real
// daemon: a forged signature, a replayed request, a stale timestamp, and a request signed by
// another identity than the connection's. Prints the provider's answer ("error <code>: …" or
// "ok <type>") for each attempt; exits 0 when every answer arrived.
//
// `flood N` sends N validly signed status requests, 32 at a time on one connection, each dated
// 55 s ahead (as long-lived in the replay cache as the provider allows), and prints
// "flood sent=N ok=A rate_limited=B other=C" and the first other answer.
//
//   provider_probe <home> <provider-multiaddr> forged|replay|stale|mismatch [other-home]
//   provider_probe <home> <provider-multiaddr> flood <count>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <iostream>

#include "net/host.hpp"
#include "protocol/signing.hpp"
#include "protocol/stream_protocols.hpp"
#include "rpc/message_stream.hpp"

namespace asio = pc::net::asio;
using pc::protocol::Message;

namespace {

asio::awaitable<std::string> send(pc::net::Host& host, const pc::net::Multiaddr& addr,
                                  const pc::Bytes& frame) {
  auto conn = co_await host.connect(addr);
  if (!conn) co_return "connect failed: " + conn.error().message();
  const std::vector<std::string> protos{std::string(pc::protocol::kStatusProtocol)};
  auto s = co_await host.newStream(*conn, protos);
  if (!s) co_return "stream failed: " + s.error().message();
  if (auto w = co_await (*s)->write(frame); !w) co_return "write failed: " + w.error().message();
  pc::rpc::MessageReader reader(**s);
  auto m = co_await reader.next();
  if (!m) co_return "read failed: " + m.error().message();
  if (!*m) co_return "closed without an answer";
  if (auto* e = std::get_if<pc::protocol::ErrorMessage>(&**m)) {
    co_return "error " + e->code + ": " + e->message;
  }
  co_return "ok " + std::string(pc::protocol::messageTypeName(pc::protocol::typeOf(**m)));
}

struct FloodCounts {
  int next = 0;
  int ok = 0;
  int limited = 0;
  int other = 0;
  std::string firstOther;
};

asio::awaitable<void> floodWorker(pc::net::Host& host, const pc::net::Multiaddr& addr,
                                  const pc::crypto::Identity& id, int count, FloodCounts& c) {
  while (c.next < count) {
    ++c.next;
    pc::protocol::StatusRequest req;
    req.header = pc::protocol::newRequestHeader(pc::protocol::unixMillisNow() + 55'000);
    Message m = req;
    if (!pc::protocol::sign(m, id)) co_return;
    const auto frame = pc::protocol::encodeMessage(m).value();
    const std::string answer = co_await send(host, addr, frame);
    if (answer.starts_with("ok ")) {
      ++c.ok;
    } else if (answer.starts_with("error rate_limited")) {
      ++c.limited;
    } else {
      if (c.other++ == 0) c.firstOther = answer;
    }
  }
}

int flood(const pc::crypto::Identity& id, const pc::net::Multiaddr& addr, int count) {
  asio::io_context io(1);
  auto host = pc::net::Host::create(io.get_executor(), id);
  FloodCounts c;
  int running = 32;
  for (int w = 0; w < 32; ++w) {
    asio::co_spawn(io, floodWorker(*host, addr, id, count, c), [&](std::exception_ptr) {
      if (--running == 0) host->close();
    });
  }
  io.run();
  std::cout << "flood sent=" << c.next << " ok=" << c.ok << " rate_limited=" << c.limited
            << " other=" << c.other << "\n";
  if (c.other > 0) std::cout << "first other: " << c.firstOther << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: provider_probe <home> <multiaddr> forged|replay|stale|mismatch [home2]\n";
    return 2;
  }
  const std::string mode = argv[3];
  auto id = pc::crypto::Identity::load(std::string(argv[1]) + "/identity.key");
  auto addr = pc::net::Multiaddr::parse(argv[2]);
  if (!id || !addr) {
    std::cerr << "bad identity or address\n";
    return 2;
  }
  if (mode == "flood") return flood(*id, *addr, argc > 4 ? std::atoi(argv[4]) : 1000);
  std::optional<pc::crypto::Identity> other;
  if (argc > 4) other = pc::crypto::Identity::load(std::string(argv[4]) + "/identity.key").value();

  pc::protocol::StatusRequest req;
  req.header = pc::protocol::newRequestHeader(pc::protocol::unixMillisNow());
  if (mode == "stale") req.header.timestampMs -= 10 * 60 * 1000;
  Message m = req;
  const auto& signer = mode == "mismatch" && other ? *other : *id;
  if (auto r = pc::protocol::sign(m, signer); !r) {
    std::cerr << r.error().message() << "\n";
    return 2;
  }
  if (mode == "forged") {
    auto& sig = pc::protocol::requestHeader(m)->signature;
    sig[0] = sig[0] == 'a' ? 'b' : 'a';
  }
  const auto frame = pc::protocol::encodeMessage(m).value();

  asio::io_context io(1);
  auto host = pc::net::Host::create(io.get_executor(), *id);
  int rc = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        const int attempts = mode == "replay" ? 2 : 1;
        for (int i = 0; i < attempts; ++i) std::cout << co_await send(*host, *addr, frame) << "\n";
        host->close();
      },
      [&](std::exception_ptr e) {
        if (e) rc = 1;
        io.stop();
      });
  io.run();
  return rc;
}
