#include "switchboard/bus/typed.h"

#include <catch2/catch.hpp>

#include "switchboard/common/v1/error.pb.h"
#include "switchboard/common/v1/ids.pb.h"
#include "switchboard/testing/in_memory_bus.h"

using namespace std::chrono_literals;
using switchboard::common::v1::Error;
using switchboard::common::v1::TenantId;

TEST_CASE("a typed request gets the typed answer of a typed responder", "[unit]") {
  sb::core::FakeClock clock;
  sb::testing::InMemoryBus bus(clock);
  sb::bus::ParseErrorCounter bad;
  auto server = sb::bus::ServeProto<TenantId, Error>(
      bus, "sb.cmd.admin.lookup", "admin",
      [](const TenantId& req, const sb::bus::Message&) -> sb::Result<Error> {
        Error e;
        e.set_message("tenant " + req.value());
        return e;
      },
      &bad);
  REQUIRE(server.ok());
  TenantId req;
  req.set_value("t-1");
  auto answer = sb::bus::RequestProto<Error>(bus, "sb.cmd.admin.lookup", req, 1s);
  REQUIRE(answer.ok());
  CHECK(answer->message() == "tenant t-1");
  CHECK(bad.value() == 0);
}

TEST_CASE("a responder's error comes back to the requester with its code", "[unit]") {
  sb::core::FakeClock clock;
  sb::testing::InMemoryBus bus(clock);
  auto server = sb::bus::ServeProto<TenantId, Error>(
      bus, "sb.cmd.admin.lookup", "",
      [](const TenantId&, const sb::bus::Message&) -> sb::Result<Error> {
        return sb::Status::NotFound("no such tenant");
      },
      nullptr);
  auto answer = sb::bus::RequestProto<Error>(bus, "sb.cmd.admin.lookup", TenantId(), 1s);
  REQUIRE(!answer.ok());
  CHECK(answer.status().code() == sb::StatusCode::kNotFound);
  CHECK(answer.status().message() == "no such tenant");
}

TEST_CASE("a request body that does not parse is counted and answered INVALID_ARGUMENT", "[unit]") {
  sb::core::FakeClock clock;
  sb::testing::InMemoryBus bus(clock);
  sb::bus::ParseErrorCounter bad;
  int served = 0;
  auto server = sb::bus::ServeProto<TenantId, Error>(
      bus, "sb.cmd.admin.lookup", "",
      [&](const TenantId&, const sb::bus::Message&) -> sb::Result<Error> {
        ++served;
        return Error();
      },
      &bad);
  auto reply = bus.Request({.subject = "sb.cmd.admin.lookup", .data = "\xff\xff\xff"}, 1s);
  REQUIRE(reply.ok());
  CHECK(sb::bus::StatusFromReply(*reply).code() == sb::StatusCode::kInvalidArgument);
  CHECK(served == 0);
  CHECK(bad.value() == 1);
}

TEST_CASE("a reply with a forged status header is an INTERNAL error, not a crash", "[unit]") {
  for (std::string code : {"0", "12", "x", "", "99999999999999999999"}) {
    sb::bus::Message reply;
    reply.headers.emplace(std::string(sb::bus::kStatusHeader), code);
    CHECK(sb::bus::StatusFromReply(reply).code() == sb::StatusCode::kInternal);
  }
}

TEST_CASE("typed subscribers drop and count bodies that do not parse", "[unit]") {
  sb::core::FakeClock clock;
  sb::testing::InMemoryBus bus(clock);
  sb::bus::ParseErrorCounter bad;
  std::vector<std::string> got;
  auto sub = sb::bus::SubscribeProto<TenantId>(
      bus, "sb.evt.>", "",
      [&](const TenantId& t, const sb::bus::Message&) { got.push_back(t.value()); }, &bad);
  TenantId t;
  t.set_value("t-9");
  REQUIRE(sb::bus::PublishProto(bus, "sb.evt.x.y.z", t).ok());
  REQUIRE(bus.Publish({.subject = "sb.evt.x.y.z", .data = "\x0a\xff"}).ok());
  CHECK(got == std::vector<std::string>{"t-9"});
  CHECK(bad.value() == 1);
}

TEST_CASE("typed consumers term a poison message so it is never redelivered", "[unit]") {
  sb::core::FakeClock clock;
  sb::testing::InMemoryBus bus(clock);
  REQUIRE(bus.EnsureStream({.name = "EV", .subjects = {"ev.>"}}).ok());
  sb::bus::ParseErrorCounter bad;
  std::vector<std::string> got;
  auto consumer = sb::bus::ConsumeProto<TenantId>(
      bus, {.stream = "EV", .durable = "typed", .ack_wait = 5s},
      [&](const TenantId& t, sb::bus::JsMessage& m) {
        got.push_back(t.value());
        REQUIRE(m.Ack().ok());
      },
      &bad);
  REQUIRE(consumer.ok());
  REQUIRE(bus.JsPublish({.message = {.subject = "ev.a", .data = "\x0a\xff"}}, 1s).ok());
  TenantId t;
  t.set_value("ok");
  REQUIRE(sb::bus::JsPublishProto(bus, "ev.a", t, "id-1", 1s).ok());
  clock.Advance(1min);
  bus.ProcessDue();
  CHECK(got == std::vector<std::string>{"ok"});
  CHECK(bad.value() == 1);
  CHECK(bus.GetConsumerState("EV", "typed")->num_ack_pending == 0);
}
