#pragma once
/// The provider's deployment records in SQLite (`<data-dir>/provider.db`, table `deployments`).
///
/// Every state change is committed (synchronous=FULL) before the provider acts on it or answers,
/// so a crash at any point leaves a record from which the restart can reconcile: the record is
/// written as `pending` before anything is pulled or created, and the container carries the
/// deployment id as a label.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "egress/policy.hpp"
#include "protocol/messages.hpp"

struct sqlite3;

namespace pc::provider {

struct Deployment {
  std::string id;         ///< dep-<16 base32>, minted from idSalt (protocol::deploymentIdFor)
  std::string idSalt;     ///< proves to a gateway that this provider minted `id`
  std::string requester;  ///< PeerId (base58) of the peer that deployed it; only it may manage it
  std::string image;
  std::uint32_t cpuMillis = 0;
  std::uint64_t memoryBytes = 0;
  std::optional<std::uint16_t> exposePort;
  protocol::DeploymentState state = protocol::DeploymentState::kPending;
  std::string containerId;
  std::optional<std::uint16_t> hostPort;  ///< 127.0.0.1 port of the exposed container port
  std::optional<std::string> url;         ///< the first public URL (else the loopback one)
  /// The other public URLs, when the gateways answered different ones (gateways of different
  /// domains); empty otherwise.
  std::vector<std::string> moreUrls;
  std::int64_t createdAtMs = 0;
  std::optional<std::int64_t> startedAtMs;
  std::optional<std::int64_t> finishedAtMs;
  std::optional<std::int64_t> exitCode;
  bool oomKilled = false;
  std::string error;  ///< why it failed (empty otherwise)
  /// What the request allowed the container to open (the provider's policy narrows it).
  egress::Mode network = egress::Mode::kInternet;

  /// True while it holds (or may soon hold) capacity: pending … stopping.
  [[nodiscard]] bool active() const;
  /// `url`, then `moreUrls` (empty without a URL).
  [[nodiscard]] std::vector<std::string> urls() const;
  /// Sets `url` to the first of `urls` and `moreUrls` to the rest; an empty list changes
  /// nothing (no gateway answered: the URL it had stands).
  void setUrls(const std::vector<std::string>& urls);
  /// Forgets every URL (it no longer runs, or runs on another port).
  void clearUrls() {
    url.reset();
    moreUrls.clear();
  }
};

class Store {
 public:
  static constexpr const char* kFileName = "provider.db";
  /// Opens or creates the database and checks its integrity. A database that cannot be read is
  /// an error whose message says how to recover (never silently a fresh, empty one).
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// Inserts or replaces the record (committed before returning).
  Result<void> put(const Deployment& d);
  Result<std::optional<Deployment>> get(const std::string& id);
  /// All records, newest first.
  Result<std::vector<Deployment>> list();

  /// Images this provider pulled (table `pulled_images`: reference → size in bytes). Only these
  /// are ever removed when no deployment uses them; an image the engine had before is never
  /// recorded. Errors: kStorage.
  Result<void> putPulledImage(const std::string& image, std::uint64_t bytes);
  Result<void> deletePulledImage(const std::string& image);
  Result<std::map<std::string, std::uint64_t>> pulledImages();

 private:
  explicit Store(sqlite3* db) : db_(db) {}
  static Result<std::unique_ptr<Store>> openFile(const std::filesystem::path& path,
                                                 const std::string& recover);
  Result<void> exec(const char* sql);
  Result<void> addColumnIfMissing(const char* column, const char* definition);
  sqlite3* db_;
  std::mutex mutex_;
};

}  // namespace pc::provider
