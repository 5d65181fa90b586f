#pragma once
/// Datagrams in batches: one recvmmsg(2) reads up to kUdpBatch queries and one sendmmsg(2) sends
/// their responses. Under load most of a DNS server's time is system calls (measured with perf:
/// the kernel's UDP path and task switches, not the answering); batching divides their number.
/// Linux only, as the daemons are. Not thread-safe: one owner.
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include <sys/socket.h>

#include <boost/asio/ip/udp.hpp>

#include "core/bytes.hpp"

namespace pc::dns {

/// Datagrams read by one system call (and responses sent by one).
inline constexpr std::size_t kUdpBatch = 32;
/// A query datagram over this is dropped unread (a query is a header, one name and an OPT: a
/// few hundred bytes at most); the same bound for a TCP message, whose connection is closed.
inline constexpr std::size_t kMaxQuerySize = 1232;

class UdpBatch {
 public:
  UdpBatch();
  /// Reads what is queued on `fd` (non-blocking), up to kUdpBatch datagrams. Returns how many;
  /// 0 when none is queued or on an error (the caller waits for readability again).
  std::size_t receive(int fd);
  /// Datagram `i` of the last receive(): empty when it was over kMaxQuerySize (cut by the
  /// buffer: not a query we read).
  [[nodiscard]] BytesView query(std::size_t i) const;
  [[nodiscard]] const boost::asio::ip::udp::endpoint& source(std::size_t i) const {
    return from_[i];
  }
  /// Queues `response` to datagram `i`'s source.
  void reply(std::size_t i, Bytes response);
  /// Sends the queued responses (non-blocking: what the socket buffer cannot take is dropped,
  /// as the network could drop it) and empties the queue.
  void flush(int fd);

 private:
  using Buffer = std::array<std::uint8_t, kMaxQuerySize + 1>;
  std::unique_ptr<std::array<Buffer, kUdpBatch>> buffers_;
  std::array<boost::asio::ip::udp::endpoint, kUdpBatch> from_{};
  std::array<iovec, kUdpBatch> iov_{};
  std::array<mmsghdr, kUdpBatch> in_{};
  std::vector<Bytes> out_;
  std::vector<std::size_t> outTo_;
  std::array<iovec, kUdpBatch> outIov_{};
  std::array<mmsghdr, kUdpBatch> outMsg_{};
};

}  // namespace pc::dns
