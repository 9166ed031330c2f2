#include "switchboard/testing/in_memory_bus.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using sb::bus::JsMessage;
using sb::bus::Message;
using sb::testing::InMemoryBus;

namespace {

sb::bus::StreamConfig Stream(std::string name, std::string subject) {
  sb::bus::StreamConfig c;
  c.name = std::move(name);
  c.subjects = {std::move(subject)};
  return c;
}

}  // namespace

TEST_CASE("core subscribers get what matches their wildcard pattern", "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  struct Case {
    std::string pattern;
    std::string subject;
    bool delivered;
  };
  auto c = GENERATE(Case{"sb.evt.call.*.t1", "sb.evt.call.answered.t1", true},
                    Case{"sb.evt.call.*.t1", "sb.evt.call.answered.t2", false},
                    Case{"sb.evt.>", "sb.evt.call.answered.t1", true},
                    Case{"sb.evt.>", "sb.evt", false}, Case{"sb.*.call.>", "sb.cmd.call.x", true},
                    Case{"sb.cmd.billing.authorize", "sb.cmd.billing.authorize", true},
                    Case{"sb.cmd.billing.authorize", "sb.cmd.billing.authorize.x", false});
  DYNAMIC_SECTION(c.pattern << " vs " << c.subject) {
    std::vector<std::string> got;
    auto sub = bus.Subscribe(c.pattern, "", [&](const Message& m) { got.push_back(m.data); });
    REQUIRE(sub.ok());
    REQUIRE(bus.Publish({.subject = c.subject, .data = "hello"}).ok());
    CHECK(got.size() == (c.delivered ? 1u : 0u));
  }
}

TEST_CASE("each message goes to one member of a queue group, plain subscribers get all", "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  int a = 0, b = 0, watcher = 0;
  auto sa = bus.Subscribe("sb.cmd.billing.authorize", "billing", [&](const Message&) { ++a; });
  auto sb_ = bus.Subscribe("sb.cmd.billing.authorize", "billing", [&](const Message&) { ++b; });
  auto sw = bus.Subscribe("sb.cmd.>", "", [&](const Message&) { ++watcher; });
  for (int i = 0; i < 10; ++i) REQUIRE(bus.Publish({.subject = "sb.cmd.billing.authorize"}).ok());
  CHECK(a + b == 10);
  CHECK(a > 0);
  CHECK(b > 0);
  CHECK(watcher == 10);
}

TEST_CASE("a destroyed subscription gets nothing more", "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  int got = 0;
  auto sub = bus.Subscribe("a.b", "", [&](const Message&) { ++got; });
  REQUIRE(bus.Publish({.subject = "a.b"}).ok());
  sub->reset();
  REQUIRE(bus.Publish({.subject = "a.b"}).ok());
  CHECK(got == 1);
}

TEST_CASE("publishing to a wildcard or malformed subject is refused", "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  for (std::string bad : {"a.*", "a.>", "a..b", "", "a b"}) {
    CHECK(bus.Publish({.subject = bad}).code() == sb::StatusCode::kInvalidArgument);
  }
  CHECK(!bus.Subscribe("a.>.b", "", [](const Message&) {}).ok());
}

TEST_CASE("a request is answered by a responder, with headers", "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  auto responder = bus.Subscribe("sb.cmd.flow.decide", "flow", [&](const Message& m) {
    REQUIRE(bus.Publish({.subject = m.reply,
                         .data = "answer to " + m.data,
                         .headers = {{"X-Node", "flow-1"}}})
                .ok());
  });
  auto reply = bus.Request({.subject = "sb.cmd.flow.decide", .data = "call 1"}, 1s);
  REQUIRE(reply.ok());
  CHECK(reply->data == "answer to call 1");
  CHECK(reply->headers.at("X-Node") == "flow-1");
}

TEST_CASE("a request with no responder fails at once with UNAVAILABLE", "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  auto reply = bus.Request({.subject = "sb.cmd.nobody.home"}, 10s);
  REQUIRE(!reply.ok());
  CHECK(reply.status().code() == sb::StatusCode::kUnavailable);
}

TEST_CASE("a request nobody answers fails with DEADLINE_EXCEEDED", "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  auto silent = bus.Subscribe("sb.cmd.flow.decide", "", [](const Message&) {});
  auto reply = bus.Request({.subject = "sb.cmd.flow.decide"}, 5ms);
  REQUIRE(!reply.ok());
  CHECK(reply.status().code() == sb::StatusCode::kDeadlineExceeded);
}

TEST_CASE("JetStream: a durable consumer gets stored messages in order, with sequence numbers",
          "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  REQUIRE(bus.EnsureStream(Stream("EV", "ev.>")).ok());
  REQUIRE(bus.EnsureStream(Stream("EV", "ev.>")).ok());  // idempotent
  for (int i = 1; i <= 3; ++i) {
    auto ack = bus.JsPublish({.message = {.subject = "ev.x", .data = std::to_string(i)}}, 1s);
    REQUIRE(ack.ok());
    CHECK(ack->sequence == static_cast<uint64_t>(i));
    CHECK(ack->stream == "EV");
  }
  std::vector<std::string> got;
  auto consumer = bus.Consume({.stream = "EV", .durable = "worker"}, [&](JsMessage& m) {
    got.push_back(m.message().data);
    CHECK(m.delivery_count() == 1);
    REQUIRE(m.Ack().ok());
  });
  REQUIRE(consumer.ok());
  CHECK(got == std::vector<std::string>{"1", "2", "3"});
  auto state = bus.GetConsumerState("EV", "worker");
  REQUIRE(state.ok());
  CHECK(state->num_pending == 0);
  CHECK(state->num_ack_pending == 0);
}

TEST_CASE("JetStream: a msg id seen within the duplicate window is stored once", "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  auto config = Stream("EV", "ev.>");
  config.duplicate_window = 2min;
  REQUIRE(bus.EnsureStream(config).ok());
  auto first = bus.JsPublish({.message = {.subject = "ev.a"}, .msg_id = "id-1"}, 1s);
  auto again = bus.JsPublish({.message = {.subject = "ev.a"}, .msg_id = "id-1"}, 1s);
  REQUIRE(first.ok());
  REQUIRE(again.ok());
  CHECK(!first->duplicate);
  CHECK(again->duplicate);
  CHECK(again->sequence == first->sequence);
  CHECK(*bus.StreamMessageCount("EV") == 1);
  clock.Advance(3min);
  auto later = bus.JsPublish({.message = {.subject = "ev.a"}, .msg_id = "id-1"}, 1s);
  REQUIRE(later.ok());
  CHECK(!later->duplicate);
  CHECK(*bus.StreamMessageCount("EV") == 2);
}

TEST_CASE("JetStream: publishing where no stream captures fails", "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  auto ack = bus.JsPublish({.message = {.subject = "nowhere.x"}}, 1s);
  REQUIRE(!ack.ok());
  CHECK(ack.status().code() == sb::StatusCode::kDeadlineExceeded);
}

TEST_CASE("JetStream: an unacked message is redelivered after the ack wait, not before", "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  REQUIRE(bus.EnsureStream(Stream("EV", "ev.>")).ok());
  std::vector<uint64_t> deliveries;
  bool ack_now = false;
  auto consumer = bus.Consume({.stream = "EV", .durable = "w", .ack_wait = 30s}, [&](JsMessage& m) {
    deliveries.push_back(m.delivery_count());
    if (ack_now) REQUIRE(m.Ack().ok());
  });
  REQUIRE(bus.JsPublish({.message = {.subject = "ev.a"}}, 1s).ok());
  CHECK(deliveries == std::vector<uint64_t>{1});
  clock.Advance(29s);
  CHECK(bus.ProcessDue() == 0);
  clock.Advance(1s);
  ack_now = true;
  CHECK(bus.ProcessDue() == 1);
  CHECK(deliveries == std::vector<uint64_t>{1, 2});
  clock.Advance(1h);
  CHECK(bus.ProcessDue() == 0);
}

TEST_CASE("JetStream: nak redelivers after its delay (at once without one), term never again",
          "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  REQUIRE(bus.EnsureStream(Stream("EV", "ev.>")).ok());
  std::vector<std::string> log;
  auto consumer = bus.Consume({.stream = "EV", .durable = "w", .ack_wait = 10s}, [&](JsMessage& m) {
    const std::string& what = m.message().data;
    log.push_back(what + "#" + std::to_string(m.delivery_count()));
    if (m.delivery_count() > 1) {
      REQUIRE(m.Ack().ok());
    } else if (what == "nak") {
      REQUIRE(m.Nak(5s).ok());
    } else if (what == "nak0") {
      REQUIRE(m.Nak(0s).ok());
    } else if (what == "term") {
      REQUIRE(m.Term().ok());
    }
  });
  for (std::string d : {"nak", "nak0", "term"}) {
    REQUIRE(bus.JsPublish({.message = {.subject = "ev.a", .data = d}}, 1s).ok());
  }
  // A nak without delay is redelivered at once, after the handler returned.
  CHECK(log == std::vector<std::string>{"nak#1", "nak0#1", "nak0#2", "term#1"});
  log.clear();
  clock.Advance(4s);
  CHECK(bus.ProcessDue() == 0);
  clock.Advance(1s);
  bus.ProcessDue();
  CHECK(log == std::vector<std::string>{"nak#2"});
  clock.Advance(1h);
  CHECK(bus.ProcessDue() == 0);
  CHECK(bus.GetConsumerState("EV", "w")->num_ack_pending == 0);
}

TEST_CASE("JetStream: in-progress restarts the ack wait of a slow handler", "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  REQUIRE(bus.EnsureStream(Stream("EV", "ev.>")).ok());
  std::vector<uint64_t> deliveries;
  auto consumer = bus.Consume({.stream = "EV", .durable = "w", .ack_wait = 10s}, [&](JsMessage& m) {
    deliveries.push_back(m.delivery_count());
    if (m.delivery_count() == 1) {
      clock.Advance(8s);  // the work takes 8 s of the 10 s ack wait
      REQUIRE(m.InProgress().ok());
    }
  });
  REQUIRE(bus.JsPublish({.message = {.subject = "ev.a"}}, 1s).ok());
  clock.Advance(9s);  // 17 s after delivery, 9 s after in-progress
  CHECK(bus.ProcessDue() == 0);
  clock.Advance(1s);
  CHECK(bus.ProcessDue() == 1);
  CHECK(deliveries == std::vector<uint64_t>{1, 2});
}

TEST_CASE("JetStream: max deliveries stops redelivery", "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  REQUIRE(bus.EnsureStream(Stream("EV", "ev.>")).ok());
  int deliveries = 0;
  auto consumer = bus.Consume({.stream = "EV", .durable = "w", .ack_wait = 1s, .max_deliver = 3},
                              [&](JsMessage&) { ++deliveries; });
  REQUIRE(bus.JsPublish({.message = {.subject = "ev.a"}}, 1s).ok());
  for (int i = 0; i < 10; ++i) {
    clock.Advance(1s);
    bus.ProcessDue();
  }
  CHECK(deliveries == 3);
  CHECK(bus.GetConsumerState("EV", "w")->num_exhausted == 1);
}

TEST_CASE("JetStream: a durable remembers its position across consumers, and replicas share it",
          "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  REQUIRE(bus.EnsureStream(Stream("EV", "ev.>")).ok());
  std::vector<std::string> first_got;
  {
    auto first = bus.Consume({.stream = "EV", .durable = "w"}, [&](JsMessage& m) {
      first_got.push_back(m.message().data);
      REQUIRE(m.Ack().ok());
    });
    REQUIRE(bus.JsPublish({.message = {.subject = "ev.a", .data = "1"}}, 1s).ok());
  }
  REQUIRE(bus.JsPublish({.message = {.subject = "ev.a", .data = "2"}}, 1s).ok());
  CHECK(bus.GetConsumerState("EV", "w")->num_pending == 1);
  int a = 0, b = 0;
  auto ra = bus.Consume({.stream = "EV", .durable = "w"}, [&](JsMessage& m) {
    ++a;
    REQUIRE(m.Ack().ok());
  });
  auto rb = bus.Consume({.stream = "EV", .durable = "w"}, [&](JsMessage& m) {
    ++b;
    REQUIRE(m.Ack().ok());
  });
  for (int i = 0; i < 10; ++i) {
    REQUIRE(bus.JsPublish({.message = {.subject = "ev.a", .data = "n"}}, 1s).ok());
  }
  CHECK(first_got == std::vector<std::string>{"1"});
  CHECK(a + b == 11);  // "2" plus the ten, each once
  CHECK(a > 0);
  CHECK(b > 0);
}

TEST_CASE("JetStream: a consumer's filter and deliver-new policy select what it gets", "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  REQUIRE(bus.EnsureStream(Stream("EV", "ev.>")).ok());
  REQUIRE(bus.JsPublish({.message = {.subject = "ev.call.old"}}, 1s).ok());
  std::vector<std::string> got;
  auto c = bus.Consume({.stream = "EV",
                        .durable = "calls",
                        .filter_subject = "ev.call.*",
                        .deliver_policy = sb::bus::DeliverPolicy::kNew},
                       [&](JsMessage& m) {
                         got.push_back(m.message().subject);
                         REQUIRE(m.Ack().ok());
                       });
  REQUIRE(bus.JsPublish({.message = {.subject = "ev.sms.new"}}, 1s).ok());
  REQUIRE(bus.JsPublish({.message = {.subject = "ev.call.new"}}, 1s).ok());
  CHECK(got == std::vector<std::string>{"ev.call.new"});
}

TEST_CASE("JetStream: a handler may publish events that other consumers then get", "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  REQUIRE(bus.EnsureStream(Stream("EV", "ev.>")).ok());
  std::vector<std::string> got;
  auto relay = bus.Consume({.stream = "EV", .durable = "relay", .filter_subject = "ev.in"},
                           [&](JsMessage& m) {
                             REQUIRE(bus.JsPublish({.message = {.subject = "ev.out"}}, 1s).ok());
                             REQUIRE(m.Ack().ok());
                           });
  auto sink = bus.Consume({.stream = "EV", .durable = "sink", .filter_subject = "ev.out"},
                          [&](JsMessage& m) {
                            got.push_back(m.message().subject);
                            REQUIRE(m.Ack().ok());
                          });
  REQUIRE(bus.JsPublish({.message = {.subject = "ev.in"}}, 1s).ok());
  CHECK(got == std::vector<std::string>{"ev.out"});
}

TEST_CASE("JetStream: consuming a stream that does not exist is NOT_FOUND", "[unit]") {
  sb::core::FakeClock clock;
  InMemoryBus bus(clock);
  auto c = bus.Consume({.stream = "NOPE", .durable = "w"}, [](JsMessage&) {});
  REQUIRE(!c.ok());
  CHECK(c.status().code() == sb::StatusCode::kNotFound);
}
