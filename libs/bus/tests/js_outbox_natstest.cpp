// JsOutbox against the shared nats-server of the test run: what is posted is stored, in order,
// each result reaches its callback, shutdown publishes what waits, and a stream that does not
// answer cannot grow the queue without bound.
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "switchboard/bus/js_outbox.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/testing/nats_connect.h"
#include "switchboard/testing/servers.h"

using namespace std::chrono_literals;
using sb::Result;
using sb::bus::JsOutbox;
using sb::bus::PublishAck;

namespace {

std::unique_ptr<sb::bus::NatsBus> Connect() {
  return sb::testing::ConnectNats(sb::testing::Shared().nats_url, "js-outbox-natstest");
}

std::string NewStream(sb::bus::Bus& bus, const std::string& prefix) {
  const std::string name = sb::testing::UniqueName(prefix);
  sb::bus::StreamConfig config;
  config.name = name;
  config.subjects = {name + ".>"};
  REQUIRE(bus.EnsureStream(config).ok());
  return name;
}

// The results handed to done callbacks, in the order they ran.
struct Results {
  std::mutex mu;
  std::vector<Result<PublishAck>> seen;
  JsOutbox::Done Recorder() {
    return [this](const Result<PublishAck>& r) {
      std::lock_guard lock(mu);
      seen.push_back(r);
    };
  }
};

}  // namespace

TEST_CASE("an outbox stores what is posted in posting order and reports each ack", "[nats]") {
  auto bus = Connect();
  const std::string stream = NewStream(*bus, "OUTBOX");
  Results results;
  constexpr int kMessages = 600;  // more than one batch
  JsOutbox outbox(*bus, {.timeout = 10s, .max_batch = 64});
  for (int i = 0; i < kMessages; ++i) {
    const std::string id = "m-" + std::to_string(i);
    REQUIRE(outbox
                .Post({.message = {.subject = stream + ".x", .data = id}, .msg_id = id},
                      results.Recorder())
                .ok());
  }
  outbox.Flush();
  REQUIRE(results.seen.size() == kMessages);
  uint64_t previous = 0;
  for (const auto& r : results.seen) {
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    CHECK(r->stream == stream);
    CHECK(r->sequence == previous + 1);  // stored in the order posted, nothing twice
    previous = r->sequence;
  }
  CHECK(*bus->StreamMessageCount(stream) == kMessages);
  CHECK(outbox.queued() == 0);
  CHECK(bus->DeleteStream(stream).ok());
}

TEST_CASE("with a linger, messages posted close together go out in one batch", "[nats]") {
  auto bus = Connect();
  const std::string stream = NewStream(*bus, "OUTBOXLINGER");
  Results results;
  JsOutbox outbox(*bus, {.timeout = 10s, .max_batch = 64, .linger = 2s});
  for (int i = 0; i < 5; ++i) {
    REQUIRE(outbox
                .Post({.message = {.subject = stream + ".x", .data = "d"},
                       .msg_id = "l-" + std::to_string(i)},
                      results.Recorder())
                .ok());
    std::this_thread::sleep_for(10ms);
  }
  outbox.Flush();
  CHECK(results.seen.size() == 5);
  CHECK(outbox.batches() == 1);
  // A full batch does not wait out the linger.
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 64; ++i) {
    REQUIRE(outbox
                .Post({.message = {.subject = stream + ".x", .data = "d"},
                       .msg_id = "f-" + std::to_string(i)},
                      results.Recorder())
                .ok());
  }
  outbox.Flush();
  CHECK(std::chrono::steady_clock::now() - start < 1500ms);
  CHECK(outbox.batches() == 2);
  CHECK(*bus->StreamMessageCount(stream) == 69);
  CHECK(bus->DeleteStream(stream).ok());
}

TEST_CASE("destroying an outbox publishes what is still queued", "[nats]") {
  auto bus = Connect();
  const std::string stream = NewStream(*bus, "OUTBOXEND");
  Results results;
  constexpr int kMessages = 300;
  {
    JsOutbox outbox(*bus, {.timeout = 10s, .max_batch = 16});
    for (int i = 0; i < kMessages; ++i) {
      REQUIRE(outbox
                  .Post({.message = {.subject = stream + ".x", .data = "d"},
                         .msg_id = "e-" + std::to_string(i)},
                        results.Recorder())
                  .ok());
    }
  }
  CHECK(results.seen.size() == kMessages);
  CHECK(*bus->StreamMessageCount(stream) == kMessages);
  CHECK(bus->DeleteStream(stream).ok());
}

TEST_CASE("while no stream acks, the outbox refuses beyond its bound and reports each failure",
          "[nats]") {
  auto bus = Connect();
  Results results;
  int accepted = 0, refused = 0;
  {
    // One message per batch, each waiting out 300 ms for an ack no stream will give.
    JsOutbox outbox(*bus, {.timeout = 300ms, .max_batch = 1, .max_queued = 2});
    const std::string subject = sb::testing::UniqueName("nostream") + ".x";
    for (int i = 0; i < 10; ++i) {
      auto queued = outbox.Post({.message = {.subject = subject, .data = "d"}}, results.Recorder());
      if (queued.ok()) {
        ++accepted;
      } else {
        CHECK(queued.code() == sb::StatusCode::kResourceExhausted);
        ++refused;
      }
    }
  }
  CHECK(refused > 0);
  CHECK(accepted <= 3);  // the one being published and two queued
  REQUIRE(results.seen.size() == static_cast<size_t>(accepted));
  for (const auto& r : results.seen) {
    CHECK(r.status().code() == sb::StatusCode::kDeadlineExceeded);
  }
}

namespace {

// A journal that remembers what it keeps until released, as a durable store would.
struct MemoryJournal final : sb::bus::JsOutboxJournal {
  std::mutex mu;
  std::vector<std::string> kept;  // in the order kept, released ones removed
  size_t batches_kept = 0;
  void Keep(const std::vector<sb::bus::JsOutbound>& batch) override {
    std::lock_guard lock(mu);
    ++batches_kept;
    for (const auto& m : batch) kept.push_back(m.msg_id);
  }
  void Release(const std::vector<std::string>& msg_ids) override {
    std::lock_guard lock(mu);
    for (const auto& id : msg_ids) std::erase(kept, id);
  }
};

}  // namespace

TEST_CASE("a batch the stream acks promptly never touches the outbox's journal", "[nats]") {
  auto bus = Connect();
  const std::string stream = NewStream(*bus, "OUTBOXJ");
  MemoryJournal journal;
  Results results;
  {
    JsOutbox outbox(*bus, {.timeout = 10s, .max_batch = 8, .journal_after = 5s}, &journal);
    for (int i = 0; i < 20; ++i) {
      REQUIRE(outbox
                  .Post({.message = {.subject = stream + ".x", .data = "d"},
                         .msg_id = "j-" + std::to_string(i)},
                        results.Recorder())
                  .ok());
    }
    // A message without msg_id could not be found in the journal again.
    auto unnamed = outbox.Post({.message = {.subject = stream + ".x", .data = "d"}}, {});
    CHECK(unnamed.code() == sb::StatusCode::kInvalidArgument);
    outbox.Flush();
  }
  CHECK(journal.batches_kept == 0);
  REQUIRE(results.seen.size() == 20);
  CHECK(*bus->StreamMessageCount(stream) == 20);
  CHECK(bus->DeleteStream(stream).ok());
}

TEST_CASE(
    "a publish the stream is slow to ack is kept in the journal, sent again and released once "
    "stored",
    "[nats]") {
  auto nats = sb::testing::NatsServer::Start();
  sb::bus::NatsBusOptions options;
  options.url = nats.url();
  auto connected = sb::bus::NatsBus::Connect(options);
  REQUIRE(connected.ok());
  auto& bus = **connected;
  const std::string stream = NewStream(bus, "OUTBOXSLOW");
  MemoryJournal journal;
  Results results;
  {
    JsOutbox outbox(bus, {.timeout = 20s, .max_batch = 8, .journal_after = 200ms}, &journal);
    nats.Stop();
    REQUIRE(outbox
                .Post({.message = {.subject = stream + ".x", .data = "d"}, .msg_id = "slow-1"},
                      results.Recorder())
                .ok());
    auto kept = [&] {
      std::lock_guard lock(journal.mu);
      return journal.kept == std::vector<std::string>{"slow-1"};
    };
    for (int i = 0; i < 50 && !kept(); ++i) std::this_thread::sleep_for(100ms);
    CHECK(kept());
    nats.Restart();
    outbox.Flush();
  }
  CHECK(journal.batches_kept == 1);
  CHECK(journal.kept.empty());
  REQUIRE(results.seen.size() == 1);
  CHECK(results.seen[0].ok());
  CHECK(*bus.StreamMessageCount(stream) == 1);
}

TEST_CASE("what no stream acks stays in the outbox's journal for a later send", "[nats]") {
  auto bus = Connect();
  const std::string stream = NewStream(*bus, "OUTBOXJN");
  MemoryJournal journal;
  Results results;
  {
    JsOutbox outbox(*bus, {.timeout = 300ms, .max_batch = 4, .journal_after = 100ms}, &journal);
    const std::string nowhere = sb::testing::UniqueName("nostream") + ".x";
    for (const auto& [subject, id] : std::vector<std::pair<std::string, std::string>>{
             {stream + ".x", "stored-1"}, {nowhere, "lost-1"}, {stream + ".x", "stored-2"}}) {
      REQUIRE(outbox
                  .Post({.message = {.subject = subject, .data = "d"}, .msg_id = id},
                        results.Recorder())
                  .ok());
    }
  }
  REQUIRE(results.seen.size() == 3);
  CHECK(!results.seen[1].ok());
  CHECK(journal.kept == std::vector<std::string>{"lost-1"});
  CHECK(*bus->StreamMessageCount(stream) == 2);
  CHECK(bus->DeleteStream(stream).ok());
}

TEST_CASE(
    "a message its producer kept in the journal is released once stored, and left there when no "
    "stream acks it - never kept twice",
    "[nats]") {
  auto bus = Connect();
  const std::string stream = NewStream(*bus, "OUTBOXKEPT");
  MemoryJournal journal;
  // As the producer would, in the step that made the change the messages report.
  journal.Keep({{.message = {.subject = stream + ".x"}, .msg_id = "kept-stored"},
                {.message = {.subject = "nowhere.x"}, .msg_id = "kept-lost"}});
  Results results;
  {
    JsOutbox outbox(*bus, {.timeout = 300ms, .max_batch = 4, .journal_after = 100ms}, &journal);
    const std::string nowhere = sb::testing::UniqueName("nostream") + ".x";
    REQUIRE(
        outbox
            .PostKept({.message = {.subject = stream + ".x", .data = "d"}, .msg_id = "kept-stored"},
                      results.Recorder())
            .ok());
    REQUIRE(outbox
                .PostKept({.message = {.subject = nowhere, .data = "d"}, .msg_id = "kept-lost"},
                          results.Recorder())
                .ok());
    CHECK(outbox.PostKept({.message = {.subject = nowhere, .data = "d"}}, {}).code() ==
          sb::StatusCode::kInvalidArgument);
  }
  REQUIRE(results.seen.size() == 2);
  CHECK(results.seen[0].ok());
  CHECK(!results.seen[1].ok());
  CHECK(journal.batches_kept == 1);  // the producer's own
  CHECK(journal.kept == std::vector<std::string>{"kept-lost"});
  CHECK(*bus->StreamMessageCount(stream) == 1);
  CHECK(bus->DeleteStream(stream).ok());

  JsOutbox without_journal(*bus);
  CHECK(without_journal.PostKept({.message = {.subject = "nowhere.x"}, .msg_id = "k"}, {}).code() ==
        sb::StatusCode::kFailedPrecondition);
}
