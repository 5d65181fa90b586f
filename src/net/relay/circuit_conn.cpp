#include "net/relay/circuit_conn.hpp"

namespace pc::net::relay {

CircuitConn::CircuitConn(std::shared_ptr<yamux::Stream> stream, Multiaddr local, Multiaddr remote,
                         asio::any_io_executor ex)
    : stream_(std::move(stream)),
      local_(std::move(local)),
      remote_(std::move(remote)),
      ex_(std::move(ex)) {}

// The relayed connection owns its stream: when it goes, the circuit goes (the relay sees the
// reset and ends the other half).
CircuitConn::~CircuitConn() { stream_->reset(); }

Task<std::size_t> CircuitConn::readSome(std::span<std::uint8_t> buf) {
  co_return co_await stream_->readSome(buf);
}
Task<void> CircuitConn::write(BytesView data) { co_return co_await stream_->write(data); }
Task<void> CircuitConn::closeWrite() { co_return co_await stream_->closeWrite(); }
void CircuitConn::reset() { stream_->reset(); }
Task<void> CircuitConn::waitReadable() { co_return co_await stream_->waitReadable(); }

}  // namespace pc::net::relay
