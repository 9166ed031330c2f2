// Metrics: counters, gauges and histograms with labels, rendered in the Prometheus text
// exposition format (version 0.0.4) for /metrics.
//
//   sb::core::MetricsRegistry metrics;
//   auto& requests = metrics.Counter("sb_admin_requests_total", "gRPC requests",
//                                    {{"method", "CreateTenant"}, {"code", "OK"}});
//   requests.Inc();
//   auto& latency = metrics.Histogram("sb_admin_request_seconds", "gRPC latency",
//                                     sb::core::kLatencyBuckets, {{"method", "CreateTenant"}});
//   latency.Observe(0.0021);
//
// Getting a metric takes a lock (do it once and keep the reference; references stay valid for the
// registry's lifetime); updating one is lock-free and safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sb::core {

using Labels = std::map<std::string, std::string>;

// Seconds, from 100 µs to 10 s: request and lookup latencies.
inline constexpr double kLatencyBuckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                             0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                             1,      2.5,     5,      10};

class CounterMetric {
 public:
  void Inc(double by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class GaugeMetric {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class HistogramMetric {
 public:
  explicit HistogramMetric(std::span<const double> upper_bounds);
  void Observe(double v);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  // Non-cumulative count of observations in bucket i (the last one is +Inf).
  uint64_t bucket(size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
  const std::vector<double>& upper_bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

class MetricsRegistry {
 public:
  CounterMetric& Counter(std::string_view name, std::string_view help, const Labels& labels = {});
  GaugeMetric& Gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  HistogramMetric& Histogram(std::string_view name, std::string_view help,
                             std::span<const double> upper_bounds, const Labels& labels = {});

  // The whole registry in the Prometheus text format.
  std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    Type type;
    std::string help;
    std::map<Labels, std::unique_ptr<CounterMetric>> counters;
    std::map<Labels, std::unique_ptr<GaugeMetric>> gauges;
    std::map<Labels, std::unique_ptr<HistogramMetric>> histograms;
  };
  Family& FamilyFor(std::string_view name, std::string_view help, Type type);

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
};

}  // namespace sb::core
