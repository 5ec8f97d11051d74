#pragma once
// A small Prometheus metrics registry: counters, gauges and histograms, registered once at
// start-up and updated lock-free from any thread; render() writes the text exposition
// format (version 0.0.4). Families group series of one name with different label sets.
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace ipx::gateway {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }
  // A counter mirrored from another component's monotonic count (set by a collector).
  void set(std::uint64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void add(std::int64_t n) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  void inc() noexcept { add(1); }
  void dec() noexcept { add(-1); }
  void set(std::int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// A gauge with a fractional value (durations in seconds).
class RealGauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v) noexcept;
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  std::uint64_t bucket(std::size_t i) const noexcept;  // not cumulative; i == size: +Inf
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

// Latency buckets in seconds, 50 µs to 10 s.
std::vector<double> latency_buckets_seconds();

class Metrics {
 public:
  // Registration is idempotent: the same name and labels return the same series. A name
  // registered with two different types is a bug (IPX_ASSERT).
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  RealGauge& real_gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help,
                       std::vector<double> upper_bounds, const Labels& labels = {});
  // Called at the start of every render(), outside the registry's lock: refreshes series
  // mirrored from elsewhere (the journal's and the snapshots' statistics). Register at
  // start-up, before the first render.
  void add_collector(std::function<void()> collect);
  std::string render() const;

 private:
  enum class Type { counter, gauge, histogram };
  struct Series {
    std::string labels;  // rendered: a="b",c="d" (no braces), empty when none
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<RealGauge> real_gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    Type type;
    std::string help;
    std::deque<Series> series;
  };
  Series& series(const std::string& name, const std::string& help, Type type,
                 const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;  // sorted: stable output
  std::vector<std::function<void()>> collectors_;
};

}  // namespace ipx::gateway
