#pragma once
/// A relayed circuit as the bottom of a connection: the hop stream (on the side that dialled
/// through the relay) or the stop stream (on the target's side), once its handshake is over.
/// From then on the relay splices the two streams, so their bytes are the other peer's; Noise
/// and yamux run over them exactly as over TCP (Host::addRelayed).
#include <memory>

#include "net/raw_conn.hpp"
#include "net/yamux/session.hpp"

namespace pc::net::relay {

class CircuitConn final : public RawConn {
 public:
  CircuitConn(std::shared_ptr<yamux::Stream> stream, Multiaddr local, Multiaddr remote,
              asio::any_io_executor ex);
  ~CircuitConn() override;

  Task<std::size_t> readSome(std::span<std::uint8_t> buf) override;
  Task<void> write(BytesView data) override;
  Task<void> closeWrite() override;
  void reset() override;
  Task<void> waitReadable() override;
  const Multiaddr& localAddr() const override { return local_; }
  const Multiaddr& remoteAddr() const override { return remote_; }
  asio::any_io_executor executor() override { return ex_; }

 private:
  std::shared_ptr<yamux::Stream> stream_;
  Multiaddr local_;
  Multiaddr remote_;
  asio::any_io_executor ex_;
};

}  // namespace pc::net::relay
