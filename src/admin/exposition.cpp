#include "admin/exposition.hpp"

#include <algorithm>
#include <limits>
#include <sstream>

#include "core/invariant.hpp"
#include "prometheus/check_names.h"
#include "prometheus/text_serializer.h"

namespace pc::admin {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {
  invariant(std::is_sorted(bounds_.begin(), bounds_.end()), "histogram bounds must increase");
}

void Histogram::observe(double value) {
  // lower_bound: a value equal to a bound belongs to that bucket (le = "less or equal").
  const auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                          bounds_.begin());
  ++counts_[i];
  sum_ += value;
  ++count_;
}

std::vector<double> latencyBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

namespace {

bool endsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<prometheus::ClientMetric::Label> toLabels(Labels labels) {
  std::vector<prometheus::ClientMetric::Label> out;
  out.reserve(labels.size());
  for (auto& [k, v] : labels) {
    invariant(prometheus::CheckLabelName(k), "metric label name");
    out.push_back({std::move(k), std::move(v)});
  }
  return out;
}

}  // namespace

prometheus::MetricFamily& Exposition::family(const std::string& name, const std::string& help,
                                             prometheus::MetricType type) {
  if (auto it = index_.find(name); it != index_.end()) {
    auto& f = families_[it->second];
    invariant(f.type == type, "one metric name, two types");
    return f;
  }
  invariant(prometheus::CheckMetricName(name), "metric name");
  // Conventions: a counter counts something (`_total`); nothing else pretends to.
  invariant(endsWith(name, "_total") == (type == prometheus::MetricType::Counter),
            "a counter's name ends in _total, and only a counter's");
  index_.emplace(name, families_.size());
  families_.push_back(prometheus::MetricFamily{name, help, type, {}});
  return families_.back();
}

void Exposition::declare(const std::string& name, const std::string& help,
                         prometheus::MetricType type) {
  (void)family(name, help, type);
}

void Exposition::counter(const std::string& name, const std::string& help, double value,
                         Labels labels) {
  prometheus::ClientMetric m;
  m.label = toLabels(std::move(labels));
  m.counter.value = value;
  family(name, help, prometheus::MetricType::Counter).metric.push_back(std::move(m));
}

void Exposition::gauge(const std::string& name, const std::string& help, double value,
                       Labels labels) {
  prometheus::ClientMetric m;
  m.label = toLabels(std::move(labels));
  m.gauge.value = value;
  family(name, help, prometheus::MetricType::Gauge).metric.push_back(std::move(m));
}

void Exposition::histogram(const std::string& name, const std::string& help, const Histogram& h,
                           Labels labels) {
  prometheus::ClientMetric m;
  m.label = toLabels(std::move(labels));
  m.histogram.sample_count = h.count();
  m.histogram.sample_sum = h.sum();
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < h.bounds().size(); ++i) {
    cumulative += h.counts()[i];
    m.histogram.bucket.push_back({cumulative, h.bounds()[i]});
  }
  m.histogram.bucket.push_back({h.count(), std::numeric_limits<double>::infinity()});
  family(name, help, prometheus::MetricType::Histogram).metric.push_back(std::move(m));
}

void Exposition::add(std::vector<prometheus::MetricFamily> families) {
  for (auto& f : families) {
    invariant(!index_.contains(f.name), "metric family added twice");
    index_.emplace(f.name, families_.size());
    families_.push_back(std::move(f));
  }
}

std::string Exposition::text() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families_);
  return out.str();
}

}  // namespace pc::admin
