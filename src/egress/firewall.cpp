#include "egress/firewall.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <thread>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "egress/command.hpp"
#include "egress/error.hpp"

namespace pc::egress {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

/// How long the periodic check waits before it looks again at a FORWARD whose jump to the
/// engine's user chain is absent, not first or doubled (the engine's own delete-then-insert
/// around a network it creates takes milliseconds).
constexpr std::chrono::milliseconds kEngineHookSettle{200};

struct FamilyTools {
  Family family;
  std::string save;
  std::string restore;
  PolicyChains policy;
};

class IptablesFirewall final : public Firewall {
 public:
  explicit IptablesFirewall(IptablesOptions o) : options_(std::move(o)) {
    families_.push_back({Family::kV4, options_.iptablesSave, options_.iptablesRestore,
                         renderPolicy(options_.policy, Family::kV4)});
    if (std::filesystem::exists(options_.ipv6Probe)) {
      families_.push_back({Family::kV6, options_.ip6tablesSave, options_.ip6tablesRestore,
                           renderPolicy(options_.policy, Family::kV6)});
    }
  }
  ~IptablesFirewall() override { pool_.join(); }

  Result<void> install() override {
    if (auto c = change({}, {}); !c) return c;
    // Chains of policies this host had before (other settings, older resolvers) that nothing
    // uses any more.
    for (const auto& f : families_) {
      dropUnused(f, [](const std::string& c) {
        return c.starts_with(kPolicyForwardPrefix) || c.starts_with(kPolicyHostPrefix);
      });
    }
    return {};
  }
  awaitable<bool> hasInterface(std::string iface) override {
    std::function<Result<bool>()> job = [this, iface] {
      return Result<bool>(interfaceHere(iface));
    };
    auto r = co_await offload(std::move(job));
    const bool present = r && *r;
    co_return present;
  }
  // (GCC 12: each job is bound to a local before the co_await, never a temporary in it.)
  awaitable<Result<void>> admit(Confinement c) override {
    std::function<Result<void>()> job = [this, c] { return change({c}, {}); };
    co_return co_await offload(std::move(job));
  }
  awaitable<Result<void>> release(std::string id) override {
    std::function<Result<void>()> job = [this, id] { return change({}, {id}); };
    co_return co_await offload(std::move(job));
  }
  awaitable<Result<std::vector<std::string>>> repair(std::vector<Confinement> running) override {
    std::function<Result<std::vector<std::string>>()> job = [this, running] {
      return repairNow(running);
    };
    co_return co_await offload(std::move(job));
  }
  awaitable<Result<bool>> followResolvers(std::vector<Address> now,
                                          std::vector<Confinement> running) override {
    std::function<Result<bool>()> job = [this, now, running] { return resolversNow(now, running); };
    co_return co_await offload(std::move(job));
  }

 private:
  /// Runs on the worker: `ip` in the engine's namespace takes milliseconds to a command timeout.
  [[nodiscard]] bool interfaceHere(const std::string& iface) const {
    // The name is ours (pcd-<base32>), never a path component an attacker controls.
    if (options_.netns.empty()) {
      std::error_code ec;
      return std::filesystem::exists(std::filesystem::path("/sys/class/net") / iface, ec);
    }
    // Our /sys shows our own namespace: ask `ip` inside the engine's.
    auto r = runCommand(inNetns({"ip", "-o", "link", "show", "dev", iface}), "",
                        options_.commandTimeout);
    return r && r->exitCode == 0;
  }

  template <class T>
  awaitable<Result<T>> offload(std::function<Result<T>()> work) {
    // The coroutine runs on the worker; the caller resumes on its own executor.
    auto onWorker = [work]() -> awaitable<Result<T>> { co_return work(); };
    co_return co_await asio::co_spawn(pool_, std::move(onWorker), asio::use_awaitable);
  }

  /// `argv`, run in the engine's network namespace when it is not ours.
  [[nodiscard]] std::vector<std::string> inNetns(std::vector<std::string> argv) const {
    if (options_.netns.empty()) return argv;
    std::vector<std::string> v{"nsenter", "--net=" + options_.netns, "--"};
    v.insert(v.end(), argv.begin(), argv.end());
    return v;
  }

  Result<Table> read(const FamilyTools& f) {
    auto r = runCommand(inNetns({f.save, "-t", "filter"}), "", options_.commandTimeout);
    if (!r) return r.error();
    if (r->exitCode != 0) {
      return fail(Errc::kCommandFailed, f.save + " failed (exit " + std::to_string(r->exitCode) +
                                            "): " + r->err + hint());
    }
    return parseSave(r->out);
  }

  Result<void> write(const FamilyTools& f, const std::string& payload) {
    auto r =
        runCommand(inNetns({f.restore, "-w", "5", "--noflush"}), payload, options_.commandTimeout);
    if (!r) return r.error();
    if (r->exitCode != 0) {
      return fail(Errc::kCommandFailed, f.restore + " refused the egress rules (exit " +
                                            std::to_string(r->exitCode) + "): " + r->err + hint());
    }
    return {};
  }

  static std::string hint() {
    return "; the provider must run as root (or with CAP_NET_ADMIN) to confine deployments";
  }

  Result<void> change(const std::vector<Confinement>& add, const std::vector<std::string>& remove) {
    for (const auto& f : families_) {
      auto t = read(f);
      if (!t) return t.error();
      const std::string payload = plan(*t, f.policy, add, remove, f.family);
      if (!payload.empty()) {
        if (auto w = write(f, payload); !w) return w;
        t = read(f);
        if (!t) return t.error();
      }
      if (auto v = verify(*t, f.policy, add, f.family); !v) return v;
    }
    return {};
  }

  Result<std::vector<std::string>> repairNow(const std::vector<Confinement>& running) {
    std::vector<std::string> missing;
    for (const auto& f : families_) {
      auto t = read(f);
      if (!t) return t.error();
      // The engine deletes and re-inserts FORWARD's jump to its user chain around each network
      // it creates: a jump out of place at one look is looked at again before it is moved.
      if (engineHookMisplaced(*t) && verify(*t, f.policy, running, f.family)) {
        std::this_thread::sleep_for(kEngineHookSettle);
        t = read(f);
        if (!t) return t.error();
      }
      if (auto v = verify(*t, f.policy, running, f.family, true); v)
        continue;
      else
        missing.push_back(v.error().message());
      if (auto w = write(f, plan(*t, f.policy, running, {}, f.family, true)); !w) {
        return w.error();
      }
      t = read(f);
      if (!t) return t.error();
      if (auto v = verify(*t, f.policy, running, f.family, true); !v) return v.error();
    }
    return missing;
  }

  Result<bool> resolversNow(const std::vector<Address>& now,
                            const std::vector<Confinement>& running) {
    if (now.empty() || now == options_.policy.resolvers) return false;
    options_.policy.resolvers = now;
    std::vector<PolicyChains> old;
    for (auto& f : families_) {
      old.push_back(f.policy);
      f.policy = renderPolicy(options_.policy, f.family);
    }
    // The new chains first and every deployment's line moved to them, in one transaction per
    // family; on failure the periodic check keeps trying with the new policy.
    if (auto c = change(running, {}); !c) return c.error();
    for (std::size_t i = 0; i < families_.size(); ++i) {
      dropUnused(families_[i], [&was = old[i]](const std::string& c) {
        return c == was.forward || c == was.host;
      });
    }
    return true;
  }

  /// Deletes the chains `which` picks, other than ours, where nothing jumps to them any more
  /// (another provider on this host may still use one: it stays). One transaction: if a line
  /// came to use one meanwhile, nothing is deleted. Best effort: a leftover chain is unreached.
  void dropUnused(const FamilyTools& f, const std::function<bool(const std::string&)>& which) {
    auto t = read(f);
    if (!t) return;
    std::string payload;
    for (const auto& kv : t->chains) {
      const std::string& c = kv.first;  // (not a structured binding: captured below)
      if (!which(c) || c == f.policy.forward || c == f.policy.host) continue;
      const bool used = std::any_of(t->chains.begin(), t->chains.end(), [&c](const auto& other) {
        return std::any_of(other.second.begin(), other.second.end(), [&c](const std::string& r) {
          return r.ends_with(" -g " + c) || r.ends_with(" -j " + c);
        });
      });
      if (!used) payload += "-F " + c + "\n-X " + c + "\n";
    }
    if (!payload.empty()) (void)write(f, "*filter\n" + payload + "COMMIT\n");
  }

  IptablesOptions options_;
  std::vector<FamilyTools> families_;
  asio::thread_pool pool_{1};
};

}  // namespace

std::unique_ptr<Firewall> makeIptablesFirewall(IptablesOptions options) {
  return std::make_unique<IptablesFirewall>(std::move(options));
}

}  // namespace pc::egress
