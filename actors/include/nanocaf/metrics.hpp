// Counters, gauges and histograms with labels, rendered in the Prometheus text format.
// Updating one is a relaxed atomic add: the hot path looks a labelled child up once (at
// registration or connection time) and keeps the reference, which stays valid as long as
// the registry lives.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace nanocaf::metrics {

class counter {
public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> value_{0};
};

class gauge {
public:
  void add(std::int64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  void sub(std::int64_t n = 1) noexcept { value_.fetch_sub(n, std::memory_order_relaxed); }
  void set(std::int64_t n) noexcept { value_.store(n, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::int64_t> value_{0};
};

/// Observations in seconds; buckets are upper bounds (cumulative when rendered).
class histogram {
public:
  explicit histogram(std::vector<double> upper_bounds);
  void observe(double seconds) noexcept;

  const std::vector<double>& upper_bounds() const noexcept { return bounds_; }
  /// Per-bucket (not cumulative) counts; the last one is +Inf.
  std::vector<std::uint64_t> bucket_counts() const;
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

  /// 50 us .. 10 s: handler and RPC latencies.
  static std::vector<double> latency_buckets();

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_; // bounds_.size() + 1
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

enum class kind { counter, gauge, histogram };

/// One metric name with its help text and label names; children per label values.
template <class Metric>
class family {
public:
  family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<Metric>()> make)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)),
      make_(std::move(make)) {}

  /// The child for these label values (as many as label names), created on first use.
  Metric& with(const std::vector<std::string>& label_values);
  /// The child of a family without labels.
  Metric& get() { return with({}); }

  const std::string& name() const noexcept { return name_; }
  const std::string& help() const noexcept { return help_; }
  const std::vector<std::string>& label_names() const noexcept { return label_names_; }
  /// Calls `fn(label_values, metric)` for every child, in label order.
  void each(const std::function<void(const std::vector<std::string>&, const Metric&)>& fn) const;

private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<Metric>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

extern template class family<counter>;
extern template class family<gauge>;
extern template class family<histogram>;

/// Every metric of a node. Thread-safe; render() may run while others update.
class registry {
public:
  registry();
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  /// Declares (or finds, when already declared with the same kind) a family. Names follow
  /// Prometheus rules; counters should end in _total. Throws std::invalid_argument on a
  /// bad name or a name already used by another kind.
  family<counter>& counters(const std::string& name, const std::string& help,
                            std::vector<std::string> label_names = {});
  family<gauge>& gauges(const std::string& name, const std::string& help,
                        std::vector<std::string> label_names = {});
  family<histogram>& histograms(const std::string& name, const std::string& help,
                                std::vector<std::string> label_names = {},
                                std::vector<double> upper_bounds = histogram::latency_buckets());
  /// A gauge read when scraped (fn must be thread-safe and cheap). Replaces one of the same
  /// name: a restarted component re-registers its own.
  void gauge_callback(const std::string& name, const std::string& help, std::function<double()> fn);
  /// Removes a callback gauge (its owner is going away).
  void remove_callback(const std::string& name);

  /// The Prometheus text exposition format (version 0.0.4), including process_* metrics.
  std::string render() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace nanocaf::metrics
