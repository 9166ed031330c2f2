#include "switchboard/core/logger.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

TEST_CASE("each log line is one JSON object with time, level, service and fields", "[unit]") {
  std::ostringstream out;
  sb::core::FakeClock clock;
  sb::core::Logger log("signaling", out, sb::core::LogLevel::kInfo, clock);
  log.With({{"tenant_id", "t-1"}, {"call_id", "c-9"}})
      .Info("call answered", {{"sip_code", 200}, {"codec", "PCMU"}, {"anchored", true}});

  const auto line = nlohmann::json::parse(out.str());
  CHECK(line["ts"] == "2026-01-01T00:00:00.000Z");
  CHECK(line["level"] == "info");
  CHECK(line["service"] == "signaling");
  CHECK(line["msg"] == "call answered");
  CHECK(line["tenant_id"] == "t-1");
  CHECK(line["call_id"] == "c-9");
  CHECK(line["sip_code"] == 200);
  CHECK(line["anchored"] == true);
}

TEST_CASE("lines below the minimum level are not written", "[unit]") {
  std::ostringstream out;
  sb::core::FakeClock clock;
  sb::core::Logger log("admin", out, sb::core::LogLevel::kWarn, clock);
  log.Info("quiet");
  log.Error("loud");
  CHECK(out.str().find("quiet") == std::string::npos);
  CHECK(out.str().find("loud") != std::string::npos);
}

TEST_CASE("bytes from the wire that are not UTF-8 do not break the line", "[unit]") {
  std::ostringstream out;
  sb::core::FakeClock clock;
  sb::core::Logger log("signaling", out, sb::core::LogLevel::kInfo, clock);
  log.Warn("bad message", {{"from", std::string("\xff\xfe\"x\n", 5)}});
  CHECK(out.str().back() == '\n');
  CHECK_NOTHROW(nlohmann::json::parse(out.str()));
}

TEST_CASE("lines from several threads never interleave", "[unit]") {
  std::ostringstream out;
  sb::core::FakeClock clock;
  sb::core::Logger log("media", out, sb::core::LogLevel::kInfo, clock);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) log.Info("tick", {{"thread", t}, {"i", i}});
    });
  }
  for (auto& th : threads) th.join();
  std::istringstream in(out.str());
  int lines = 0;
  for (std::string line; std::getline(in, line); ++lines) {
    CHECK_NOTHROW(nlohmann::json::parse(line));
  }
  CHECK(lines == 800);
}
