#include "dns/udp_batch.hpp"

#include <cerrno>

namespace pc::dns {

UdpBatch::UdpBatch() : buffers_(std::make_unique<std::array<Buffer, kUdpBatch>>()) {
  out_.reserve(kUdpBatch);
  outTo_.reserve(kUdpBatch);
}

std::size_t UdpBatch::receive(int fd) {
  for (std::size_t i = 0; i < kUdpBatch; ++i) {
    iov_[i] = iovec{(*buffers_)[i].data(), (*buffers_)[i].size()};
    in_[i] = mmsghdr{};
    in_[i].msg_hdr.msg_name = from_[i].data();
    in_[i].msg_hdr.msg_namelen = static_cast<socklen_t>(from_[i].capacity());
    in_[i].msg_hdr.msg_iov = &iov_[i];
    in_[i].msg_hdr.msg_iovlen = 1;
  }
  const int n = ::recvmmsg(fd, in_.data(), kUdpBatch, MSG_DONTWAIT, nullptr);
  if (n <= 0) return 0;
  for (int i = 0; i < n; ++i) {
    from_[static_cast<std::size_t>(i)].resize(in_[static_cast<std::size_t>(i)].msg_hdr.msg_namelen);
  }
  return static_cast<std::size_t>(n);
}

BytesView UdpBatch::query(std::size_t i) const {
  const auto& h = in_[i];
  if ((h.msg_hdr.msg_flags & MSG_TRUNC) != 0 || h.msg_len > kMaxQuerySize) return {};
  return BytesView((*buffers_)[i].data(), h.msg_len);
}

void UdpBatch::reply(std::size_t i, Bytes response) {
  out_.push_back(std::move(response));
  outTo_.push_back(i);
}

void UdpBatch::flush(int fd) {
  const std::size_t count = out_.size();
  for (std::size_t k = 0; k < count; ++k) {
    outIov_[k] = iovec{out_[k].data(), out_[k].size()};
    outMsg_[k] = mmsghdr{};
    outMsg_[k].msg_hdr.msg_name = from_[outTo_[k]].data();
    outMsg_[k].msg_hdr.msg_namelen = static_cast<socklen_t>(from_[outTo_[k]].size());
    outMsg_[k].msg_hdr.msg_iov = &outIov_[k];
    outMsg_[k].msg_hdr.msg_iovlen = 1;
  }
  std::size_t sent = 0;
  while (sent < count) {
    const int n =
        ::sendmmsg(fd, outMsg_.data() + sent, static_cast<unsigned>(count - sent), MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      ++sent;  // this datagram failed (e.g. no route to its source): skip it, send the rest
    } else {
      break;  // the socket buffer is full: the rest are dropped
    }
  }
  out_.clear();
  outTo_.clear();
}

}  // namespace pc::dns
