#include "admin/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <mutex>

#include "core/event_budget.hpp"

namespace pc::admin {

namespace asio = net::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using net::kNoThrow;

namespace {

using HttpResponse = http::response<http::string_body>;

/// Headers every admin answer carries: never cached, never framed by another page, no scripts
/// or styles but the listener's own (the dashboard's JS and CSS are files it serves).
void secureHeaders(HttpResponse& res) {
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  res.set("Content-Security-Policy",
          "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
          "img-src 'self' data:; frame-ancestors 'none'");
}

HttpResponse makeResponse(unsigned version, bool keepAlive, const Response& r) {
  HttpResponse res{static_cast<http::status>(r.status), version};
  res.set(http::field::content_type, r.contentType);
  secureHeaders(res);
  res.body() = r.body;
  res.keep_alive(keepAlive);
  res.prepare_payload();
  return res;
}

Response plain(int status, std::string text) {
  return Response{status, "text/plain; charset=utf-8", std::move(text) + "\n"};
}

void logRefusal(const std::string& name, const std::string& from, std::string_view why) {
  static std::mutex mutex;
  static EventBudget budget(kRefusalLogLinesPerSecond);
  const std::lock_guard lock(mutex);
  const auto left = budget.admit();
  if (!left) {
    return;
  }
  spdlog::warn("security: {} admin listener refused {}: {}{}", name, from, why,
               *left > 0 ? " (" + std::to_string(*left) + " more refusals not logged)" : "");
}

std::string endpointText(const net::tcp::endpoint& ep) {
  const auto a = ep.address();
  return a.is_v6() ? "[" + a.to_string() + "]:" + std::to_string(ep.port())
                   : a.to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

AdminServer::AdminServer(const asio::any_io_executor& ex, ServerOptions options)
    : ex_(ex), options_(std::move(options)), tasks_(ex) {}

Result<std::shared_ptr<AdminServer>> AdminServer::start(const asio::any_io_executor& ex,
                                                        const net::tcp::endpoint& at,
                                                        ServerOptions options) {
  auto s = std::make_shared<AdminServer>(ex, std::move(options));
  boost::system::error_code ec;
  net::tcp::acceptor acc(ex);
  acc.open(at.protocol(), ec);
  if (!ec) {
    acc.set_option(net::tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec) {
    acc.bind(at, ec);
  }
  if (!ec) {
    acc.listen(static_cast<int>(kMaxConnections), ec);
  }
  if (ec) {
    return Error(ec, "admin listener on " + endpointText(at) + ": " + ec.message());
  }
  s->endpoint_ = acc.local_endpoint(ec);
  s->acceptor_.emplace(std::move(acc));
  s->tasks_.spawn([s] { return s->acceptLoop(); });
  return s;
}

void AdminServer::close() {
  closed_ = true;
  if (acceptor_) {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
  }
}

awaitable<void> AdminServer::shutdown(std::chrono::milliseconds grace) {
  auto self = shared_from_this();
  close();
  co_await tasks_.shutdown(grace);
}

awaitable<void> AdminServer::acceptLoop() {
  while (!closed_) {
    auto [ec, sock] = co_await acceptor_->async_accept(kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || closed_) {
        co_return;
      }
      co_await net::sleepFor(std::chrono::milliseconds(50));  // EMFILE: back off, no spin
      continue;
    }
    boost::system::error_code rec;
    const auto remote = sock.remote_endpoint(rec);
    if (rec || !admit(remote.address())) {
      boost::system::error_code ignored;
      sock.close(ignored);  // over a bound: closed at once, never queued
      continue;
    }
    // Counted now, before the next accept: a burst of connections cannot slip past the bounds.
    auto slot = std::make_shared<Slot>(shared_from_this(), remote);
    auto s = std::make_shared<net::tcp::socket>(std::move(sock));
    tasks_.spawn([self = shared_from_this(), s, slot] { return self->serve(std::move(*s), slot); });
  }
}

struct AdminServer::Slot {
  std::shared_ptr<AdminServer> s;  ///< the counts it gives back live there
  net::tcp::endpoint peer;         ///< the client, as accepted
  boost::asio::ip::address remote;
  bool local;
  Slot(std::shared_ptr<AdminServer> server, const net::tcp::endpoint& client)
      : s(std::move(server)), peer(client), remote(client.address()), local(isLoopback(remote)) {
    ++s->connections_;
    if (!local) {
      ++s->remoteConnections_;
      ++s->perRemoteAddress_[remote];
    }
  }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  ~Slot() {
    --s->connections_;
    if (!local) {
      --s->remoteConnections_;
      if (--s->perRemoteAddress_[remote] == 0) s->perRemoteAddress_.erase(remote);
    }
  }
};

bool AdminServer::admit(const boost::asio::ip::address& remote) const {
  if (connections_ >= kMaxConnections) {
    return false;
  }
  if (isLoopback(remote)) {
    return true;
  }
  const auto it = perRemoteAddress_.find(remote);
  return remoteConnections_ < kMaxConnections - kLoopbackReservedConnections &&
         (it == perRemoteAddress_.end() || it->second < kMaxRemoteConnectionsPerAddress);
}

awaitable<void> AdminServer::serve(net::tcp::socket socket, std::shared_ptr<Slot> slot) {
  const net::tcp::endpoint remote = slot->peer;  // the slot is held until the connection ends
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  while (!closed_) {
    stream.expires_after(kRequestTimeout);
    http::request_parser<http::empty_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
    auto [rec, n] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    if (rec) {
      // Closed, timed out, or a request we do not take (oversized head, a body, bad syntax):
      // answer what can be answered, then close.
      if (rec == http::error::header_limit) {
        auto res = makeResponse(11, false, plain(431, "request header too large"));
        co_await http::async_write(stream, res, kNoThrow);
      } else if (rec != http::error::end_of_stream && rec != beast::error::timeout &&
                 rec != asio::error::operation_aborted && rec != asio::error::eof &&
                 rec != asio::error::connection_reset) {
        auto res = makeResponse(11, false, plain(400, "bad request: " + rec.message()));
        co_await http::async_write(stream, res, kNoThrow);
      }
      co_return;
    }
    const auto& req = parser.get();
    Response answer;
    const AccessRequest access{remote.address(), req[http::field::authorization],
                               req[http::field::host]};
    const Verdict verdict = decideAccess(access, options_.token ? &*options_.token : nullptr);
    const std::string target(req.target());
    const auto q = target.find('?');
    Request r{std::string(req.method_string()), target.substr(0, q),
              q == std::string::npos ? "" : target.substr(q + 1)};
    if (verdict != Verdict::kAllowed) {
      ++refused_;
      logRefusal(options_.name, endpointText(remote), explain(verdict));
      answer = plain(403, "403 Forbidden: " + std::string(explain(verdict)));
    } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
      answer = plain(405, "only GET and HEAD are served here");
    } else if (auto h = options_.routes.find(r.path); h != options_.routes.end()) {
      answer = h->second(r);
    } else {
      answer = plain(404, "not found: " + r.path);
    }
    const bool keepAlive = req.keep_alive() && verdict == Verdict::kAllowed;
    auto res = makeResponse(req.version(), keepAlive, answer);
    if (req.method() == http::verb::head) {
      // HEAD: the Content-Length of the body that a GET would get, and no body.
      const auto len = res.body().size();
      res.body().clear();
      res.content_length(len);
    }
    auto [wec, w] = co_await http::async_write(stream, res, kNoThrow);
    if (wec || !keepAlive) {
      break;
    }
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(net::tcp::socket::shutdown_send, ignored);
}

}  // namespace pc::admin
