#pragma once
/// A Noise-secured connection (the "secure" stage of Raw → Secure → Muxed).
///
/// Transport messages are a 2-byte big-endian length followed by a ChaCha20-Poly1305 frame of at
/// most 65535 bytes. Reads pull large chunks from the socket and decrypt frames in place; writes
/// encrypt any amount of data into as many frames as needed and send them in one socket write.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "crypto/identity.hpp"
#include "net/noise/handshake.hpp"
#include "net/raw_conn.hpp"

namespace pc::net {

class SecureConn final : public ByteStream {
 public:
  SecureConn(std::unique_ptr<RawConn> raw, noise::TransportKeys keys, crypto::PeerId remote);

  Task<std::size_t> readSome(std::span<std::uint8_t> buf) override;
  /// Not re-entrant: one write at a time (the muxer's single writer guarantees it).
  Task<void> write(BytesView data) override;
  Task<void> closeWrite() override;
  void reset() override;
  void releaseBuffers() override;

  const crypto::PeerId& remotePeer() const { return remote_; }
  /// True when the remote listed one of the muxers we offered in the Noise extensions
  /// (specs/noise "early multiplexer negotiation"): the muxer is then settled without a
  /// multistream-select round trip.
  bool earlyMuxer() const { return !earlyMuxer_.empty(); }
  /// The muxer settled in the handshake: the first we offered that the remote listed too.
  const std::string& earlyMuxerProtocol() const { return earlyMuxer_; }
  void setEarlyMuxer(std::string protocol) { earlyMuxer_ = std::move(protocol); }
  RawConn& raw() { return *raw_; }
  /// Bytes of decrypted plaintext already buffered (readable without I/O).
  std::size_t buffered() const { return plainEnd_ - plainStart_; }

 private:
  Task<void> fill(std::size_t need);
  std::unique_ptr<RawConn> raw_;
  noise::TransportKeys keys_;
  crypto::PeerId remote_;
  RawBuffer in_;  ///< raw bytes read from the socket: [inStart_, inEnd_); freed while idle
  std::size_t inStart_ = 0, inEnd_ = 0;
  std::size_t plainStart_ = 0, plainEnd_ = 0;  ///< decrypted plaintext inside in_
  /// Ciphertext of one write batch. Uninitialised storage: growing it must not zero-fill bytes
  /// that encryption overwrites anyway (a vector's resize did, at ~2% of a sender's time).
  std::unique_ptr<std::uint8_t[]> out_;
  std::size_t outCap_ = 0;
  std::string earlyMuxer_;
};

/// Runs the security stage on a fresh TCP connection: multistream-select `/noise`, the XX
/// handshake, and the checks on the remote identity. The dialer proposes `/noise` and sends the
/// first handshake message in the same flight (one round trip saved; a remote that answers "na"
/// fails the dial either way). `muxers` are offered in the Noise extensions (the Secure stage
/// knows no muxer itself: the upgrade step names them). `expected` (when dialing /p2p/<id>) must
/// match the proven PeerId, or kPeerIdMismatch — this stops a man in the middle that answers on
/// the right address with the wrong key. Cancel-safe only by resetting `raw` (its owner keeps a
/// pointer for that).
Task<std::unique_ptr<SecureConn>> secureOutbound(std::unique_ptr<RawConn> raw,
                                                 const crypto::Identity& self,
                                                 std::optional<crypto::PeerId> expected,
                                                 noise::PreparedKeys keys = {},
                                                 std::vector<std::string> muxers = {});
/// The listener's side of secureOutbound.
Task<std::unique_ptr<SecureConn>> secureInbound(std::unique_ptr<RawConn> raw,
                                                const crypto::Identity& self,
                                                noise::PreparedKeys keys = {},
                                                std::vector<std::string> muxers = {});

}  // namespace pc::net
