// The ops endpoints answered over a real loopback socket by a real HTTP client.
#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>

#include "switchboard/core/http_server.h"

TEST_CASE("healthz, readyz and metrics answer over HTTP", "[unit]") {
  sb::core::MetricsRegistry metrics;
  metrics.Counter("sb_test_total", "test").Inc(5);
  std::atomic<bool> ready{false};
  sb::core::OpsServer ops(metrics, [&] {
    return ready ? sb::Status::Ok() : sb::Status::Unavailable("nats not connected");
  });
  auto port = ops.Start("127.0.0.1", 0);
  REQUIRE(port.ok());

  httplib::Client client("127.0.0.1", *port);
  auto health = client.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);

  auto not_ready = client.Get("/readyz");
  REQUIRE(not_ready);
  CHECK(not_ready->status == 503);
  CHECK(not_ready->body == "not ready: nats not connected\n");

  ready = true;
  auto is_ready = client.Get("/readyz");
  REQUIRE(is_ready);
  CHECK(is_ready->status == 200);

  auto scrape = client.Get("/metrics");
  REQUIRE(scrape);
  CHECK(scrape->status == 200);
  CHECK(scrape->body.find("sb_test_total 5\n") != std::string::npos);
  ops.Stop();
}

TEST_CASE("a port already in use is an error, not a crash", "[unit]") {
  sb::core::MetricsRegistry metrics;
  sb::core::OpsServer first(metrics, nullptr);
  auto port = first.Start("127.0.0.1", 0);
  REQUIRE(port.ok());
  sb::core::OpsServer second(metrics, nullptr);
  auto clash = second.Start("127.0.0.1", *port);
  REQUIRE_FALSE(clash.ok());
  CHECK(clash.status().code() == sb::StatusCode::kUnavailable);
}
