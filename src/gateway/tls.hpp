#pragma once
/// Server-side TLS for the public listener (OpenSSL through Asio): TLS 1.2 and 1.3 only, modern
/// ciphers, the certificate chain and key loaded from PEM files (a wildcard `*.<domain>`
/// certificate covers every deployment). Handshakes have a deadline.
#include <filesystem>
#include <memory>

#include "net/stream.hpp"

namespace boost::asio::ssl {
class context;
}

namespace pc::gateway {

/// A TLS server context. Errors: kInvalidArgument naming the file that could not be used.
class TlsContext {
 public:
  static Result<std::shared_ptr<TlsContext>> fromFiles(const std::filesystem::path& chainPem,
                                                       const std::filesystem::path& keyPem);
  ~TlsContext();
  boost::asio::ssl::context& native() { return *ctx_; }

 private:
  TlsContext();
  std::unique_ptr<boost::asio::ssl::context> ctx_;
};

/// Performs the server handshake on `socket` within `timeout` and returns the secured stream.
/// Errors: kHandshakeFailed (with OpenSSL's reason), kTimeout.
net::Task<std::shared_ptr<net::ByteStream>> acceptTls(net::tcp::socket socket, TlsContext& ctx,
                                                      std::chrono::milliseconds timeout);

}  // namespace pc::gateway
