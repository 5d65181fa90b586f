#include "gateway/certs.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>

#include "core/fs.hpp"
#include "core/time.hpp"
#include "net/watchdog.hpp"

namespace pc::gateway {

namespace asio = net::asio;
using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

namespace {

constexpr std::size_t kMaxPemBytes = 1 << 20;
constexpr std::chrono::hours kMaxFailureBackoff{24};

/// Reads a PEM file holding a private key, refusing one that others can read (a leaked
/// certificate key lets anyone impersonate the deployment's host).
Result<std::string> readPrivateFile(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    return fail(Errc::kPermissions,
                p.string() + " is readable by other users; run: chmod 600 " + p.string());
  }
  return fs::readFile(p, kMaxPemBytes);
}

}  // namespace

bool namesAll(const CertifiedKey& cert, const std::vector<std::string>& names) {
  const auto have = cert.dnsNames();
  return std::all_of(names.begin(), names.end(), [&have](const std::string& n) {
    return std::find(have.begin(), have.end(), n) != have.end();
  });
}

CertManager::CertManager(const asio::any_io_executor& ex, CertManagerOptions options)
    : ex_(ex), options_(std::move(options)), tasks_(ex) {}

CertManager::~CertManager() = default;

Result<std::shared_ptr<CertManager>> CertManager::open(const asio::any_io_executor& ex,
                                                       CertManagerOptions options) {
  if (auto r = fs::ensurePrivateDir(options.dir / "certs"); !r) return r.error();
  // Said at start, not at the first certificate a peer sends (weeks later, at a renewal).
  if (std::error_code ec; !options.issuerCaFile.empty() &&
                          !std::filesystem::is_regular_file(options.issuerCaFile, ec)) {
    return fail(Errc::kInvalidArgument, "acme_issuer_ca: no such file " + options.issuerCaFile);
  }
  const auto accountPath = options.dir / "account.key";
  std::optional<acme::EcKey> account;
  if (std::filesystem::exists(accountPath)) {
    auto pem = readPrivateFile(accountPath);
    if (!pem) return pem.error();
    auto k = acme::EcKey::fromPem(*pem);
    if (!k) {
      return Error(k.error().code(), "ACME account key " + accountPath.string() + ": " +
                                         k.error().message() +
                                         " (move it away to register a new account)");
    }
    account = std::move(*k);
  } else {
    auto k = acme::EcKey::generate();
    if (!k) return k.error();
    if (auto w = fs::writeFileAtomic(accountPath, k->toPem(), 0600); !w) return w.error();
    account = std::move(*k);
  }
  std::shared_ptr<CertManager> m(new CertManager(ex, std::move(options)));
  CertManager* raw = m.get();  // the client is owned by the manager: it never outlives it
  acme::ChallengeSink sink;
  sink.publishHttp01 = [raw](const std::string& token, const std::string& keyAuth) {
    raw->http01_[token] = keyAuth;
  };
  sink.withdrawHttp01 = [raw](const std::string& token) { raw->http01_.erase(token); };
  sink.publishTlsAlpn01 = [raw](const std::string& host, const std::string& keyAuth) {
    auto key = acme::EcKey::generate();
    if (!key) return;
    auto pem = acme::makeAlpnChallengeCert(host, keyAuth, *key);
    if (!pem) {
      spdlog::warn("acme: challenge certificate for {}: {}", host, pem.error().message());
      return;
    }
    auto ck = CertifiedKey::fromPem(*pem, key->toPem());
    if (ck) raw->alpn_[host] = *ck;
  };
  sink.withdrawTlsAlpn01 = [raw](const std::string& host) { raw->alpn_.erase(host); };
  sink.publishDns01 = [raw](const std::string& name, const std::vector<std::string>& values) {
    if (!raw->options_.publishTxt) return Result<void>(fail(Errc::kInvalidArgument, "no DNS zone"));
    return raw->options_.publishTxt(name, values);
  };
  sink.withdrawDns01 = [raw](const std::string& name) {
    if (raw->options_.withdrawTxt) raw->options_.withdrawTxt(name);
  };
  sink.awaitDns01 = m->options_.awaitTxt;
  auto client = acme::AcmeClient::create(m->options_.acme, std::move(*account), std::move(sink));
  if (!client) return client.error();
  m->client_ = std::move(*client);
  if (m->wildcardMode()) {
    m->loadWildcard();
  } else {
    m->loadStored();
  }
  return m;
}

void CertManager::loadStored() {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(options_.dir / "certs", ec)) {
    if (e.path().extension() != ".crt") continue;
    const std::string host = e.path().stem().string();
    auto chain = fs::readFile(e.path(), kMaxPemBytes);
    auto keyPath = e.path();
    keyPath.replace_extension(".key");
    auto key = readPrivateFile(keyPath);
    Result<std::shared_ptr<const CertifiedKey>> ck =
        chain && key
            ? CertifiedKey::fromPem(*chain, *key)
            : Result<std::shared_ptr<const CertifiedKey>>(chain ? key.error() : chain.error());
    // A damaged pair is skipped (a new certificate will be issued on demand), never served.
    if (!ck || !(*ck)->covers(host)) {
      spdlog::warn("acme: ignoring stored certificate {}: {}", e.path().string(),
                   ck ? "it does not cover " + host : ck.error().message());
      continue;
    }
    certs_[host] = *ck;
  }
  if (!certs_.empty()) spdlog::info("acme: {} stored certificate(s) loaded", certs_.size());
}

std::shared_ptr<const CertifiedKey> CertManager::certificate(const std::string& host) const {
  if (wildcardMode() && !underWildcard(host)) return nullptr;
  auto it = certs_.find(wildcardMode() ? wildcardNames().front() : host);
  return it == certs_.end() ? nullptr : it->second;
}

std::optional<std::string> CertManager::http01(std::string_view token) const {
  auto it = http01_.find(token);
  if (it == http01_.end()) return std::nullopt;
  return it->second;
}

CertChoice CertManager::choose(const std::string& sni, bool offersAcmeAlpn) {
  CertChoice c;
  if (sni.empty()) return c;  // no default certificate: every deployment has its own name
  if (offersAcmeAlpn) {
    // Only a pending TLS-ALPN-01 answer is ever presented to an acme-tls/1 client.
    if (auto it = alpn_.find(sni); it != alpn_.end()) {
      c.kind = CertChoice::Kind::kUse;
      c.cert = it->second;
      c.acmeAlpn = true;
    }
    return c;
  }
  if (wildcardMode()) return chooseWildcard(sni);
  // A stored certificate is served only while its name is a live route: a stopped deployment's
  // host must not keep answering TLS as if it were served.
  if (!options_.mayIssue || !options_.mayIssue(sni)) return c;
  if (auto it = certs_.find(sni);
      it != certs_.end() && it->second->notAfter() > SystemClock::now()) {
    c.kind = CertChoice::Kind::kUse;
    c.cert = it->second;
    return c;
  }
  if (startIssue(sni, false)) c.kind = CertChoice::Kind::kWait;
  return c;
}

asio::awaitable<bool> CertManager::waitFor(std::string host) {
  if (wildcardMode()) host = wildcardNames().front();  // every name waits for the one order
  const auto deadline = SteadyClock::now() + options_.handshakeWait;
  for (;;) {
    if (auto c = certs_.find(host);
        c != certs_.end() && c->second->notAfter() > SystemClock::now()) {
      co_return true;
    }
    auto it = pending_.find(host);
    const auto now = SteadyClock::now();
    if (it == pending_.end() || now >= deadline) co_return false;
    std::shared_ptr<net::Signal> sig = it->second;
    net::Watchdog dog(ex_, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now),
                      [sig] { sig->notify(); });
    co_await sig->wait();
  }
}

bool CertManager::isDue(const CertifiedKey& cert) const {
  return cert.notAfter() - options_.renewBefore <= SystemClock::now();
}

bool CertManager::renewIfDue(const std::string& host) {
  if (wildcardMode()) return false;  // the wildcard loop renews; no per-host orders
  auto c = certs_.find(host);
  if (c == certs_.end() || !isDue(*c->second)) return false;
  return startIssue(host, true);
}

bool CertManager::ensure(const std::string& host) {
  if (wildcardMode()) return certificate(host) != nullptr;  // never a per-host order
  if (auto c = certs_.find(host); c != certs_.end() && !isDue(*c->second)) return true;
  return startIssue(host, false);
}

bool CertManager::withinBudget(const std::string& host, std::chrono::steady_clock::time_point now) {
  auto prune = [now](std::deque<std::chrono::steady_clock::time_point>& q) {
    while (!q.empty() && now - q.front() > std::chrono::hours(1)) q.pop_front();
  };
  prune(orders_);
  if (orders_.size() >= options_.maxOrdersPerHour) {
    spdlog::warn(
        "acme: not ordering a certificate for {}: {} orders in the last hour "
        "(max_orders_per_hour)",
        host, orders_.size());
    return false;
  }
  if (!options_.sharesOf) return true;
  // Each share: one provider's deploy/stop cycles (or ids it mints), or one developer's across
  // many providers, cannot use up the budget everyone else's deployments need.
  for (const auto& share : options_.sharesOf(host)) {
    std::size_t used = 0;
    if (auto it = ordersByShare_.find(share.key); it != ordersByShare_.end()) {
      prune(it->second);
      used = it->second.size();
      if (used == 0) ordersByShare_.erase(it);  // keys of past orders do not pile up
    }
    if (used >= share.perHour) {
      spdlog::warn(
          "acme: not ordering a certificate for {}: {} placed {} orders in the last hour ({})",
          host, share.key, used, share.limit);
      return false;
    }
  }
  return true;
}

bool CertManager::startIssue(const std::string& host, bool renewal) {
  if (pending_.count(host) != 0) return true;
  // Names that are not live routes never reach the CA: a client sending random SNI names must
  // not be able to spend the CA's rate limits.
  if (!acme::isValidHostName(host) || !options_.mayIssue || !options_.mayIssue(host)) {
    return false;
  }
  const auto now = SteadyClock::now();
  if (auto f = failures_.find(host); f != failures_.end() && now < f->second.until) return false;
  if (!withinBudget(host, now)) return false;
  if (pending_.size() >= options_.maxConcurrentOrders) {
    spdlog::warn("acme: not ordering a certificate for {}: {} orders already in progress", host,
                 pending_.size());
    return false;
  }
  orders_.push_back(now);
  if (options_.sharesOf) {
    for (const auto& share : options_.sharesOf(host)) ordersByShare_[share.key].push_back(now);
  }
  pending_[host] = std::make_shared<net::Signal>(ex_);
  spdlog::info("acme: {} a certificate for {}", renewal ? "renewing" : "ordering", host);
  tasks_.spawn(issue(host));
  return true;
}

asio::awaitable<void> CertManager::issue(std::string host) {
  auto self = shared_from_this();
  auto key = acme::EcKey::generate();
  Result<std::string> chain = key.error();
  if (key) {
    const auto type = options_.challenge;
    chain = co_await client_->issue(host, type, *key);
  }
  Result<std::shared_ptr<const CertifiedKey>> ck =
      chain ? CertifiedKey::fromPem(*chain, key->toPem())
            : Result<std::shared_ptr<const CertifiedKey>>(chain.error());
  if (ck && !(*ck)->covers(host)) {
    ck = fail(Errc::kMalformed, "the issued certificate does not cover " + host);
  }
  if (ck) {
    if (auto w = store(options_.dir / "certs" / host, *key, *chain); !w) {
      spdlog::warn("acme: certificate for {} not saved: {}", host, w.error().message());
    }
    certs_[host] = *ck;
    failures_.erase(host);
    ++orderCounts_.issued;
    const std::string when = time::formatRfc3339((*ck)->notAfter());
    spdlog::info("acme: certificate for {} issued (serial {}, valid until {})", host,
                 (*ck)->serialHex(), when);
  } else {
    noteFailure(host, ck.error());
  }
  if (auto it = pending_.find(host); it != pending_.end()) {
    auto sig = it->second;
    pending_.erase(it);
    sig->notify();
  }
}

Result<void> CertManager::store(const std::filesystem::path& base, const acme::EcKey& key,
                                const std::string& chain) {
  auto keyPath = base;
  keyPath += ".key";
  auto crtPath = base;
  crtPath += ".crt";
  // Key first: a crash in between leaves a key without a certificate (ignored at start), never
  // a certificate with the wrong key.
  auto w = fs::writeFileAtomic(keyPath, key.toPem(), 0600);
  if (w) w = fs::writeFileAtomic(crtPath, chain, 0600);
  return w;
}

void CertManager::noteFailure(const std::string& key, const Error& why) {
  ++orderCounts_.failed;
  auto& f = failures_[key];
  f.backoff = f.backoff.count() == 0
                  ? options_.retryAfterFailure
                  : std::min<std::chrono::seconds>(f.backoff * 2, kMaxFailureBackoff);
  f.until = SteadyClock::now() + f.backoff;
  spdlog::warn("acme: no certificate for {}: {} (next attempt in {} s at the earliest)", key,
               why.message(), f.backoff.count());
}

void CertManager::start() {
  if (wildcardMode()) {
    startWildcardLoop();
    return;
  }
  // A weak share: the loop must not keep the manager alive; stop() cancels it.
  std::weak_ptr<CertManager> weak = shared_from_this();
  const auto every =
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.renewCheckEvery);
  tasks_.spawn([weak, every, ex = ex_]() -> asio::awaitable<void> {
    asio::steady_timer timer(ex);
    // At start (stored certificates may be due) and then every `every`.
    for (;;) {
      {
        auto self = weak.lock();
        if (!self || self->stopped_) co_return;
        std::vector<std::string> due;
        for (const auto& [host, cert] : self->certs_) {
          if (self->isDue(*cert)) due.push_back(host);
        }
        for (const auto& h : due) self->startIssue(h, true);
      }
      timer.expires_after(every);
      co_await timer.async_wait(net::kNoThrow);
    }
  });
}

std::vector<std::string> CertManager::wildcardNames() const {
  return {"*." + options_.wildcardDomain, options_.wildcardDomain};
}

bool CertManager::underWildcard(std::string_view host) const {
  const std::string_view d = options_.wildcardDomain;
  if (host == d) return true;
  if (host.size() <= d.size() + 1 || host.substr(host.size() - d.size()) != d ||
      host[host.size() - d.size() - 1] != '.') {
    return false;
  }
  // A wildcard stands for exactly one label (RFC 6125 §6.4.3).
  return host.substr(0, host.size() - d.size() - 1).find('.') == std::string_view::npos;
}

std::filesystem::path CertManager::wildcardBase() const {
  return options_.dir / "wildcard" / options_.wildcardDomain;
}

CertChoice CertManager::chooseWildcard(const std::string& sni) {
  CertChoice c;
  // Names outside the zone get nothing. Names inside all get the one certificate: whatever a
  // client sends, no order follows (orders depend on the clock only), so there is no flood to
  // guard against here.
  if (!underWildcard(sni)) return c;
  const std::string key = wildcardNames().front();
  if (auto it = certs_.find(key);
      it != certs_.end() && it->second->notAfter() > SystemClock::now()) {
    c.kind = CertChoice::Kind::kUse;
    c.cert = it->second;
  } else if (pending_.count(key) != 0) {
    c.kind = CertChoice::Kind::kWait;  // the first order (or the renewal of an expired one)
  }
  return c;
}

void CertManager::loadWildcard() {
  const auto base = wildcardBase();
  auto crtPath = base;
  crtPath += ".crt";
  auto keyPath = base;
  keyPath += ".key";
  if (!std::filesystem::exists(crtPath)) return;
  auto chain = fs::readFile(crtPath, kMaxPemBytes);
  auto key = readPrivateFile(keyPath);
  Result<std::shared_ptr<const CertifiedKey>> ck =
      chain && key
          ? CertifiedKey::fromPem(*chain, *key)
          : Result<std::shared_ptr<const CertifiedKey>>(chain ? key.error() : chain.error());
  const auto names = wildcardNames();
  // A certificate for other names (the domain changed) or a damaged pair is not served; a new
  // one is ordered at start.
  if (ck && !namesAll(**ck, names))
    ck = fail(Errc::kMalformed, "it does not name " + names[0] + " and " + names[1]);
  if (!ck) {
    spdlog::warn("acme: ignoring stored certificate {}: {}", crtPath.string(),
                 ck.error().message());
    return;
  }
  certs_[names.front()] = *ck;
  wildcardChain_ = std::move(*chain);
  wildcardKey_ = std::move(*key);
  const std::string when = time::formatRfc3339((*ck)->notAfter());
  spdlog::info("acme: stored certificate for {} and {} loaded (serial {}, valid until {})",
               names[0], names[1], (*ck)->serialHex(), when);
}

asio::awaitable<void> CertManager::orderWildcard(bool renewal) {
  const auto names = wildcardNames();
  const std::string key = names.front();
  pending_[key] = std::make_shared<net::Signal>(ex_);
  spdlog::info("acme: {} the certificate for {} and {} (dns-01)", renewal ? "renewing" : "ordering",
               names[0], names[1]);
  auto certKey = acme::EcKey::generate();
  Result<std::string> chain = certKey.error();
  if (certKey) {
    std::vector<std::string> order = names;
    const auto type = acme::ChallengeType::kDns01;
    chain = co_await client_->issue(std::move(order), type, *certKey);
  }
  Result<std::shared_ptr<const CertifiedKey>> ck =
      chain ? CertifiedKey::fromPem(*chain, certKey->toPem())
            : Result<std::shared_ptr<const CertifiedKey>>(chain.error());
  if (ck && !namesAll(**ck, names)) {
    ck = fail(Errc::kMalformed, "the issued certificate does not name " + key + " and " + names[1]);
  }
  if (ck) {
    auto w = fs::ensurePrivateDir(options_.dir / "wildcard");
    if (w) w = store(wildcardBase(), *certKey, *chain);
    if (!w) spdlog::warn("acme: certificate for {} not saved: {}", key, w.error().message());
    certs_[key] = *ck;
    wildcardChain_ = *chain;
    wildcardKey_ = certKey->toPem();
    failures_.erase(key);
    ++orderCounts_.issued;
    const std::string when = time::formatRfc3339((*ck)->notAfter());
    spdlog::info("acme: certificate for {} and {} issued (serial {}, valid until {})", names[0],
                 names[1], (*ck)->serialHex(), when);
    if (options_.onWildcardIssued) options_.onWildcardIssued();
    if (isDue(**ck)) {
      spdlog::warn(
          "acme: acme_renew_before is not shorter than the certificate's life: it is renewed "
          "every {} s",
          options_.renewCheckEvery.count());
    }
  } else {
    noteFailure(key, ck.error());
  }
  if (auto it = pending_.find(key); it != pending_.end()) {
    auto sig = it->second;
    pending_.erase(it);
    sig->notify();
  }
}

std::chrono::milliseconds CertManager::wildcardWait() const {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const auto most = duration_cast<milliseconds>(options_.renewCheckEvery);
  const std::string key = wildcardNames().front();
  if (auto f = failures_.find(key); f != failures_.end() && SteadyClock::now() < f->second.until) {
    return std::min(most, duration_cast<milliseconds>(f->second.until - SteadyClock::now()));
  }
  if (auto c = certs_.find(key); c != certs_.end() && !isDue(*c->second)) {
    const auto due = c->second->notAfter() - options_.renewBefore;
    // A second past the due time; re-checked at least every renewCheckEvery (clock changes).
    return std::min(most,
                    duration_cast<milliseconds>(due - SystemClock::now()) + milliseconds(1000));
  }
  return most;  // due right after an order: renew_before is not shorter than the life
}

void CertManager::startWildcardLoop() {
  // A weak share: the loop must not keep the manager alive; stop() cancels it.
  std::weak_ptr<CertManager> weak = shared_from_this();
  tasks_.spawn([weak, ex = ex_]() -> asio::awaitable<void> {
    asio::steady_timer timer(ex);
    for (;;) {
      std::chrono::milliseconds wait{0};
      {
        auto self = weak.lock();
        if (!self || self->stopped_) co_return;
        const std::string key = self->wildcardNames().front();
        const auto c = self->certs_.find(key);
        const auto f = self->failures_.find(key);
        const bool backingOff = f != self->failures_.end() && SteadyClock::now() < f->second.until;
        bool deferred = false;
        if ((c == self->certs_.end() || self->isDue(*c->second)) && !backingOff) {
          deferred = self->deferToPeer(key);
          const bool renewal = c != self->certs_.end();
          if (!deferred) co_await self->orderWildcard(renewal);
        }
        if (self->stopped_) co_return;
        wait = deferred ? self->options_.deferRecheck : self->wildcardWait();
      }
      timer.expires_after(wait);
      co_await timer.async_wait(net::kNoThrow);
    }
  });
}

void CertManager::stop() {
  stopped_ = true;
  tasks_.cancel();
}

}  // namespace pc::gateway
