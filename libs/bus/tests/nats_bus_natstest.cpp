// NatsBus against a real nats-server: the shared one of the test run, or a private one where a
// test kills it. Waiting is on conditions signalled by handlers (bounded), never on sleeps.
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "switchboard/bus/idempotency.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/bus/typed.h"
#include "switchboard/common/v1/error.pb.h"
#include "switchboard/common/v1/ids.pb.h"
#include "switchboard/testing/servers.h"

using namespace std::chrono_literals;
using sb::bus::JsMessage;
using sb::bus::Message;
using sb::bus::NatsBus;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::unique_ptr<NatsBus> ConnectTo(const std::string& url) {
  sb::bus::NatsBusOptions options;
  options.url = url;
  options.name = "bus-natstest";
  options.reconnect_wait_max = 100ms;
  options.fetch_wait = 200ms;
  auto bus = NatsBus::Connect(options);
  INFO(bus.status().ToString());
  REQUIRE(bus.ok());
  return std::move(*bus);
}

std::unique_ptr<NatsBus> ConnectShared() { return ConnectTo(sb::testing::Shared().nats_url); }

// Things handlers saw, and a way to wait until enough of them arrived.
template <typename T>
class Seen {
 public:
  void Add(T item) {
    std::lock_guard lock(mu_);
    items_.push_back(std::move(item));
    cv_.notify_all();
  }
  bool WaitForCount(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return items_.size() >= n; });
  }
  std::vector<T> items() const {
    std::lock_guard lock(mu_);
    return items_;
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<T> items_;
};

sb::bus::StreamConfig TestStream(const std::string& name, const std::string& subject_prefix) {
  sb::bus::StreamConfig config;
  config.name = name;
  config.subjects = {subject_prefix + ".>"};
  config.storage = sb::bus::Storage::kFile;
  return config;
}

}  // namespace

TEST_CASE("core pub/sub delivers by wildcard subject", "[nats]") {
  auto bus = ConnectShared();
  const std::string root = sb::testing::UniqueName("wild");
  Seen<std::string> star, tail, exact;
  auto s1 = bus->Subscribe(root + ".call.*.t1", "", [&](const Message& m) { star.Add(m.subject); });
  auto s2 = bus->Subscribe(root + ".>", "", [&](const Message& m) { tail.Add(m.subject); });
  auto s3 = bus->Subscribe(root + ".sms.sent.t2", "", [&](const Message& m) { exact.Add(m.data); });
  REQUIRE((s1.ok() && s2.ok() && s3.ok()));
  REQUIRE(bus->Flush(2s).ok());  // the server knows the subscriptions before we publish
  for (std::string s : {".call.answered.t1", ".call.answered.t2", ".sms.sent.t2", ".call.x.t1"}) {
    REQUIRE(bus->Publish({.subject = root + s, .data = s, .headers = {{"X-Test", "1"}}}).ok());
  }
  REQUIRE(tail.WaitForCount(4, 5s));
  REQUIRE(star.WaitForCount(2, 5s));
  REQUIRE(exact.WaitForCount(1, 5s));
  // Core NATS preserves order per publisher and subscription.
  CHECK(star.items() == std::vector<std::string>{root + ".call.answered.t1", root + ".call.x.t1"});
  CHECK(exact.items() == std::vector<std::string>{".sms.sent.t2"});
}

TEST_CASE("a message published from another connection as soon as Subscribe returns arrives",
          "[nats]") {
  auto subscriber = ConnectShared();
  auto publisher = ConnectShared();
  // Many tries: a SUB still in cnats's write buffer loses a publish only now and then.
  for (int i = 0; i < 20; ++i) {
    const std::string subject = sb::testing::UniqueName("sub-ready");
    Seen<std::string> got;
    auto sub = subscriber->Subscribe(subject, "", [&](const Message& m) { got.Add(m.data); });
    REQUIRE(sub.ok());
    REQUIRE(publisher->Publish({.subject = subject, .data = "first"}).ok());
    INFO("try " << i);
    REQUIRE(got.WaitForCount(1, 2s));
  }
}

TEST_CASE("a publish without headers keeps its reply subject and body and no header appears",
          "[nats]") {
  auto bus = ConnectShared();
  const std::string root = sb::testing::UniqueName("plain");
  Seen<Message> seen;
  auto sub = bus->Subscribe(root + ".>", "", [&](const Message& m) { seen.Add(m); });
  REQUIRE(sub.ok());
  REQUIRE(bus->Flush(2s).ok());
  REQUIRE(bus->Publish({.subject = root + ".ask", .reply = root + ".inbox.7", .data = "q"}).ok());
  REQUIRE(bus->Publish({.subject = root + ".tell", .data = std::string("a\0b", 3)}).ok());
  REQUIRE(seen.WaitForCount(2, 5s));
  const auto got = seen.items();
  CHECK(got[0].subject == root + ".ask");
  CHECK(got[0].reply == root + ".inbox.7");
  CHECK(got[0].data == "q");
  CHECK(got[1].reply.empty());
  CHECK(got[1].data == std::string("a\0b", 3));
  CHECK((got[0].headers.empty() && got[1].headers.empty()));
}

TEST_CASE("publishing or asking on a wildcard subject is refused naming the subject", "[nats]") {
  auto bus = ConnectShared();
  for (const char* subject : {"sb.evt.>", "sb.*.x", ""}) {
    for (const bool with_headers : {false, true}) {
      Message m{.subject = subject, .data = "x"};
      if (with_headers) m.headers = {{"X-Test", "1"}};
      const sb::Status published = bus->Publish(m);
      CHECK(published.code() == sb::StatusCode::kInvalidArgument);
      CHECK(published.field() == "subject");
      const sb::Status asked = bus->Request(m, 1s).status();
      CHECK(asked.code() == sb::StatusCode::kInvalidArgument);
      CHECK(asked.field() == "subject");
    }
  }
}

TEST_CASE("queue group members share the work, each message handled once", "[nats]") {
  auto bus = ConnectShared();
  const std::string subject = sb::testing::UniqueName("queue") + ".work";
  Seen<int> all;
  std::atomic<int> a{0}, b{0};
  auto m1 = bus->Subscribe(subject, "workers", [&](const Message&) {
    ++a;
    all.Add(1);
  });
  auto m2 = bus->Subscribe(subject, "workers", [&](const Message&) {
    ++b;
    all.Add(2);
  });
  REQUIRE(bus->Flush(2s).ok());
  constexpr int kMessages = 200;
  for (int i = 0; i < kMessages; ++i) REQUIRE(bus->Publish({.subject = subject}).ok());
  REQUIRE(all.WaitForCount(kMessages, 10s));
  REQUIRE(bus->Flush(2s).ok());
  CHECK(all.size() == kMessages);  // none twice
  CHECK(a.load() > 0);
  CHECK(b.load() > 0);
}

TEST_CASE("request/reply carries data and headers both ways", "[nats]") {
  auto bus = ConnectShared();
  const std::string subject = sb::testing::UniqueName("rr") + ".echo";
  auto responder = bus->Subscribe(subject, "echo", [&](const Message& m) {
    (void)bus->Publish({.subject = m.reply,
                        .data = "echo:" + m.data,
                        .headers = {{"X-Seen", m.headers.count("X-Req") ? "yes" : "no"}}});
  });
  REQUIRE(bus->Flush(2s).ok());
  auto reply = bus->Request({.subject = subject, .data = "hi", .headers = {{"X-Req", "1"}}}, 2s);
  INFO(reply.status().ToString());
  REQUIRE(reply.ok());
  CHECK(reply->data == "echo:hi");
  CHECK(reply->headers.at("X-Seen") == "yes");
}

TEST_CASE("a request with no responder fails UNAVAILABLE, without waiting out its deadline",
          "[nats]") {
  auto bus = ConnectShared();
  const auto start = SteadyClock::now();
  auto reply = bus->Request({.subject = sb::testing::UniqueName("nobody") + ".home"}, 5s);
  REQUIRE(!reply.ok());
  CHECK(reply.status().code() == sb::StatusCode::kUnavailable);
  CHECK(SteadyClock::now() - start < 5s);
}

TEST_CASE("a request nobody answers fails DEADLINE_EXCEEDED at its deadline, not later", "[nats]") {
  auto bus = ConnectShared();
  const std::string subject = sb::testing::UniqueName("silent") + ".x";
  auto silent = bus->Subscribe(subject, "", [](const Message&) {});
  REQUIRE(bus->Flush(2s).ok());
  const auto start = SteadyClock::now();
  auto reply = bus->Request({.subject = subject}, 300ms);
  const auto elapsed = SteadyClock::now() - start;
  REQUIRE(!reply.ok());
  CHECK(reply.status().code() == sb::StatusCode::kDeadlineExceeded);
  CHECK(elapsed >= 290ms);
  CHECK(elapsed < 2s);
}

TEST_CASE("JetStream: stream set-up is idempotent and updates the configuration", "[nats]") {
  auto bus = ConnectShared();
  const std::string name = sb::testing::UniqueName("STREAM");
  auto config = TestStream(name, name);
  REQUIRE(bus->EnsureStream(config).ok());
  REQUIRE(bus->EnsureStream(config).ok());
  config.max_msgs = 2;
  REQUIRE(bus->EnsureStream(config).ok());
  for (int i = 0; i < 5; ++i) {
    REQUIRE(bus->JsPublish({.message = {.subject = name + ".a"}}, 5s).ok());
  }
  CHECK(*bus->StreamMessageCount(name) == 2);  // the updated limit holds
  CHECK(bus->DeleteStream(name).ok());
}

TEST_CASE("JetStream: a msg id is stored once, a retry is acked as a duplicate", "[nats]") {
  auto bus = ConnectShared();
  const std::string name = sb::testing::UniqueName("DEDUP");
  REQUIRE(bus->EnsureStream(TestStream(name, name)).ok());
  auto first =
      bus->JsPublish({.message = {.subject = name + ".a", .data = "x"}, .msg_id = "e-1"}, 5s);
  auto retry =
      bus->JsPublish({.message = {.subject = name + ".a", .data = "x"}, .msg_id = "e-1"}, 5s);
  REQUIRE(first.ok());
  REQUIRE(retry.ok());
  CHECK(first->stream == name);
  CHECK(!first->duplicate);
  CHECK(retry->duplicate);
  CHECK(*bus->StreamMessageCount(name) == 1);
  CHECK(bus->DeleteStream(name).ok());
}

TEST_CASE("JetStream: publishing where no stream listens fails at the deadline", "[nats]") {
  auto bus = ConnectShared();
  const auto start = SteadyClock::now();
  auto ack =
      bus->JsPublish({.message = {.subject = sb::testing::UniqueName("nostream") + ".x"}}, 500ms);
  REQUIRE(!ack.ok());
  CHECK(ack.status().code() == sb::StatusCode::kDeadlineExceeded);
  CHECK(SteadyClock::now() - start < 3s);
}

TEST_CASE("JetStream: a message not acked is redelivered after the ack wait", "[nats]") {
  auto bus = ConnectShared();
  const std::string name = sb::testing::UniqueName("REDELIVER");
  REQUIRE(bus->EnsureStream(TestStream(name, name)).ok());
  REQUIRE(bus->JsPublish({.message = {.subject = name + ".a", .data = "work"}}, 5s).ok());
  struct Delivery {
    uint64_t count;
    SteadyClock::time_point at;
  };
  Seen<Delivery> seen;
  auto consumer =
      bus->Consume({.stream = name, .durable = "worker", .ack_wait = 1s}, [&](JsMessage& m) {
        seen.Add({m.delivery_count(), SteadyClock::now()});
        if (m.delivery_count() >= 2) REQUIRE(m.Ack().ok());
      });
  INFO(consumer.status().ToString());
  REQUIRE(consumer.ok());
  REQUIRE(seen.WaitForCount(2, 10s));
  const auto d = seen.items();
  CHECK(d[0].count == 1);
  CHECK(d[1].count == 2);
  CHECK(d[1].at - d[0].at >= 900ms);
  consumer->reset();
  auto state = bus->GetConsumerState(name, "worker");
  REQUIRE(state.ok());
  CHECK(state->num_ack_pending == 0);
  CHECK(state->num_pending == 0);
  CHECK(bus->DeleteStream(name).ok());
}

TEST_CASE("JetStream: nak redelivers, term stops, max deliveries gives up", "[nats]") {
  auto bus = ConnectShared();
  const std::string name = sb::testing::UniqueName("SETTLE");
  REQUIRE(bus->EnsureStream(TestStream(name, name)).ok());
  for (std::string d : {"nak", "term", "poison"}) {
    REQUIRE(bus->JsPublish({.message = {.subject = name + ".a", .data = d}}, 5s).ok());
  }
  std::mutex mu;
  std::map<std::string, uint64_t> deliveries;
  Seen<std::string> log;
  auto consumer = bus->Consume(
      {.stream = name, .durable = "w", .ack_wait = 1s, .max_deliver = 2}, [&](JsMessage& m) {
        const std::string what = m.message().data;
        {
          std::lock_guard lock(mu);
          deliveries[what] = m.delivery_count();
        }
        if (what == "nak") {
          REQUIRE((m.delivery_count() == 1 ? m.Nak(0ms) : m.Ack()).ok());
        } else if (what == "term") {
          REQUIRE(m.Term().ok());
        }  // "poison" is never acked: the server gives up after max_deliver
        log.Add(what + "#" + std::to_string(m.delivery_count()));
      });
  REQUIRE(consumer.ok());
  // nak#1, nak#2, term#1, poison#1, poison#2
  REQUIRE(log.WaitForCount(5, 10s));
  // The server drops "poison" from the pending set once its second ack wait runs out.
  bool settled = false;
  for (int i = 0; i < 50 && !settled; ++i) {
    log.WaitForCount(6, 100ms);  // a sixth delivery would be a bug; this also paces the polls
    auto state = bus->GetConsumerState(name, "w");
    REQUIRE(state.ok());
    settled = state->num_ack_pending == 0;
  }
  CHECK(settled);
  std::lock_guard lock(mu);
  CHECK(deliveries["nak"] == 2);
  CHECK(deliveries["term"] == 1);
  CHECK(deliveries["poison"] == 2);
  CHECK(log.size() == 5);
  consumer->reset();
  CHECK(bus->DeleteStream(name).ok());
}

TEST_CASE(
    "JetStream: a consumer killed mid-stream and restarted processes every message exactly "
    "once by de-duplicating on event id",
    "[nats]") {
  auto bus = ConnectShared();
  const std::string name = sb::testing::UniqueName("RESTART");
  REQUIRE(bus->EnsureStream(TestStream(name, name)).ok());
  constexpr int kEvents = 200;
  std::vector<sb::bus::JsOutbound> events;
  for (int i = 0; i < kEvents; ++i) {
    const std::string id = "evt-" + std::to_string(i);
    events.push_back({.message = {.subject = name + ".call.ended", .data = id}, .msg_id = id});
  }
  for (const auto& r : bus->JsPublishAll(events, 20s)) REQUIRE(r.ok());

  // The service's database: its effects and the processed ids, committed together.
  std::mutex db_mu;
  std::map<std::string, int> applied;
  sb::bus::InMemoryProcessedEvents processed;
  Seen<std::string> handled;
  auto apply = [&](const std::string& id) {
    std::lock_guard lock(db_mu);
    auto fresh = processed.MarkProcessed("restart-test", sb::EventId(id));
    REQUIRE(fresh.ok());
    if (*fresh) ++applied[id];
  };
  const sb::bus::ConsumerConfig config{
      .stream = name, .durable = "svc", .ack_wait = 1s, .fetch_batch = 16};
  {
    // The first instance commits, but "crashes" before acking every 7th event, and is killed
    // outright after 100 events, with more fetched and unhandled.
    std::atomic<int> count{0};
    auto first = bus->Consume(config, [&](JsMessage& m) {
      const int n = ++count;
      if (n > 100) return;
      apply(m.message().data);
      if (n % 7 != 0) REQUIRE(m.Ack().ok());
      handled.Add(m.message().data);
    });
    REQUIRE(first.ok());
    REQUIRE(handled.WaitForCount(100, 20s));
  }
  {
    std::lock_guard lock(db_mu);
    CHECK(applied.size() < static_cast<size_t>(kEvents));  // it really died mid-stream
  }
  Seen<std::string> second_handled;
  auto second = bus->Consume(config, [&](JsMessage& m) {
    apply(m.message().data);
    REQUIRE(m.Ack().ok());
    second_handled.Add(m.message().data);
  });
  REQUIRE(second.ok());
  bool done = false;
  for (int i = 0; i < 100 && !done; ++i) {
    second_handled.WaitForCount(second_handled.size() + 1, 200ms);
    auto state = bus->GetConsumerState(name, "svc");
    REQUIRE(state.ok());
    std::lock_guard lock(db_mu);
    done = applied.size() == kEvents && state->num_pending == 0 && state->num_ack_pending == 0;
  }
  CHECK(done);
  std::lock_guard lock(db_mu);
  CHECK(applied.size() == kEvents);
  for (const auto& [id, times] : applied) {
    INFO(id);
    CHECK(times == 1);
  }
  second->reset();
  CHECK(bus->DeleteStream(name).ok());
}

TEST_CASE(
    "JetStream: nats-server killed -9 and restarted while a client publishes: the client "
    "reconnects and no acknowledged message is lost",
    "[nats]") {
  auto server = sb::testing::NatsServer::Start();
  auto bus = ConnectTo(server.url());
  const std::string name = "CRASH";
  REQUIRE(bus->EnsureStream(TestStream(name, "crash")).ok());

  constexpr int kMessages = 400;
  Seen<std::string> acked;
  std::vector<sb::Status> failures;
  // Stopped and joined on every path, also when a REQUIRE below throws.
  std::jthread publisher([&](std::stop_token stop) {
    for (int i = 0; i < kMessages && !stop.stop_requested(); ++i) {
      const std::string id = "m-" + std::to_string(i);
      auto ack = bus->JsPublish({.message = {.subject = "crash.x", .data = id}, .msg_id = id}, 20s);
      if (ack.ok()) {
        acked.Add(id);
      } else {
        failures.push_back(ack.status());
      }
    }
  });
  REQUIRE(acked.WaitForCount(100, 20s));
  server.Kill();
  // While the server is down a request still ends at its deadline. (Not on a crash.> subject:
  // the stream would store the request once the buffer is flushed.)
  auto during = bus->Request({.subject = "elsewhere.nobody"}, 300ms);
  CHECK(!during.ok());
  server.Restart();
  publisher.join();

  for (const auto& f : failures) FAIL_CHECK(f.ToString());
  CHECK(bus->connected());  // the reconnected-callback counter may lag: cnats calls it later
  CHECK(acked.size() == kMessages);
  // Every acknowledged message is in the stream, and retries did not store any twice.
  auto count = bus->StreamMessageCount(name);
  REQUIRE(count.ok());
  CHECK(*count == kMessages);
  Seen<std::string> stored;
  auto reader =
      bus->Consume({.stream = name, .durable = "reader", .fetch_batch = 100}, [&](JsMessage& m) {
        stored.Add(m.message().data);
        REQUIRE(m.AckNoWait().ok());
      });
  REQUIRE(reader.ok());
  REQUIRE(stored.WaitForCount(kMessages, 20s));
  const auto items = stored.items();
  const std::set<std::string> unique(items.begin(), items.end());
  for (const auto& id : acked.items()) {
    INFO(id);
    CHECK(unique.count(id) == 1);
  }
}

TEST_CASE("typed request/reply over NATS: answers and errors keep their type and code", "[nats]") {
  auto bus = ConnectShared();
  const std::string subject = sb::testing::UniqueName("typed") + ".lookup";
  sb::bus::ParseErrorCounter bad;
  auto server =
      sb::bus::ServeProto<switchboard::common::v1::TenantId, switchboard::common::v1::Error>(
          *bus, subject, "admin",
          [](const switchboard::common::v1::TenantId& t,
             const Message&) -> sb::Result<switchboard::common::v1::Error> {
            if (t.value().empty())
              return sb::Status::InvalidArgument("tenant id is empty", "value");
            switchboard::common::v1::Error e;
            e.set_message("found " + t.value());
            return e;
          },
          &bad);
  REQUIRE(server.ok());
  REQUIRE(bus->Flush(2s).ok());
  switchboard::common::v1::TenantId t;
  t.set_value("t-1");
  auto ok = sb::bus::RequestProto<switchboard::common::v1::Error>(*bus, subject, t, 2s);
  REQUIRE(ok.ok());
  CHECK(ok->message() == "found t-1");
  auto err = sb::bus::RequestProto<switchboard::common::v1::Error>(
      *bus, subject, switchboard::common::v1::TenantId(), 2s);
  CHECK(err.status().code() == sb::StatusCode::kInvalidArgument);
  CHECK(err.status().message() == "tenant id is empty");
  auto garbage = bus->Request({.subject = subject, .data = "\x0a\xff\xff"}, 2s);
  REQUIRE(garbage.ok());
  CHECK(sb::bus::StatusFromReply(*garbage).code() == sb::StatusCode::kInvalidArgument);
  CHECK(bad.value() == 1);
}

TEST_CASE("a handler may destroy its own subscription, and nothing is delivered after", "[nats]") {
  auto bus = ConnectShared();
  const std::string subject = sb::testing::UniqueName("self") + ".x";
  std::mutex mu;
  std::unique_ptr<sb::bus::Subscription> sub;
  Seen<int> seen;
  {
    std::lock_guard lock(mu);
    auto s = bus->Subscribe(subject, "", [&](const Message&) {
      seen.Add(1);
      std::lock_guard lock(mu);
      sub.reset();  // from inside its own handler
    });
    REQUIRE(s.ok());
    sub = std::move(*s);
  }
  REQUIRE(bus->Flush(2s).ok());
  for (int i = 0; i < 5; ++i) REQUIRE(bus->Publish({.subject = subject}).ok());
  REQUIRE(bus->Flush(2s).ok());
  REQUIRE(seen.WaitForCount(1, 5s));
  // A round trip on another subject after the publishes: had more been delivered, it would be.
  Seen<int> marker;
  auto m = bus->Subscribe(subject + ".done", "", [&](const Message&) { marker.Add(1); });
  REQUIRE(bus->Flush(2s).ok());
  REQUIRE(bus->Publish({.subject = subject + ".done"}).ok());
  REQUIRE(marker.WaitForCount(1, 5s));
  CHECK(seen.size() == 1);
}

TEST_CASE("core publishes made while the server is down are buffered and sent after reconnect",
          "[nats]") {
  auto server = sb::testing::NatsServer::Start();
  auto bus = ConnectTo(server.url());
  // The stream is the witness: it stores core publishes on its subjects and survives restarts.
  REQUIRE(bus->EnsureStream(TestStream("BUFFER", "buffered")).ok());
  server.Kill();
  // Down as the client sees it: a write made before it noticed can go into the dead socket's
  // buffer and be lost, as with any TCP peer that dies.
  for (int i = 0; i < 500 && bus->connected(); ++i) std::this_thread::sleep_for(10ms);
  REQUIRE_FALSE(bus->connected());
  for (int i = 0; i < 50; ++i) {
    auto published = bus->Publish({.subject = "buffered.x", .data = std::to_string(i)});
    INFO(i << " " << published.ToString());
    REQUIRE(published.ok());
  }
  CHECK(!bus->connected());
  server.Restart();
  // The PING of a flush queues behind the buffered publishes: its PONG means they arrived.
  REQUIRE(bus->Flush(20s).ok());
  CHECK(bus->connected());
  auto count = bus->StreamMessageCount("BUFFER");
  REQUIRE(count.ok());
  CHECK(*count == 50);
}

TEST_CASE("JsPublishAll across a server restart: every message acked and stored once", "[nats]") {
  auto server = sb::testing::NatsServer::Start();
  auto bus = ConnectTo(server.url());
  REQUIRE(bus->EnsureStream(TestStream("BATCH", "batch")).ok());
  constexpr int kMessages = 2000;
  std::vector<sb::bus::JsOutbound> batch;
  for (int i = 0; i < kMessages; ++i) {
    const std::string id = "b-" + std::to_string(i);
    batch.push_back({.message = {.subject = "batch.x", .data = id}, .msg_id = id});
  }
  // Half before the crash, all of it again (same msg ids) while the server is down.
  std::span<const sb::bus::JsOutbound> first_half(batch.data(), kMessages / 2);
  for (const auto& r : bus->JsPublishAll(first_half, 20s)) REQUIRE(r.ok());
  server.Kill();
  std::vector<sb::Result<sb::bus::PublishAck>> results;
  {
    std::jthread publisher([&] { results = bus->JsPublishAll(batch, 30s); });
    server.Restart();
  }
  REQUIRE(results.size() == kMessages);
  int duplicates = 0;
  for (const auto& r : results) {
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    duplicates += r->duplicate ? 1 : 0;
  }
  CHECK(duplicates >= kMessages / 2);  // the first half was known to the stream already
  CHECK(*bus->StreamMessageCount("BATCH") == kMessages);
}

TEST_CASE("connecting where no server listens fails UNAVAILABLE, naming the url", "[nats]") {
  sb::bus::NatsBusOptions options;
  options.url = "nats://127.0.0.1:" + std::to_string(sb::testing::FreePort());
  options.connect_timeout = 500ms;
  const auto start = SteadyClock::now();
  auto bus = NatsBus::Connect(options);
  REQUIRE(!bus.ok());
  CHECK(bus.status().code() == sb::StatusCode::kUnavailable);
  CHECK(bus.status().message().find(options.url) != std::string::npos);
  CHECK(SteadyClock::now() - start < 5s);
}

TEST_CASE("JetStream: a nak with a delay is redelivered after that delay, not at once", "[nats]") {
  auto bus = ConnectShared();
  const std::string name = sb::testing::UniqueName("NAKDELAY");
  REQUIRE(bus->EnsureStream(TestStream(name, name)).ok());
  REQUIRE(bus->JsPublish({.message = {.subject = name + ".a"}}, 5s).ok());
  struct Delivery {
    uint64_t count;
    SteadyClock::time_point at;
  };
  Seen<Delivery> seen;
  auto consumer =
      bus->Consume({.stream = name, .durable = "w", .ack_wait = 30s}, [&](JsMessage& m) {
        seen.Add({m.delivery_count(), SteadyClock::now()});
        REQUIRE((m.delivery_count() == 1 ? m.Nak(700ms) : m.Ack()).ok());
      });
  REQUIRE(consumer.ok());
  REQUIRE(seen.WaitForCount(2, 10s));
  const auto d = seen.items();
  CHECK(d[1].count == 2);
  CHECK(d[1].at - d[0].at >= 650ms);
  CHECK(d[1].at - d[0].at < 10s);  // the nak delay, not the 30 s ack wait
  consumer->reset();
  CHECK(bus->DeleteStream(name).ok());
}
