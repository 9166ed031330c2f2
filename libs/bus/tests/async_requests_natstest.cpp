// AsyncRequests against the shared nats-server of the test run: each answer reaches its own
// request's callback, on a bus thread; nobody listening is UNAVAILABLE, silence past the timeout
// DEADLINE_EXCEEDED; every callback runs once.
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "switchboard/bus/async_requests.h"
#include "switchboard/testing/nats_connect.h"
#include "switchboard/testing/servers.h"

using namespace std::chrono_literals;
using sb::Result;
using sb::bus::AsyncRequests;
using sb::bus::Message;

namespace {

std::unique_ptr<sb::bus::NatsBus> Connect() {
  return sb::testing::ConnectNats(sb::testing::Shared().nats_url, "async-requests-natstest");
}

// What the callbacks were given, by request, and on which thread.
struct Answers {
  std::mutex mu;
  std::condition_variable cv;
  std::map<int, std::vector<Result<Message>>> by_request;
  std::map<int, std::thread::id> threads;

  AsyncRequests::Done For(int request) {
    return [this, request](Result<Message> reply) {
      std::lock_guard lock(mu);
      by_request[request].push_back(std::move(reply));
      threads[request] = std::this_thread::get_id();
      cv.notify_all();
    };
  }
  bool WaitFor(size_t requests, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return by_request.size() >= requests; });
  }
};

}  // namespace

TEST_CASE(
    "async requests - each answer reaches its own request's callback once, on a bus thread - "
    "nobody listening is UNAVAILABLE - silence DEADLINE_EXCEEDED after the timeout",
    "[nats]") {
  auto bus = Connect();
  const std::string subject = sb::testing::UniqueName("async") + ".echo";
  auto echo = bus->Subscribe(subject, "", [&](const Message& m) {
    if (m.data == "silent") return;
    REQUIRE(bus->Publish({.subject = m.reply, .data = "re:" + m.data}).ok());
  });
  REQUIRE(echo.ok());
  auto requests = AsyncRequests::Start(*bus);
  REQUIRE(requests.ok());
  Answers answers;
  constexpr int kAnswered = 50;
  for (int i = 0; i < kAnswered; ++i) {
    (*requests)->Send({.subject = subject, .data = std::to_string(i)}, 2s, answers.For(i));
  }
  (*requests)->Send({.subject = sb::testing::UniqueName("nobody") + ".there", .data = "x"}, 2s,
                    answers.For(kAnswered));
  const auto sent = std::chrono::steady_clock::now();
  (*requests)->Send({.subject = subject, .data = "silent"}, 300ms, answers.For(kAnswered + 1));
  REQUIRE(answers.WaitFor(kAnswered + 2, 5s));
  const auto waited = std::chrono::steady_clock::now() - sent;

  std::lock_guard lock(answers.mu);
  for (int i = 0; i < kAnswered; ++i) {
    REQUIRE(answers.by_request[i].size() == 1);
    REQUIRE(answers.by_request[i][0].ok());
    CHECK(answers.by_request[i][0]->data == "re:" + std::to_string(i));
    CHECK(answers.threads[i] != std::this_thread::get_id());
  }
  REQUIRE(answers.by_request[kAnswered].size() == 1);
  CHECK(answers.by_request[kAnswered][0].status().code() == sb::StatusCode::kUnavailable);
  REQUIRE(answers.by_request[kAnswered + 1].size() == 1);
  CHECK(answers.by_request[kAnswered + 1][0].status().code() == sb::StatusCode::kDeadlineExceeded);
  CHECK(waited >= 300ms);
  CHECK((*requests)->waiting() == 0);
}

TEST_CASE("an async request to an invalid subject fails at once, in Send", "[nats]") {
  auto bus = Connect();
  auto requests = AsyncRequests::Start(*bus);
  REQUIRE(requests.ok());
  std::optional<sb::Status> failed;
  (*requests)->Send({.subject = "bad subject", .data = "x"}, 1s,
                    [&](Result<Message> reply) { failed = reply.status(); });
  REQUIRE(failed);
  CHECK(failed->code() == sb::StatusCode::kInvalidArgument);
  CHECK((*requests)->waiting() == 0);
}
