#pragma once
/// The Prometheus text exposition of a daemon's metrics, built at scrape time.
///
/// The daemons keep their numbers where they already live (the route table, the host's
/// connections, the scheduler's records) or in plain counters on the request path, all on the
/// daemon's one thread; a scrape (also on that thread) reads them into an `Exposition`, which
/// renders prometheus-cpp-core's data model (`MetricFamily`) with its `TextSerializer` — the
/// library's escaping, number formatting and histogram layout, without its registry's locks on
/// the request path. Families of a `prometheus::Registry` (counters that other threads bump) can
/// be added with `add()`.
///
/// Names follow the Prometheus conventions, checked here: a counter ends in `_total`, units are
/// base units in the name (`_seconds`, `_bytes`), and every name and label is valid (a bad one is
/// a bug, reported by pc::bug()).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "prometheus/metric_family.h"

namespace pc::admin {

using Labels = std::vector<std::pair<std::string, std::string>>;

/// Bucket counts of observations, for one thread (no atomics, no lock: the daemon's request path
/// and its scrape run on the same thread).
class Histogram {
 public:
  /// `bounds`: the upper bounds of the buckets, increasing (+Inf is implied).
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  [[nodiscard]] const std::vector<double>& bounds() const { return bounds_; }
  /// Observations per bucket (not cumulative); one more than bounds(): the +Inf bucket.
  [[nodiscard]] const std::vector<std::uint64_t>& counts() const { return counts_; }
  [[nodiscard]] double sum() const { return sum_; }
  [[nodiscard]] std::uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

/// Durations of requests and operations, in seconds: 5 ms … 60 s.
std::vector<double> latencyBuckets();

/// Series keyed by a label value, at most `max` of them: values past the bound share one entry
/// labelled kOtherLabel, so a peer that makes up deployment ids cannot grow the exposition
/// (or a Prometheus server's memory) without bound. Entries are shared: a holder (a connection
/// that looked its series up once) keeps counting into its entry even after drop().
inline constexpr const char* kOtherLabel = "other";
template <class T>
class BoundedSeries {
 public:
  explicit BoundedSeries(std::size_t max) : max_(max), other_(std::make_shared<T>()) {}
  /// The entry of `value`: its own while fewer than `max` values are kept, else the shared one.
  std::shared_ptr<T> get(const std::string& value) {
    if (auto it = byValue_.find(value); it != byValue_.end()) {
      return it->second;
    }
    if (byValue_.size() >= max_) {
      return other_;
    }
    return byValue_.emplace(value, std::make_shared<T>()).first->second;
  }
  /// Forgets the entries whose value `keep` rejects (e.g. a deployment without a route): their
  /// series leave the exposition and their room goes to new values.
  template <class Keep>
  void retain(Keep keep) {
    std::erase_if(byValue_, [&](const auto& kv) { return !keep(kv.first); });
  }
  [[nodiscard]] std::size_t size() const { return byValue_.size(); }
  [[nodiscard]] std::size_t max() const { return max_; }
  /// Calls f(label, entry) for each kept value, then for kOtherLabel.
  template <class F>
  void forEach(F f) const {
    for (const auto& [k, v] : byValue_) {
      f(k, *v);
    }
    f(std::string(kOtherLabel), *other_);
  }
  /// Calls f(entry) for each kept entry and the shared one, mutably.
  template <class F>
  void forEachEntry(F f) {
    for (auto& [k, v] : byValue_) {
      f(*v);
    }
    f(*other_);
  }

 private:
  std::size_t max_;
  std::map<std::string, std::shared_ptr<T>> byValue_;
  std::shared_ptr<T> other_;
};

class Exposition {
 public:
  /// Adds a sample to the family `name` (created with `help` at its first sample). Calling one
  /// name with two types is a bug.
  void counter(const std::string& name, const std::string& help, double value, Labels labels = {});
  void gauge(const std::string& name, const std::string& help, double value, Labels labels = {});
  void histogram(const std::string& name, const std::string& help, const Histogram& h,
                 Labels labels = {});
  /// Declares a family with no samples yet (so it is listed, with its HELP and TYPE, before the
  /// first event).
  void declare(const std::string& name, const std::string& help, prometheus::MetricType type);
  /// Families collected elsewhere (e.g. prometheus::Registry::Collect()).
  void add(std::vector<prometheus::MetricFamily> families);
  /// The text format (version 0.0.4).
  [[nodiscard]] std::string text() const;
  [[nodiscard]] const std::vector<prometheus::MetricFamily>& families() const { return families_; }

  /// The Content-Type of text().
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  prometheus::MetricFamily& family(const std::string& name, const std::string& help,
                                   prometheus::MetricType type);
  std::vector<prometheus::MetricFamily> families_;
  std::map<std::string, std::size_t> index_;
};

}  // namespace pc::admin
