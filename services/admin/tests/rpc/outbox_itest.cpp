// Events are not lost: each mutation writes its event to admin.outbox in its own transaction and
// the relay publishes it to JetStream only when NATS takes it; every replica drops its cached
// lookups through those events. Real PostgreSQL, NATS (stopped and restarted) and Redis.
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <pqxx/pqxx>

#include "rpc/admin_fixture.h"
#include "rpc/lookup_server.h"
#include "switchboard/admin/v1/events.pb.h"
#include "switchboard/admin/v1/lookup.pb.h"
#include "switchboard/bus/typed.h"
#include "switchboard/redis/client.h"
#include "switchboard/sip/digest.h"

namespace sb::admin {
namespace {

using testing::AdminFixture;
using testing::Call;
namespace pb = ::switchboard::admin::v1;
namespace common = ::switchboard::common::v1;

// Collects admin's extension events from the stream (all of them, from the start).
struct EventLog {
  explicit EventLog(bus::Bus& bus, const std::string& durable) {
    auto c = bus.Consume(
        {.stream = "SB_EVENTS", .durable = durable, .filter_subject = "sb.evt.extension.>"},
        [this](bus::JsMessage& m) {
          pb::ExtensionEvent e;
          if (e.ParseFromString(m.message().data)) {
            std::lock_guard lock(mu);
            events.push_back(e);
          }
          (void)m.Ack();
          cv.notify_all();
        });
    if (!c.ok()) throw std::runtime_error(c.status().ToString());
    consumer = std::move(*c);
  }
  // Bounded wait for an event of that extension and type; how many such arrived.
  size_t WaitFor(const std::string& ext_id, const std::string& type) {
    std::unique_lock lock(mu);
    auto count = [&] {
      size_t n = 0;
      for (const auto& e : events) n += e.extension().id() == ext_id && e.meta().type() == type;
      return n;
    };
    cv.wait_for(lock, std::chrono::seconds(20), [&] { return count() > 0; });
    return count();
  }
  std::mutex mu;
  std::condition_variable cv;
  std::vector<pb::ExtensionEvent> events;
  std::unique_ptr<bus::Subscription> consumer;
};

int64_t OutboxRows(const std::string& dsn) {
  pqxx::connection c(dsn);
  pqxx::work w(c);
  return w.exec("SELECT count(*) FROM admin.outbox")[0][0].as<int64_t>();
}

pb::Extension CreateExtension(AdminFixture& f, const std::string& key, const std::string& number) {
  pb::CreateExtensionRequest ce;
  ce.set_number(number);
  ce.set_password("long enough secret");
  pb::Extension ext;
  grpc::Status s = Call(f.extensions, key, &pb::ExtensionService::Stub::CreateExtension, ce, &ext);
  INFO(s.error_message());
  REQUIRE(s.ok());
  return ext;
}

TEST_CASE("a change committed while NATS is down is published once NATS is back", "[integration]") {
  AdminFixture f;
  const std::string key = f.Onboard("acme");
  REQUIRE(f.server->WaitOutboxEmpty(std::chrono::seconds(20)));

  f.nats.Stop();
  // The change commits without NATS: its event waits in the outbox, in the same database.
  pb::Extension ext = CreateExtension(f, key, "1001");
  CHECK(OutboxRows(f.dsn) == 1);
  // A mutation that does not commit writes no event.
  pb::CreateExtensionRequest dup;
  dup.set_number("1001");
  dup.set_password("long enough secret");
  pb::Extension ignored;
  CHECK(Call(f.extensions, key, &pb::ExtensionService::Stub::CreateExtension, dup, &ignored)
            .error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(OutboxRows(f.dsn) == 1);
  CHECK_FALSE(f.server->WaitOutboxEmpty(std::chrono::milliseconds(300)));
  CHECK(OutboxRows(f.dsn) == 1);

  f.nats.Restart();
  REQUIRE(f.server->WaitOutboxEmpty(std::chrono::seconds(30)));
  CHECK(OutboxRows(f.dsn) == 0);
  EventLog log(f.bus(), "outbox_test");
  CHECK(log.WaitFor(ext.id(), "extension.created") == 1);
}

TEST_CASE("an admin stopped between commit and publish leaves the event to the next one",
          "[integration]") {
  AdminFixture f;
  const std::string key = f.Onboard("acme");
  REQUIRE(f.server->WaitOutboxEmpty(std::chrono::seconds(20)));

  f.nats.Kill();
  pb::Extension ext = CreateExtension(f, key, "1001");
  // The admin goes away with the event unpublished (its relay could not reach NATS).
  f.server.reset();
  CHECK(OutboxRows(f.dsn) == 1);

  f.nats.Restart();
  core::MetricsRegistry metrics;
  auto next = f.StartReplica("admin/next", metrics);
  REQUIRE(next->WaitOutboxEmpty(std::chrono::seconds(30)));
  CHECK(OutboxRows(f.dsn) == 0);
  EventLog log(f.bus(), "outbox_restart_test");
  CHECK(log.WaitFor(ext.id(), "extension.created") == 1);
}

TEST_CASE("a replica that did not make a change drops its cached lookups through the event",
          "[integration]") {
  AdminFixture f;
  // Replica B has a Redis of its own, so only the event can tell it about A's change.
  auto redis_b = sb::testing::RedisServer::Start();
  core::MetricsRegistry metrics_b;
  auto b = f.StartReplica("admin/b", metrics_b, redis_b.url());
  const std::string key = f.Onboard("acme");
  pb::Extension ext = CreateExtension(f, key, "1001");

  auto options = redis::OptionsFromUrl(redis_b.url(), "admin:");
  REQUIRE(options.ok());
  redis::Client b_cache(*options);
  const std::string cached = "lk:cred:acme.sip.test.example:1001";
  auto in_b = [&] {
    auto r = b_cache.Run(redis::Command("EXISTS").Key(cached));
    REQUIRE(r.ok());
    return r->integer() == 1;
  };
  auto subject = rpc::LookupSubject("lookup_credentials");
  REQUIRE(subject.ok());
  pb::LookupCredentialsRequest req;
  req.set_sip_domain("acme.sip.test.example");
  req.set_sip_username("1001");
  auto lookup = [&] {
    auto reply = bus::RequestProto<pb::LookupCredentialsReply>(f.bus(), *subject, req,
                                                               std::chrono::seconds(5));
    REQUIRE(reply.ok());
    return *reply;
  };
  // Both replicas relay the shared outbox: B has heard of every change once it applied as many
  // events as the two published.
  auto b_caught_up = [&] {
    REQUIRE(f.server->WaitOutboxEmpty(std::chrono::seconds(20)));
    REQUIRE(b->WaitOutboxEmpty(std::chrono::seconds(20)));
    const auto published =
        static_cast<uint64_t>(f.metrics.Counter("sb_admin_outbox_published_total", "").value() +
                              metrics_b.Counter("sb_admin_outbox_published_total", "").value());
    REQUIRE(b->WaitCacheEventsApplied(published, std::chrono::seconds(20)));
  };
  b_caught_up();
  // The lookup queue group spreads requests over both replicas: ask until B has cached it.
  for (int i = 0; i < 200 && !in_b(); ++i) (void)lookup();
  REQUIRE(in_b());

  pb::UpdateExtensionRequest ue;
  ue.set_id(ext.id());
  ue.set_password("a new long secret");
  REQUIRE(Call(f.extensions, key, &pb::ExtensionService::Stub::UpdateExtension, ue, &ext).ok());
  b_caught_up();
  CHECK_FALSE(in_b());
  const std::string want = sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kMd5, "1001",
                                               "acme.sip.test.example", "a new long secret");
  for (int i = 0; i < 20; ++i) CHECK(lookup().ha1_md5() == want);
}

TEST_CASE("a replica's cache consumers are handed admin's events and no other service's",
          "[integration]") {
  AdminFixture f;
  (void)f.Onboard("acme");
  f.Settle();
  // With the admin stopped its durable consumers stay on the server, counting what they would
  // be handed next.
  f.server.reset();
  const std::string tenant = "0190a5a0-0000-7000-8000-000000000001";
  for (const std::string& subject :
       {"sb.evt.call.started." + tenant, "sb.evt.registration.created." + tenant,
        "sb.evt.extension.updated." + tenant}) {
    auto ack =
        f.bus().JsPublish({.message = {.subject = subject, .data = "event"}, .msg_id = subject},
                          std::chrono::seconds(5));
    REQUIRE(ack.ok());
  }
  auto& nats = dynamic_cast<bus::NatsBus&>(f.bus());
  auto pending = [&](const std::string& domain) {
    auto state = nats.GetConsumerState("SB_EVENTS", "admin_lookups_" + domain + "_admin");
    REQUIRE(state.ok());
    return state->num_pending;
  };
  CHECK(pending("extension") == 1);
  CHECK(pending("tenant") == 0);
  CHECK(pending("number") == 0);
  CHECK(pending("trunk") == 0);
}

}  // namespace
}  // namespace sb::admin
