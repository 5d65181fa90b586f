#include "net/upgrade.hpp"

#include "net/error.hpp"
#include "net/multistream/negotiate.hpp"
#include "net/watchdog.hpp"

namespace pc::net {
namespace {

/// The muxers we offer, in order of preference (one today).
std::vector<std::string> offeredMuxers() { return {std::string(yamux::kProtocolId)}; }

}  // namespace

Error gatedByRemote(const crypto::PeerId& remote, const crypto::PeerId& self) {
  // A gating peer closes right after the handshake, which is all we can observe of it.
  return fail(Errc::kGated, "the remote " + remote.toBase58() +
                                " closed the connection after the handshake: it probably does not "
                                "trust us (" +
                                self.toBase58() +
                                "); its operator can add us with `peerctl peers add`");
}

Error timeoutError(const char* what, std::chrono::milliseconds t) {
  return fail(Errc::kTimeout,
              std::string(what) + " did not finish within " + std::to_string(t.count()) + " ms");
}

Task<std::unique_ptr<SecureConn>> upgradeOutbound(std::unique_ptr<RawConn> raw,
                                                  std::optional<crypto::PeerId> expected,
                                                  UpgradeOptions options) {
  const auto ex = co_await asio::this_coro::executor;
  RawConn* rawPtr = raw.get();
  Watchdog dog(ex, options.timeout, [rawPtr] { rawPtr->reset(); });
  auto muxers = offeredMuxers();
  auto sc = co_await secureOutbound(std::move(raw), *options.identity, expected,
                                    std::move(options.keys), std::move(muxers));
  if (!sc) {
    co_return dog.fired() ? timeoutError("security handshake", options.timeout) : sc.error();
  }
  const auto peer = (*sc)->remotePeer();
  if (options.admit && !options.admit(peer)) {
    (*sc)->reset();
    co_return fail(Errc::kGated, "remote " + peer.toBase58() + " is not a trusted peer");
  }
  if (!(*sc)->earlyMuxer()) {
    muxers = offeredMuxers();
    auto muxer = co_await multistream::selectOne(**sc, muxers);
    if (!muxer) {
      if (dog.fired()) {
        co_return timeoutError("muxer negotiation", options.timeout);
      }
      if (muxer.error() == make_error_code(Errc::kClosed)) {
        co_return gatedByRemote(peer, options.identity->peerId());
      }
      co_return muxer.error();
    }
  }
  co_return std::move(*sc);
}

Task<std::unique_ptr<SecureConn>> upgradeInbound(std::unique_ptr<RawConn> raw,
                                                 UpgradeOptions options) {
  const auto ex = co_await asio::this_coro::executor;
  RawConn* rawPtr = raw.get();
  Watchdog dog(ex, options.timeout, [rawPtr] { rawPtr->reset(); });
  auto muxers = offeredMuxers();
  auto sc = co_await secureInbound(std::move(raw), *options.identity, std::move(options.keys),
                                   std::move(muxers));
  if (!sc) {
    co_return dog.fired() ? timeoutError("handshake", options.timeout) : sc.error();
  }
  const auto peer = (*sc)->remotePeer();
  if (options.admit && !options.admit(peer)) {
    (*sc)->reset();
    co_return fail(Errc::kGated, peer.toBase58() + " is not trusted");
  }
  if (!(*sc)->earlyMuxer()) {
    muxers = offeredMuxers();
    auto muxer = co_await multistream::handle(**sc, muxers);
    if (!muxer) {
      (*sc)->reset();
      co_return muxer.error().context("muxer negotiation with " + peer.toBase58());
    }
  }
  co_return std::move(*sc);
}

std::shared_ptr<Connection> startMuxed(std::unique_ptr<SecureConn> secured, bool outbound,
                                       const yamux::Config& config,
                                       std::optional<crypto::PeerId> relay) {
  auto conn = std::make_shared<Connection>(
      Connection{secured->remotePeer(), secured->raw().localAddr(), secured->raw().remoteAddr(),
                 outbound, std::string(noise::kProtocolId), std::string(yamux::kProtocolId),
                 nullptr, std::nullopt, std::move(relay), false});
  auto ex = secured->raw().executor();
  conn->session = std::make_shared<yamux::Session>(std::move(secured), ex, outbound,
                                                   conn->peer.toBase58(), config);
  conn->session->start();
  return conn;
}

}  // namespace pc::net
