#pragma once
/// An in-memory, in-order byte pipe with two ByteStream ends, for driving a protocol
/// implementation (yamux, multistream) without sockets. An optional tap sees (and may alter)
/// every byte written in one direction — fuzzers use it to corrupt traffic in flight.
#include <functional>
#include <memory>
#include <utility>

#include "net/stream.hpp"

namespace pc::test {

class MemoryStream;
using Tap = std::function<void(Bytes&)>;

/// Returns the two connected ends.
std::pair<std::unique_ptr<net::ByteStream>, std::unique_ptr<net::ByteStream>> memoryPipe(
    const net::asio::any_io_executor& ex, Tap aToB = nullptr, Tap bToA = nullptr);

}  // namespace pc::test
