#include "switchboard/core/metrics.h"

#include <catch2/catch.hpp>

TEST_CASE("metrics render in the Prometheus text format", "[unit]") {
  sb::core::MetricsRegistry metrics;
  metrics.Counter("sb_requests_total", "requests", {{"method", "Get"}, {"code", "OK"}}).Inc(3);
  metrics.Gauge("sb_calls_active", "calls in progress").Set(7);
  const double buckets[] = {0.01, 0.1};
  auto& h = metrics.Histogram("sb_latency_seconds", "latency", buckets, {{"method", "Get"}});
  h.Observe(0.005);
  h.Observe(0.05);
  h.Observe(3);

  const std::string text = metrics.Render();
  CHECK(text.find("# TYPE sb_requests_total counter\n") != std::string::npos);
  CHECK(text.find("sb_requests_total{code=\"OK\",method=\"Get\"} 3\n") != std::string::npos);
  CHECK(text.find("# TYPE sb_calls_active gauge\nsb_calls_active 7\n") != std::string::npos);
  CHECK(text.find("sb_latency_seconds_bucket{method=\"Get\",le=\"0.01\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("sb_latency_seconds_bucket{method=\"Get\",le=\"0.10000000000000001\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("sb_latency_seconds_bucket{method=\"Get\",le=\"+Inf\"} 3\n") !=
        std::string::npos);
  CHECK(text.find("sb_latency_seconds_count{method=\"Get\"} 3\n") != std::string::npos);
}

TEST_CASE("the same name and labels give the same metric", "[unit]") {
  sb::core::MetricsRegistry metrics;
  auto& a = metrics.Counter("sb_x_total", "x", {{"k", "v"}});
  auto& b = metrics.Counter("sb_x_total", "x", {{"k", "v"}});
  auto& c = metrics.Counter("sb_x_total", "x", {{"k", "w"}});
  CHECK(&a == &b);
  CHECK(&a != &c);
}

TEST_CASE("label values are escaped", "[unit]") {
  sb::core::MetricsRegistry metrics;
  metrics.Counter("sb_e_total", "e", {{"v", "a\"b\\c\nd"}}).Inc();
  CHECK(metrics.Render().find("sb_e_total{v=\"a\\\"b\\\\c\\nd\"} 1\n") != std::string::npos);
}
