#include "gateway/acme.hpp"

#include "core/base64url.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <map>

#include "core/fs.hpp"
#include "http/exchange.hpp"
#include "net/watchdog.hpp"

namespace pc::gateway::acme {

namespace asio = net::asio;
namespace ssl = boost::asio::ssl;
namespace http = pc::http;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

std::optional<ChallengeType> parseChallengeType(std::string_view s) {
  if (s == "http-01") return ChallengeType::kHttp01;
  if (s == "tls-alpn-01") return ChallengeType::kTlsAlpn01;
  if (s == "dns-01") return ChallengeType::kDns01;
  return std::nullopt;
}

namespace {

struct Response {
  unsigned status = 0;
  std::string location;
  std::string nonce;
  std::string contentType;
  std::string retryAfter;
  std::string body;
};

Error acmeError(std::string msg) { return fail(Errc::kIo, "ACME: " + std::move(msg)); }

/// The server's problem document (RFC 7807) as "type: detail", or the status.
std::string problemOf(const Response& r) {
  std::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.as_object();
    std::string out;
    if (const auto* t = o.if_contains("type"); t != nullptr && t->is_string()) {
      out = std::string(t->as_string());
    }
    if (const auto* d = o.if_contains("detail"); d != nullptr && d->is_string()) {
      out += (out.empty() ? "" : ": ") + std::string(d->as_string());
    }
    if (!out.empty()) return "HTTP " + std::to_string(r.status) + " " + out;
  }
  return "HTTP " + std::to_string(r.status);
}

/// The response body as a JSON object. Errors: kIo naming `what`.
Result<json::object> objectOf(const Response& r, std::string_view what) {
  std::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) {
    return acmeError(std::string(what) + ": the server's answer is not a JSON object");
  }
  return std::move(v.as_object());
}

std::string stringField(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

/// Seconds to wait before polling again: Retry-After when given (clamped to 1–10 s), else 1 s.
std::chrono::milliseconds pollDelay(const Response& r) {
  int s = 1;
  if (!r.retryAfter.empty() && r.retryAfter.size() < 6 &&
      r.retryAfter.find_first_not_of("0123456789") == std::string::npos) {
    s = std::clamp(std::stoi(r.retryAfter), 1, 10);
  }
  return std::chrono::seconds(s);
}

/// The authorization's identifier as ordered ("*.<name>" for the wildcard's), checked against
/// `names`: a hostile server cannot make us publish an answer for a name we did not order.
Result<std::string> identifierOf(const json::object& authz, const std::vector<std::string>& names) {
  std::string value;
  if (const auto* id = authz.if_contains("identifier"); id != nullptr && id->is_object()) {
    value = stringField(id->as_object(), "value");
  }
  const auto* w = authz.if_contains("wildcard");
  const std::string name = (w != nullptr && w->is_bool() && w->as_bool()) ? "*." + value : value;
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    return acmeError("the server sent an authorization for '" + name + "', which was not ordered");
  }
  return name;
}

struct Challenge {
  std::string url;
  std::string token;
};

/// The challenge of type `wanted` in `authz`. The token becomes part of a URL path we serve
/// (HTTP-01) and of a digest: base64url characters only (RFC 8555 §8.1), so a hostile server
/// cannot plant path tricks or header bytes.
std::optional<Challenge> challengeOf(const json::object& authz, std::string_view wanted) {
  Challenge ch;
  if (const auto* chs = authz.if_contains("challenges"); chs != nullptr && chs->is_array()) {
    for (const auto& c : chs->as_array()) {
      if (c.is_object() && stringField(c.as_object(), "type") == wanted) {
        ch.url = stringField(c.as_object(), "url");
        ch.token = stringField(c.as_object(), "token");
      }
    }
  }
  if (ch.url.empty() || ch.token.empty() || ch.token.size() > 256 ||
      ch.token.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
          std::string::npos) {
    return std::nullopt;
  }
  return ch;
}

/// Withdraws the DNS-01 TXT names it holds when the order ends, however it ends (error,
/// cancellation): a stale answer must not stay in the zone.
struct Dns01Withdrawal {
  explicit Dns01Withdrawal(const ChallengeSink* s) : sink(s) {}
  const ChallengeSink* sink;
  std::vector<std::string> names;
  Dns01Withdrawal(const Dns01Withdrawal&) = delete;
  Dns01Withdrawal& operator=(const Dns01Withdrawal&) = delete;
  ~Dns01Withdrawal() {
    for (const auto& n : names) {
      if (sink->withdrawDns01) sink->withdrawDns01(n);
    }
  }
};

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : " and ") + n;
  return out;
}

}  // namespace

/// POST-as-GET (RFC 8555 §6.3): an empty payload.
const std::optional<std::string> kAsGet;

struct AcmeClient::Impl {
  AcmeOptions options;
  EcKey accountKey;
  ChallengeSink sink;
  ssl::context tls{ssl::context::tls_client};
  std::string newNonceUrl, newAccountUrl, newOrderUrl;
  std::string nonce;
  std::string kid;

  Impl(AcmeOptions o, EcKey k, ChallengeSink s)
      : options(std::move(o)), accountKey(std::move(k)), sink(std::move(s)) {}

  /// One HTTPS exchange on a fresh connection (Connection: close), bounded in time and size.
  net::Task<Response> fetch(http::Verb method, std::string url, std::string body,
                            std::string contentType) {
    auto u = boost::urls::parse_absolute_uri(url);
    if (!u || u->scheme() != "https") {
      co_return acmeError("'" + url + "' is not an https URL");
    }
    const std::string host(u->host_address());
    const std::string port = u->has_port() ? std::string(u->port()) : std::string("443");
    std::string target(u->encoded_target());
    if (target.empty()) target = "/";
    const auto ex = co_await asio::this_coro::executor;
    net::tcp::resolver resolver(ex);
    auto [rec, eps] = co_await resolver.async_resolve(host, port, net::kNoThrow);
    if (rec) co_return acmeError("resolving " + host + ": " + rec.message());
    ssl::stream<net::tcp::socket> s(ex, tls);
    auto* sock = &s.next_layer();
    net::Watchdog dog(ex, kRequestTimeout, [sock] {
      boost::system::error_code ignored;
      sock->close(ignored);
    });
    auto [cec, ep] = co_await asio::async_connect(s.next_layer(), eps, net::kNoThrow);
    (void)ep;
    if (cec) co_return acmeError("connecting to " + host + ":" + port + ": " + cec.message());
    // SNI and certificate verification against the name we dialled: a man in the middle cannot
    // hand us its own account, orders or certificates.
    // (SSL_set_tlsext_host_name is a macro with an old-style cast.)
    SSL_ctrl(s.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(host.c_str()));
    s.set_verify_mode(ssl::verify_peer);
    s.set_verify_callback(ssl::host_name_verification(host));
    auto [hec] = co_await s.async_handshake(ssl::stream_base::client, net::kNoThrow);
    if (hec) {
      co_return acmeError(
          "TLS with " + host + ": " + hec.message() +
          (options.caFile.empty() ? "" : " (trusted CA: " + options.caFile.string() + ")"));
    }
    const std::string hostHeader = u->has_port() ? host + ":" + port : host;
    co_return co_await exchange(s, method, host, hostHeader, target, body, contentType);
  }

  /// The request out and the response in over the connected stream `s`, bounded by the limits
  /// in acme.hpp (the caller's watchdog bounds the time). Errors: kIo naming `host` and the step.
  net::Task<Response> exchange(ssl::stream<net::tcp::socket>& s, http::Verb method,
                               const std::string& host, const std::string& hostHeader,
                               const std::string& target, const std::string& body,
                               const std::string& contentType) {
    http::Request req;
    req.method = method;
    req.target = target;
    req.fields = {
        {"Host", hostHeader}, {"User-Agent", "peergateway-acme/1"}, {"Connection", "close"}};
    if (!contentType.empty()) {
      req.fields.emplace_back("Content-Type", contentType);
    }
    req.body = body;
    Response out;
    const http::BodyFn collect = [&out](const http::ResponseDecoder&,
                                        std::string_view bytes) -> Result<bool> {
      out.body.append(bytes);
      return true;
    };
    const http::ResponseLimits limits{kMaxResponseHeader, kMaxResponseBytes};
    auto x = co_await http::exchange(s, req, limits, collect);
    if (!x) {
      co_return acmeError("reading from " + host + ": " + x.error().message());
    }
    if (x->failedAt == http::Step::kWrite) {
      co_return acmeError("sending to " + host + ": " + x->streamError.message());
    }
    if (x->failedAt == http::Step::kRead) {
      co_return acmeError("reading from " + host + ": " + x->streamError.message());
    }
    const auto& res = x->response;
    out.status = res.status();
    out.location = res.header("Location").value_or("");
    out.nonce = res.header("Replay-Nonce").value_or("");
    out.contentType = res.header("Content-Type").value_or("");
    out.retryAfter = res.header("Retry-After").value_or("");
    co_return out;
  }

  net::Task<void> loadDirectory() {
    if (!newOrderUrl.empty()) co_return Result<void>{};
    const std::string none;  // named: GCC 12 mishandles temporaries inside co_await expressions
    auto r = co_await fetch(http::Verb::get, options.directoryUrl, none, none);
    if (!r) co_return r.error();
    if (r->status != 200) co_return acmeError("directory: " + problemOf(*r));
    auto o = objectOf(*r, "directory");
    if (!o) co_return o.error();
    newNonceUrl = stringField(*o, "newNonce");
    newAccountUrl = stringField(*o, "newAccount");
    newOrderUrl = stringField(*o, "newOrder");
    if (newNonceUrl.empty() || newAccountUrl.empty() || newOrderUrl.empty()) {
      co_return acmeError("directory " + options.directoryUrl +
                          " lacks newNonce/newAccount/newOrder");
    }
    co_return Result<void>{};
  }

  /// POST of a JWS (RFC 8555 §6.2); `payload` nullopt = POST-as-GET. Retries badNonce.
  net::Task<Response> post(std::string url, std::optional<std::string> payload, bool withJwk) {
    for (int attempt = 0;; ++attempt) {
      if (nonce.empty()) {
        const std::string none;
        auto n = co_await fetch(http::Verb::head, newNonceUrl, none, none);
        if (!n) co_return n.error();
        if (n->nonce.empty()) co_return acmeError("newNonce returned no Replay-Nonce");
        nonce = n->nonce;
      }
      json::object prot;
      prot["alg"] = "ES256";
      if (withJwk) {
        prot["jwk"] = json::parse(accountKey.jwkJson());
      } else {
        prot["kid"] = kid;
      }
      prot["nonce"] = std::exchange(nonce, {});
      prot["url"] = url;
      const std::string p64 = pc::base64url::encode(json::serialize(prot));
      const std::string b64 = payload ? pc::base64url::encode(*payload) : std::string();
      auto sig = accountKey.signEs256(p64 + "." + b64);
      if (!sig) co_return sig.error();
      json::object jws;
      jws["protected"] = p64;
      jws["payload"] = b64;
      jws["signature"] = pc::base64url::encode(*sig);
      std::string body = json::serialize(jws);
      const std::string jose = "application/jose+json";
      auto r = co_await fetch(http::Verb::post, url, std::move(body), jose);
      if (!r) co_return r.error();
      if (!r->nonce.empty()) nonce = r->nonce;
      if (r->status == 400 && attempt < kMaxBadNonceRetries &&
          problemOf(*r).find("urn:ietf:params:acme:error:badNonce") != std::string::npos) {
        spdlog::debug("acme: badNonce from {}, retrying with a fresh nonce", url);
        continue;
      }
      co_return r;
    }
  }

  net::Task<void> ensureAccount() {
    if (!kid.empty()) co_return Result<void>{};
    json::object payload;
    payload["termsOfServiceAgreed"] = true;
    if (!options.email.empty()) payload["contact"] = json::array{"mailto:" + options.email};
    const std::string body = json::serialize(payload);
    auto r = co_await post(newAccountUrl, body, true);
    if (!r) co_return r.error();
    if ((r->status != 200 && r->status != 201) || r->location.empty()) {
      co_return acmeError("account registration: " + problemOf(*r));
    }
    kid = r->location;
    spdlog::info("acme: account {} ({})", kid, r->status == 201 ? "created" : "existing");
    co_return Result<void>{};
  }

  /// POST-as-GET `url` until its "status" is not one of `waiting` (or the deadline passes).
  net::Task<json::object> poll(std::string url, std::vector<std::string> waiting,
                               Clock::time_point deadline, std::string what) {
    for (;;) {
      auto r = co_await post(url, kAsGet, false);
      if (!r) co_return r.error();
      if (r->status != 200) co_return acmeError(what + ": " + problemOf(*r));
      auto o = objectOf(*r, what);
      if (!o) co_return o.error();
      const std::string status = stringField(*o, "status");
      if (std::find(waiting.begin(), waiting.end(), status) == waiting.end()) co_return o;
      const auto delay = pollDelay(*r);
      if (Clock::now() + delay > deadline) {
        co_return acmeError(what + " still '" + status + "' after " +
                            std::to_string(options.orderTimeout.count()) + " s");
      }
      co_await net::sleepFor(delay);
    }
  }

  /// One HTTP-01 or TLS-ALPN-01 authorization: publish, respond, wait, withdraw.
  net::Task<void> authorize(std::string authzUrl, std::vector<std::string> names,
                            ChallengeType type, Clock::time_point deadline) {
    auto r = co_await post(authzUrl, kAsGet, false);
    if (!r) co_return r.error();
    if (r->status != 200) co_return acmeError("authorization: " + problemOf(*r));
    auto authz = objectOf(*r, "authorization");
    if (!authz) co_return authz.error();
    if (stringField(*authz, "status") == "valid") co_return Result<void>{};
    auto host = identifierOf(*authz, names);
    if (!host) co_return host.error();
    const std::string wanted = type == ChallengeType::kHttp01 ? "http-01" : "tls-alpn-01";
    const auto ch = challengeOf(*authz, wanted);
    if (!ch)
      co_return acmeError("the server offers no usable " + wanted + " challenge for " + *host);
    const std::string keyAuth = ch->token + "." + accountKey.thumbprint();
    if (type == ChallengeType::kHttp01) {
      sink.publishHttp01(ch->token, keyAuth);
    } else {
      sink.publishTlsAlpn01(*host, keyAuth);
    }
    auto result = co_await respondAndWait(authzUrl, ch->url, deadline);
    if (type == ChallengeType::kHttp01) {
      sink.withdrawHttp01(ch->token);
    } else {
      sink.withdrawTlsAlpn01(*host);
    }
    if (!result) co_return result.error();
    co_return Result<void>{};
  }

  /// Every DNS-01 authorization of an order: all TXT values are published first (the wildcard
  /// and the apex share one name, and a CA may look up both values at once), then each
  /// challenge is answered; the names are withdrawn when this ends.
  net::Task<void> authorizeDns01(std::vector<std::string> authzUrls, std::vector<std::string> names,
                                 Clock::time_point deadline) {
    std::vector<std::pair<std::string, std::string>> todo;  // authorization URL, challenge URL
    std::map<std::string, std::vector<std::string>> txt;    // record name → values
    for (const auto& url : authzUrls) {
      auto r = co_await post(url, kAsGet, false);
      if (!r) co_return r.error();
      if (r->status != 200) co_return acmeError("authorization: " + problemOf(*r));
      auto authz = objectOf(*r, "authorization");
      if (!authz) co_return authz.error();
      if (stringField(*authz, "status") == "valid") continue;
      auto name = identifierOf(*authz, names);
      if (!name) co_return name.error();
      const auto ch = challengeOf(*authz, "dns-01");
      if (!ch) co_return acmeError("the server offers no usable dns-01 challenge for " + *name);
      txt[dns01RecordName(*name)].push_back(
          dns01TxtValue(ch->token + "." + accountKey.thumbprint()));
      todo.emplace_back(url, ch->url);
    }
    Dns01Withdrawal withdrawal(&sink);
    for (const auto& entry : txt) {
      if (!sink.publishDns01) co_return acmeError("no DNS zone to publish dns-01 answers in");
      withdrawal.names.push_back(entry.first);
      if (auto p = sink.publishDns01(entry.first, entry.second); !p) {
        co_return acmeError("publishing TXT " + entry.first + ": " + p.error().message());
      }
    }
    if (sink.awaitDns01) {
      auto everywhere = sink.awaitDns01();
      if (auto w = co_await std::move(everywhere); !w) {
        co_return acmeError("publishing the TXT values: " + w.error().message());
      }
    }
    for (const auto& t : todo) {
      auto result = co_await respondAndWait(t.first, t.second, deadline);
      if (!result) co_return result.error();
    }
    co_return Result<void>{};
  }

  net::Task<void> respondAndWait(std::string authzUrl, std::string chUrl,
                                 Clock::time_point deadline) {
    const std::string empty = "{}";
    auto r = co_await post(chUrl, empty, false);
    if (!r) co_return r.error();
    if (r->status != 200) co_return acmeError("challenge: " + problemOf(*r));
    std::vector<std::string> waiting{"pending", "processing"};
    const std::string what = "authorization";
    auto a = co_await poll(authzUrl, std::move(waiting), deadline, what);
    if (!a) co_return a.error();
    const std::string status = stringField(*a, "status");
    if (status != "valid") {
      std::string why;
      if (const auto* chs = a->if_contains("challenges"); chs != nullptr && chs->is_array()) {
        for (const auto& c : chs->as_array()) {
          const auto* err = c.is_object() ? c.as_object().if_contains("error") : nullptr;
          if (err != nullptr && err->is_object()) {
            why = stringField(err->as_object(), "detail");
          }
        }
      }
      co_return acmeError("authorization " + status + (why.empty() ? "" : ": " + why));
    }
    co_return Result<void>{};
  }

  net::Task<std::string> issue(std::vector<std::string> names, ChallengeType type, EcKey certKey) {
    const auto deadline = Clock::now() + options.orderTimeout;
    const std::string what = joined(names);
    for (const auto& n : names) {
      // A wildcard can only be validated over DNS (RFC 8555 §7.1.3).
      if (!isValidCertName(n) || (n.front() == '*' && type != ChallengeType::kDns01)) {
        co_return fail(Errc::kInvalidArgument, "cannot order a certificate for '" + n + "'");
      }
    }
    if (names.empty()) co_return fail(Errc::kInvalidArgument, "an order needs a name");
    if (auto r = co_await loadDirectory(); !r) co_return r.error();
    if (auto r = co_await ensureAccount(); !r) co_return r.error();
    json::array ids;
    for (const auto& n : names) ids.push_back(json::object{{"type", "dns"}, {"value", n}});
    json::object orderReq;
    orderReq["identifiers"] = std::move(ids);
    const std::string orderBody = json::serialize(orderReq);
    auto r = co_await post(newOrderUrl, orderBody, false);
    if (!r) co_return r.error();
    if (r->status != 201 || r->location.empty()) {
      co_return acmeError("new order for " + what + ": " + problemOf(*r));
    }
    const std::string orderUrl = r->location;
    auto order = objectOf(*r, "order");
    if (!order) co_return order.error();
    const std::string finalizeUrl = stringField(*order, "finalize");
    std::vector<std::string> authzs;
    if (const auto* a = order->if_contains("authorizations"); a != nullptr && a->is_array()) {
      for (const auto& u : a->as_array()) {
        if (u.is_string()) authzs.emplace_back(u.as_string());
      }
    }
    // At most one authorization per name we ordered (a server asking for more is not followed).
    if (finalizeUrl.empty() || authzs.empty() || authzs.size() > names.size()) {
      co_return acmeError("order for " + what + " has no finalize URL or not one authorization " +
                          "per name");
    }
    if (type == ChallengeType::kDns01) {
      if (auto a = co_await authorizeDns01(authzs, names, deadline); !a) co_return a.error();
    } else {
      for (const auto& url : authzs) {
        if (auto a = co_await authorize(url, names, type, deadline); !a) co_return a.error();
      }
    }
    auto csr = makeCsr(names, certKey);
    if (!csr) co_return csr.error();
    co_return co_await finalize(finalizeUrl, orderUrl, *csr, what, deadline);
  }

  /// Finalize with the CSR, wait for the order to be valid, download the chain.
  net::Task<std::string> finalize(std::string finalizeUrl, std::string orderUrl, Bytes csr,
                                  std::string what, Clock::time_point deadline) {
    json::object fin;
    fin["csr"] = pc::base64url::encode(csr);
    const std::string finBody = json::serialize(fin);
    auto f = co_await post(finalizeUrl, finBody, false);
    if (!f) co_return f.error();
    if (f->status != 200) co_return acmeError("finalize: " + problemOf(*f));
    std::vector<std::string> waiting{"pending", "ready", "processing"};
    const std::string orderWhat = "order";
    auto done = co_await poll(orderUrl, std::move(waiting), deadline, orderWhat);
    if (!done) co_return done.error();
    const std::string certUrl = stringField(*done, "certificate");
    if (stringField(*done, "status") != "valid" || certUrl.empty()) {
      co_return acmeError("order for " + what + " ended '" + stringField(*done, "status") + "'");
    }
    auto c = co_await post(certUrl, kAsGet, false);
    if (!c) co_return c.error();
    if (c->status != 200 || c->body.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      co_return acmeError("certificate download: " + problemOf(*c));
    }
    co_return std::move(c->body);
  }
};

Result<std::unique_ptr<AcmeClient>> AcmeClient::create(AcmeOptions options, EcKey accountKey,
                                                       ChallengeSink sink) {
  if (!boost::urls::parse_absolute_uri(options.directoryUrl) ||
      options.directoryUrl.rfind("https://", 0) != 0) {
    return fail(Errc::kInvalidArgument,
                "acme_directory: '" + options.directoryUrl + "' is not an https URL");
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(accountKey), std::move(sink));
  boost::system::error_code ec;
  if (impl->options.caFile.empty()) {
    impl->tls.set_default_verify_paths(ec);
  } else {
    impl->tls.load_verify_file(impl->options.caFile.string(), ec);
  }
  if (ec) {
    return fail(Errc::kInvalidArgument,
                "acme CA " + impl->options.caFile.string() + ": " + ec.message());
  }
  SSL_CTX_set_min_proto_version(impl->tls.native_handle(), TLS1_2_VERSION);
  return std::unique_ptr<AcmeClient>(new AcmeClient(std::move(impl)));
}

AcmeClient::AcmeClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AcmeClient::~AcmeClient() = default;

const std::string& AcmeClient::accountUrl() const { return impl_->kid; }

net::Task<std::string> AcmeClient::issue(std::string host, ChallengeType type, EcKey certKey) {
  return impl_->issue(std::vector<std::string>{std::move(host)}, type, std::move(certKey));
}

net::Task<std::string> AcmeClient::issue(std::vector<std::string> names, ChallengeType type,
                                         EcKey certKey) {
  return impl_->issue(std::move(names), type, std::move(certKey));
}

}  // namespace pc::gateway::acme
