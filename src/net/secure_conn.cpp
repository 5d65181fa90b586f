#include "net/secure_conn.hpp"

#include <cstring>

#include "net/error.hpp"
#include "net/multistream/negotiate.hpp"

#include <algorithm>

namespace pc::net {
namespace {
constexpr std::size_t kFrameOverhead = 2 + noise::kTagSize;
/// Room for a whole frame plus the start of the next; under glibc's mmap threshold, so freeing
/// and re-allocating it around idle periods stays cheap.
constexpr std::size_t kInBufferSize = 2 + noise::kMaxMessageSize + 16 * 1024;
/// Plaintext encrypted per socket write: bounds the output buffer for huge writes.
constexpr std::size_t kMaxWriteBatch = 16 * noise::kMaxPlaintext;
/// Output buffer kept across idle periods; more is freed when the writer goes idle.
constexpr std::size_t kKeepIdleOutput = 16 * 1024;

void appendHandshakeMessage(Bytes& out, const Bytes& msg) {
  out.push_back(static_cast<std::uint8_t>(msg.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(msg.size()));
  append(out, msg);
}

Task<void> writeHandshakeMessage(ByteStream& s, const Bytes& msg) {
  Bytes framed;
  appendHandshakeMessage(framed, msg);
  co_return co_await s.write(framed);
}

Result<std::unique_ptr<SecureConn>> finish(std::unique_ptr<RawConn> raw, noise::Handshake& hs,
                                           const std::vector<std::string>& ours) {
  auto keys = hs.split();
  if (!keys) return keys.error();
  auto sc = std::make_unique<SecureConn>(std::move(raw), std::move(*keys), *hs.remotePeer());
  const auto& theirs = hs.remoteMuxers();
  for (const auto& m : ours) {
    if (std::find(theirs.begin(), theirs.end(), m) != theirs.end()) {
      sc->setEarlyMuxer(m);
      break;
    }
  }
  return sc;
}

Task<Bytes> readHandshakeMessage(ByteStream& s) {
  std::uint8_t len[2];
  if (auto r = co_await readExact(s, len); !r) co_return r.error();
  Bytes msg(static_cast<std::size_t>(len[0] << 8 | len[1]));
  if (auto r = co_await readExact(s, msg); !r) co_return r.error();
  co_return msg;
}
}  // namespace

SecureConn::SecureConn(std::unique_ptr<RawConn> raw, noise::TransportKeys keys,
                       crypto::PeerId remote)
    : raw_(std::move(raw)),
      keys_(std::move(keys)),
      remote_(std::move(remote)),
      in_(kInBufferSize) {}

Task<void> SecureConn::fill(std::size_t need) {
  if (inEnd_ - inStart_ >= need) co_return Result<void>{};
  if (inStart_ == inEnd_ && raw_->pollable()) {
    // Nothing buffered: take what the socket already has; if it has nothing, drop the receive
    // buffer while we wait, so an idle connection costs no buffer memory.
    inStart_ = inEnd_ = 0;
    if (!in_.empty()) {
      auto n = raw_->tryReadSome(in_);
      if (!n) co_return n.error();
      inEnd_ = *n;
    }
    while (inEnd_ == 0) {
      in_.release();
      if (auto r = co_await raw_->waitReadable(); !r) co_return r.error();
      in_.allocate(kInBufferSize);
      auto n = raw_->tryReadSome(in_);
      if (!n) co_return n.error();
      inEnd_ = *n;
    }
    if (inEnd_ >= need) co_return Result<void>{};
  }
  if (in_.size() - inStart_ < need) {  // not enough room after the start: compact
    std::memmove(in_.data(), in_.data() + inStart_, inEnd_ - inStart_);
    inEnd_ -= inStart_;
    inStart_ = 0;
  }
  while (inEnd_ - inStart_ < need) {
    auto n = co_await raw_->readSome(std::span(in_.data() + inEnd_, in_.size() - inEnd_));
    if (!n) co_return n.error();
    if (*n == 0) co_return fail(Errc::kProtocolError, "noise: connection closed inside a frame");
    inEnd_ += *n;
  }
  co_return Result<void>{};
}

Task<std::size_t> SecureConn::readSome(std::span<std::uint8_t> buf) {
  while (plainStart_ == plainEnd_) {
    if (auto r = co_await fill(2); !r) {
      if (r.error() == make_error_code(Errc::kClosed)) co_return std::size_t{0};  // clean EOF
      co_return r.error();
    }
    const std::size_t len = static_cast<std::size_t>(in_[inStart_] << 8 | in_[inStart_ + 1]);
    if (len < noise::kTagSize)
      co_return fail(Errc::kProtocolError, "noise: frame shorter than its tag");
    if (auto r = co_await fill(2 + len); !r) co_return r.error();
    std::uint8_t* frame = in_.data() + inStart_ + 2;
    const std::size_t plainLen = len - noise::kTagSize;
    if (plainLen > 0 && buf.size() >= plainLen) {
      // The whole frame fits the caller's buffer: decrypt straight into it, one pass over the
      // bytes instead of decrypt-in-place plus a copy.
      if (auto r = keys_.recv.decrypt({}, BytesView(frame, len), buf.data()); !r) {
        co_return r.error();
      }
      inStart_ += 2 + len;
      co_return plainLen;
    }
    if (auto r = keys_.recv.decrypt({}, BytesView(frame, len), frame); !r) co_return r.error();
    plainStart_ = inStart_ + 2;
    plainEnd_ = plainStart_ + len - noise::kTagSize;
    inStart_ += 2 + len;
  }
  const auto n = std::min(buf.size(), plainEnd_ - plainStart_);
  std::memcpy(buf.data(), in_.data() + plainStart_, n);
  plainStart_ += n;
  co_return n;
}

Task<void> SecureConn::write(BytesView data) {
  while (!data.empty()) {
    const auto batch = data.first(std::min(data.size(), kMaxWriteBatch));
    data = data.subspan(batch.size());
    const std::size_t need =
        batch.size() + (batch.size() / noise::kMaxPlaintext + 1) * kFrameOverhead;
    if (outCap_ < need) {
      out_.reset(new std::uint8_t[need]);
      outCap_ = need;
    }
    std::size_t pos = 0;
    for (std::size_t off = 0; off < batch.size(); off += noise::kMaxPlaintext) {
      const auto chunk = batch.subspan(off, std::min(noise::kMaxPlaintext, batch.size() - off));
      const auto frameLen = chunk.size() + noise::kTagSize;
      out_[pos] = static_cast<std::uint8_t>(frameLen >> 8);
      out_[pos + 1] = static_cast<std::uint8_t>(frameLen);
      if (auto r = keys_.send.encrypt({}, chunk, out_.get() + pos + 2); !r) co_return r.error();
      pos += 2 + frameLen;
    }
    if (auto r = co_await raw_->write(BytesView(out_.get(), pos)); !r) co_return r.error();
  }
  co_return Result<void>{};
}

Task<void> SecureConn::closeWrite() { co_return co_await raw_->closeWrite(); }
void SecureConn::reset() { raw_->reset(); }

void SecureConn::releaseBuffers() {
  if (outCap_ > kKeepIdleOutput) {
    out_.reset();
    outCap_ = 0;
  }
}

Task<std::unique_ptr<SecureConn>> secureOutbound(std::unique_ptr<RawConn> raw,
                                                 const crypto::Identity& self,
                                                 std::optional<crypto::PeerId> expected,
                                                 noise::PreparedKeys keys,
                                                 std::vector<std::string> muxers) {
  auto hs = noise::Handshake::create(true, self, muxers, std::move(keys));
  if (!hs) co_return hs.error();
  auto m1 = hs->writeMessage();
  if (!m1) co_return m1.error();
  Bytes flight;
  multistream::encodeProposal(noise::kProtocolId, flight);
  appendHandshakeMessage(flight, *m1);
  if (auto r = co_await raw->write(flight); !r) co_return r.error();
  if (auto r = co_await multistream::readConfirmation(*raw, noise::kProtocolId); !r) {
    co_return r.error();
  }
  auto m2 = co_await readHandshakeMessage(*raw);
  if (!m2) co_return m2.error();
  if (auto r = hs->readMessage(*m2); !r) co_return r.error();
  // Check the proven identity before sending ours: a wrong peer learns nothing about us.
  if (expected && *hs->remotePeer() != *expected) {
    co_return fail(Errc::kPeerIdMismatch, "dialed " + expected->toBase58() +
                                              " but the remote proved " +
                                              hs->remotePeer()->toBase58());
  }
  auto m3 = hs->writeMessage();
  if (!m3) co_return m3.error();
  if (auto r = co_await writeHandshakeMessage(*raw, *m3); !r) co_return r.error();
  co_return finish(std::move(raw), *hs, muxers);
}

Task<std::unique_ptr<SecureConn>> secureInbound(std::unique_ptr<RawConn> raw,
                                                const crypto::Identity& self,
                                                noise::PreparedKeys keys,
                                                std::vector<std::string> muxers) {
  const std::vector<std::string> protos{std::string(noise::kProtocolId)};
  auto proto = co_await multistream::handle(*raw, protos);
  if (!proto) co_return proto.error();
  auto hs = noise::Handshake::create(false, self, muxers, std::move(keys));
  if (!hs) co_return hs.error();
  auto m1 = co_await readHandshakeMessage(*raw);
  if (!m1) co_return m1.error();
  if (auto r = hs->readMessage(*m1); !r) co_return r.error();
  auto m2 = hs->writeMessage();
  if (!m2) co_return m2.error();
  if (auto r = co_await writeHandshakeMessage(*raw, *m2); !r) co_return r.error();
  auto m3 = co_await readHandshakeMessage(*raw);
  if (!m3) co_return m3.error();
  if (auto r = hs->readMessage(*m3); !r) co_return r.error();
  co_return finish(std::move(raw), *hs, muxers);
}

}  // namespace pc::net
