#pragma once
/// On-demand certificates for deployment hosts: the gateway's CertResolver in `tls = acme` mode.
///
/// The first TLS handshake for `<deployment-id>.<domain>` with no certificate yet is held while
/// one is issued over ACME (HTTP-01 or TLS-ALPN-01, answered by this gateway), then resumed.
/// Certificates and keys are kept in `<data-dir>/acme/` (keys 0600, the account key too) and
/// loaded at start; a renewal loop re-issues each one `renew_before` its expiry while its
/// deployment is still served.
///
/// Flood guard: a name gets a certificate only while it is a live route of this gateway (random
/// SNI names never reach the CA; a stopped deployment's stored certificate is not served either),
/// orders are placed on the first real client handshake, not when a route registers (a provider
/// cycling deployments spends nothing), each provider — and each developer, across every provider
/// they deploy on — gets a share of the budget (`sharesOf`), at most `maxOrdersPerHour` orders are
/// placed per rolling hour and `maxConcurrentOrders` at once, and a name whose issuance failed
/// waits `retryAfterFailure` (doubling, up to a day) before it is tried again — so a hostile client
/// cannot exhaust the CA's rate limits (which would lock out real deployments) or make the gateway
/// spin.
///
/// With `wildcardDomain` set (acme_challenge = dns-01) there are no per-host orders at all: ONE
/// certificate for `*.<domain>` and `<domain>`, validated over DNS-01 in the gateway's own zone,
/// is ordered at start (unless a stored one is still good for both names), renewed
/// `renew_before` its expiry, kept in `<data-dir>/acme/wildcard/<domain>.{crt,key}` (key 0600)
/// and presented for the apex and every `<label>.<domain>`. No client can make it order
/// anything (orders depend on the clock only), so the per-provider and per-developer shares do
/// not apply to it; a failed order is retried after `retryAfterFailure`, doubling up to a day.
/// With peer gateways (peers.hpp) one gateway of the domain orders it for all: `deferOrder` holds
/// the others back, `onWildcardIssued` shares a new one and `installShared` takes a peer's.
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <string_view>
#include <vector>

#include "gateway/acme.hpp"
#include "gateway/tls.hpp"
#include "net/task_group.hpp"

namespace pc::gateway {

/// One share of the hourly order budget: `key` names whose share it is (e.g. "provider <id>"),
/// `limit` the setting that bounds it (named in the refusal's log line).
struct OrderShare {
  std::string key;
  std::size_t perHour = 0;
  std::string_view limit;
};

struct CertManagerOptions {
  std::filesystem::path dir;  ///< <data-dir>/acme
  acme::AcmeOptions acme;
  acme::ChallengeType challenge = acme::ChallengeType::kHttp01;
  std::chrono::seconds renewBefore{30L * 24 * 3600};
  std::chrono::seconds renewCheckEvery{3600};
  std::size_t maxOrdersPerHour = 20;
  std::size_t maxConcurrentOrders = 2;
  std::chrono::seconds retryAfterFailure{300};
  /// How long a held handshake waits for its certificate.
  std::chrono::seconds handshakeWait{60};
  /// True for names this gateway may obtain (or serve) a certificate for: a live deployment route.
  std::function<bool(const std::string& host)> mayIssue;
  /// A name's orders also count against each of these shares (its provider's, the developer's
  /// who deployed it), so no one provider or developer can spend the whole budget; none: only the
  /// gateway-wide budget.
  std::function<std::vector<OrderShare>(const std::string& host)> sharesOf;
  /// dns-01 mode: the domain of the one wildcard certificate ("" = per-host orders).
  std::string wildcardDomain;
  /// dns-01 with peer gateways: roots (PEM file) a certificate sent by a peer must chain to;
  /// empty: the system's trust store (where a public CA's roots are).
  std::string issuerCaFile;
  /// dns-01 mode: sets / clears the TXT values of a name in the gateway's zone.
  std::function<Result<void>(const std::string& name, const std::vector<std::string>& values)>
      publishTxt;
  std::function<void(const std::string& name)> withdrawTxt;
  /// dns-01 with peer gateways (peers.hpp): waits until the TXT values just published can be
  /// answered by every gateway of the domain (unset: at once).
  std::function<net::Task<void>()> awaitTxt;
  /// dns-01 with peer gateways: why this gateway must not order the wildcard now (another one
  /// orders it, or holds a newer one), nullopt when it may; asked again every `deferRecheck`.
  std::function<std::optional<std::string>()> deferOrder;
  std::chrono::milliseconds deferRecheck{1000};
  /// dns-01: told after this gateway obtained a new wildcard certificate (to share it).
  std::function<void()> onWildcardIssued;
};

/// True when the leaf names every one of `names` exactly (a wildcard as "*.<domain>").
bool namesAll(const CertifiedKey& cert, const std::vector<std::string>& names);

class CertManager final : public CertResolver, public std::enable_shared_from_this<CertManager> {
 public:
  /// Loads (or creates, 0600) the account key and every stored certificate. Errors: a key file
  /// readable by others (with the chmod that fixes it), an unusable account key, a bad ACME
  /// directory URL or CA file.
  static Result<std::shared_ptr<CertManager>> open(const net::asio::any_io_executor& ex,
                                                   CertManagerOptions options);
  ~CertManager() override;

  CertChoice choose(const std::string& sni, bool offersAcmeAlpn) override;
  net::asio::awaitable<bool> waitFor(std::string host) override;

  /// Starts issuance for `host` unless it has a fresh certificate or one is on its way (e.g.
  /// when its route appears, so the first visitor does not wait). False when the guard refuses.
  bool ensure(const std::string& host);
  /// The key authorization to serve at /.well-known/acme-challenge/<token>, if pending.
  /// Renews the stored certificate of `host` when it is due (a route that comes back); places no
  /// order for a name without one. Returns whether an order is in progress.
  bool renewIfDue(const std::string& host);
  [[nodiscard]] std::optional<std::string> http01(std::string_view token) const;
  /// Starts the renewal loop (dns-01 mode: the wildcard's order and renewal loop).
  void start();
  /// Ends the renewal loop and cancels orders in progress; returns at once.
  void stop();
  [[nodiscard]] std::shared_ptr<const CertifiedKey> certificate(const std::string& host) const;
  /// Orders that ended since start (metrics).
  struct OrderCounts {
    std::uint64_t issued = 0;
    std::uint64_t failed = 0;
  };
  [[nodiscard]] const OrderCounts& orderCounts() const { return orderCounts_; }
  /// Every certificate held (name → certificate), for the expiry metric.
  [[nodiscard]] const std::map<std::string, std::shared_ptr<const CertifiedKey>, std::less<>>&
  certificates() const {
    return certs_;
  }

  // ---- dns-01: the wildcard shared with peer gateways (certs_shared.cpp) ----
  /// The wildcard certificate's expiry in unix seconds (0: none).
  [[nodiscard]] std::uint64_t wildcardNotAfter() const;
  /// The wildcard chain and its private key as PEM (nullopt: none, or not dns-01 mode).
  [[nodiscard]] std::optional<std::pair<std::string, std::string>> wildcardPem() const;
  /// A wildcard certificate from a peer gateway (`from` names it in logs). Taken only when it
  /// names both *.<domain> and <domain>, its key is the leaf's, it is valid now, and it expires
  /// later than the one served (a peer cannot roll us back); then stored 0600 like our own and
  /// served. Returns whether it was taken. Errors: not dns-01 mode, what is wrong with it.
  Result<bool> installShared(const std::string& chainPem, const std::string& keyPem,
                             const std::string& from);

 private:
  CertManager(const net::asio::any_io_executor& ex, CertManagerOptions options);
  bool startIssue(const std::string& host, bool renewal);
  /// Within `renewBefore` of its expiry (or past it).
  [[nodiscard]] bool isDue(const CertifiedKey& cert) const;
  net::asio::awaitable<void> issue(std::string host);
  net::asio::awaitable<void> renewLoop();
  void loadStored();
  // dns-01 mode.
  [[nodiscard]] bool wildcardMode() const { return !options_.wildcardDomain.empty(); }
  /// The names of the wildcard certificate: {"*.<domain>", "<domain>"}.
  [[nodiscard]] std::vector<std::string> wildcardNames() const;
  /// True for the apex and `<label>.<domain>`: the names the wildcard certificate is valid for.
  [[nodiscard]] bool underWildcard(std::string_view host) const;
  [[nodiscard]] std::filesystem::path wildcardBase() const;
  CertChoice chooseWildcard(const std::string& sni);
  void loadWildcard();
  net::asio::awaitable<void> orderWildcard(bool renewal);
  /// How long the wildcard loop sleeps after a round: until the certificate is due, the failure
  /// back-off ends, or at most renewCheckEvery.
  [[nodiscard]] std::chrono::milliseconds wildcardWait() const;
  void startWildcardLoop();
  /// True when a peer gateway orders the wildcard (or holds a newer one) instead of us: logged
  /// once per reason.
  bool deferToPeer(const std::string& key);
  /// Saves a new certificate (key first, 0600) at `base`.{key,crt}. Errors: the write.
  static Result<void> store(const std::filesystem::path& base, const acme::EcKey& key,
                            const std::string& chain);
  void noteFailure(const std::string& key, const Error& why);

  net::asio::any_io_executor ex_;
  CertManagerOptions options_;
  std::unique_ptr<acme::AcmeClient> client_;
  std::map<std::string, std::shared_ptr<const CertifiedKey>, std::less<>> certs_;
  std::map<std::string, std::shared_ptr<net::Signal>> pending_;
  struct Failure {
    std::chrono::steady_clock::time_point until;
    std::chrono::seconds backoff{0};
  };
  std::map<std::string, Failure> failures_;
  std::deque<std::chrono::steady_clock::time_point> orders_;
  std::map<std::string, std::deque<std::chrono::steady_clock::time_point>> ordersByShare_;
  bool withinBudget(const std::string& host, std::chrono::steady_clock::time_point now);
  std::map<std::string, std::string, std::less<>> http01_;  // token → key auth
  std::string wildcardChain_;  ///< the wildcard as PEM (what peers are sent)
  std::string wildcardKey_;
  std::string deferredWhy_;  ///< the last reason logged for leaving the order to a peer
  std::map<std::string, std::shared_ptr<const CertifiedKey>, std::less<>> alpn_;  // host → cert
  bool stopped_ = false;
  OrderCounts orderCounts_;
  net::TaskGroup tasks_;  ///< orders in progress and the renewal loop
};

}  // namespace pc::gateway
