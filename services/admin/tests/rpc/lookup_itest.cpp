// The lookups other services ask over NATS, answered from the Redis cache, kept fresh by
// mutations; and admin's events on JetStream.
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>

#include "domain/credentials.h"
#include "rpc/admin_fixture.h"
#include "rpc/lookup_server.h"
#include "switchboard/admin/v1/events.pb.h"
#include "switchboard/admin/v1/lookup.pb.h"
#include "switchboard/bus/typed.h"
#include "switchboard/sip/digest.h"

namespace sb::admin {
namespace {

using testing::AdminFixture;
using testing::Call;
using testing::kPlatformKey;
namespace pb = ::switchboard::admin::v1;
namespace common = ::switchboard::common::v1;

template <typename Reply>
Reply Ask(AdminFixture& f, const char* operation, const google::protobuf::MessageLite& req) {
  auto subject = rpc::LookupSubject(operation);
  REQUIRE(subject.ok());
  auto reply = bus::RequestProto<Reply>(f.bus(), *subject, req, std::chrono::seconds(5));
  REQUIRE(reply.ok());
  return *reply;
}

pb::LookupCredentialsReply Credentials(AdminFixture& f, const std::string& user) {
  pb::LookupCredentialsRequest req;
  req.set_sip_domain("acme.sip.test.example");
  req.set_sip_username(user);
  return Ask<pb::LookupCredentialsReply>(f, "lookup_credentials", req);
}

// Extension 1001, SIP user alice, password "correct horse".
pb::Extension CreateAlice(AdminFixture& f, const std::string& key) {
  pb::CreateExtensionRequest ce;
  ce.set_number("1001");
  ce.set_sip_username("alice");
  ce.set_password("correct horse");
  pb::Extension ext;
  REQUIRE(Call(f.extensions, key, &pb::ExtensionService::Stub::CreateExtension, ce, &ext).ok());
  return ext;
}

double CacheHits(AdminFixture& f) {
  return f.metrics.Counter("sb_admin_lookup_cache_total", "", {{"result", "hit"}}).value();
}

TEST_CASE("credential, domain, number and trunk lookups over NATS", "[integration]") {
  AdminFixture f;
  pb::Tenant tenant;
  const std::string key = f.Onboard("acme", &tenant);
  pb::Extension ext = CreateAlice(f, key);

  // A miss fills the cache, the next identical lookup is a hit with the same answer.
  f.Settle();  // no late event may drop what the next lookups cache
  auto first = Credentials(f, "alice");
  CHECK(first.error().code() == common::ERROR_CODE_OK);
  CHECK(first.tenant_id() == tenant.id());
  CHECK(first.tenant_status() == pb::TENANT_STATUS_ACTIVE);
  CHECK(first.extension_id() == ext.id());
  CHECK(first.extension_number() == "1001");
  CHECK(first.enabled());
  CHECK(first.ha1_md5() == sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kMd5, "alice",
                                               "acme.sip.test.example", "correct horse"));
  CHECK(first.ha1_sha256() == sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kSha256, "alice",
                                                  "acme.sip.test.example", "correct horse"));
  const double hits = CacheHits(f);
  auto second = Credentials(f, "alice");
  CHECK(CacheHits(f) == hits + 1);
  CHECK(second.SerializeAsString() == first.SerializeAsString());

  // A password change is visible at once: the mutation dropped the cached entry.
  pb::UpdateExtensionRequest ue;
  ue.set_id(ext.id());
  ue.set_password("battery staple");
  REQUIRE(Call(f.extensions, key, &pb::ExtensionService::Stub::UpdateExtension, ue, &ext).ok());
  CHECK(Credentials(f, "alice").ha1_md5() == sb::sip::ComputeHa1(sb::sip::DigestAlgorithm::kMd5,
                                                                 "alice", "acme.sip.test.example",
                                                                 "battery staple"));

  // Unknown users are NOT_FOUND (and cached as such until one is created).
  CHECK(Credentials(f, "bob").error().code() == common::ERROR_CODE_NOT_FOUND);
  pb::CreateExtensionRequest ce;
  ce.set_number("1002");
  ce.set_sip_username("bob");
  ce.set_password("correct horse");
  REQUIRE(Call(f.extensions, key, &pb::ExtensionService::Stub::CreateExtension, ce, &ext).ok());
  CHECK(Credentials(f, "bob").error().code() == common::ERROR_CODE_OK);
  auto bad = Credentials(f, "bad user");
  CHECK(bad.error().code() == common::ERROR_CODE_INVALID_ARGUMENT);
  CHECK(bad.error().field() == "sip_username");

  pb::LookupDomainRequest dom;
  dom.set_sip_domain("ACME.sip.test.example");
  auto d = Ask<pb::LookupDomainReply>(f, "lookup_domain", dom);
  CHECK(d.tenant_id() == tenant.id());
  dom.set_sip_domain("nobody.sip.test.example");
  CHECK(Ask<pb::LookupDomainReply>(f, "lookup_domain", dom).error().code() ==
        common::ERROR_CODE_NOT_FOUND);

  pb::AddNumberRequest an;
  an.set_e164("+15551230001");
  an.set_target("ext:1001");
  pb::PhoneNumber num;
  REQUIRE(Call(f.numbers, key, &pb::NumberService::Stub::AddNumber, an, &num).ok());
  pb::LookupNumberRequest ln;
  ln.set_e164("+15551230001");
  auto n = Ask<pb::LookupNumberReply>(f, "lookup_number", ln);
  CHECK(n.tenant_id() == tenant.id());
  CHECK(n.target() == "ext:1001");
  pb::UpdateNumberRequest un;
  un.set_id(num.id());
  un.set_target("ext:1002");
  REQUIRE(Call(f.numbers, key, &pb::NumberService::Stub::UpdateNumber, un, &num).ok());
  CHECK(Ask<pb::LookupNumberReply>(f, "lookup_number", ln).target() == "ext:1002");

  pb::CreateTrunkRequest ct;
  ct.set_name("carrier");
  ct.set_host("sip.carrier.example");
  ct.set_transport(pb::TRANSPORT_TCP);
  ct.add_inbound_sources("203.0.113.0/24");
  pb::Trunk trunk;
  REQUIRE(Call(f.trunks, key, &pb::TrunkService::Stub::CreateTrunk, ct, &trunk).ok());
  pb::LookupTrunkBySourceRequest lt;
  lt.set_source_ip("203.0.113.77");
  auto t = Ask<pb::LookupTrunkBySourceReply>(f, "lookup_trunk_by_source", lt);
  CHECK(t.trunk_id() == trunk.id());
  CHECK(t.transport() == pb::TRANSPORT_TCP);
  // Moving the trunk's source range drops the cached answer for the old address.
  pb::UpdateTrunkRequest ut;
  ut.set_id(trunk.id());
  ut.set_replace_inbound_sources(true);
  ut.add_inbound_sources("198.51.100.0/24");
  REQUIRE(Call(f.trunks, key, &pb::TrunkService::Stub::UpdateTrunk, ut, &trunk).ok());
  CHECK(Ask<pb::LookupTrunkBySourceReply>(f, "lookup_trunk_by_source", lt).error().code() ==
        common::ERROR_CODE_NOT_FOUND);
}

TEST_CASE("a suspended tenant's lookups say so, and say active again after resuming",
          "[integration]") {
  AdminFixture f;
  pb::Tenant tenant;
  const std::string key = f.Onboard("acme", &tenant);
  pb::CreateExtensionRequest ce;
  ce.set_number("1001");
  ce.set_password("long enough");
  pb::Extension ext;
  REQUIRE(Call(f.extensions, key, &pb::ExtensionService::Stub::CreateExtension, ce, &ext).ok());
  pb::AddNumberRequest an;
  an.set_e164("+15551230009");
  pb::PhoneNumber num;
  REQUIRE(Call(f.numbers, key, &pb::NumberService::Stub::AddNumber, an, &num).ok());
  pb::LookupNumberRequest ln;
  ln.set_e164("+15551230009");
  pb::LookupDomainRequest dom;
  dom.set_sip_domain("acme.sip.test.example");

  // Warm the cache first, so the suspension has to invalidate it.
  CHECK(Credentials(f, "1001").tenant_status() == pb::TENANT_STATUS_ACTIVE);
  CHECK(Ask<pb::LookupNumberReply>(f, "lookup_number", ln).tenant_status() ==
        pb::TENANT_STATUS_ACTIVE);
  CHECK(Ask<pb::LookupDomainReply>(f, "lookup_domain", dom).tenant_status() ==
        pb::TENANT_STATUS_ACTIVE);

  pb::SuspendTenantRequest s;
  s.set_id(tenant.id());
  pb::Tenant t;
  REQUIRE(Call(f.tenants, kPlatformKey, &pb::TenantService::Stub::SuspendTenant, s, &t).ok());
  CHECK(Credentials(f, "1001").tenant_status() == pb::TENANT_STATUS_SUSPENDED);
  CHECK(Ask<pb::LookupNumberReply>(f, "lookup_number", ln).tenant_status() ==
        pb::TENANT_STATUS_SUSPENDED);
  CHECK(Ask<pb::LookupDomainReply>(f, "lookup_domain", dom).tenant_status() ==
        pb::TENANT_STATUS_SUSPENDED);

  pb::ResumeTenantRequest r;
  r.set_id(tenant.id());
  REQUIRE(Call(f.tenants, kPlatformKey, &pb::TenantService::Stub::ResumeTenant, r, &t).ok());
  CHECK(Credentials(f, "1001").tenant_status() == pb::TENANT_STATUS_ACTIVE);

  pb::DeleteTenantRequest d;
  d.set_id(tenant.id());
  pb::DeleteTenantResponse dr;
  REQUIRE(Call(f.tenants, kPlatformKey, &pb::TenantService::Stub::DeleteTenant, d, &dr).ok());
  CHECK(Credentials(f, "1001").error().code() == common::ERROR_CODE_NOT_FOUND);
  CHECK(Ask<pb::LookupNumberReply>(f, "lookup_number", ln).error().code() ==
        common::ERROR_CODE_NOT_FOUND);
}

TEST_CASE("mutations are published as events on JetStream without secrets", "[integration]") {
  AdminFixture f;
  pb::Tenant tenant;
  const std::string key = f.Onboard("acme", &tenant);

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> subjects;
  std::vector<std::string> bodies;
  auto consumer = f.bus().Consume(
      {.stream = "SB_EVENTS", .durable = "admin_events_test", .filter_subject = "sb.evt.>"},
      [&](bus::JsMessage& m) {
        {
          std::lock_guard lock(mu);
          subjects.push_back(m.message().subject);
          bodies.push_back(m.message().data);
        }
        (void)m.Ack();
        cv.notify_all();
      });
  REQUIRE(consumer.ok());

  pb::CreateExtensionRequest ce;
  ce.set_number("1001");
  ce.set_password("correct horse");
  pb::Extension ext;
  REQUIRE(Call(f.extensions, key, &pb::ExtensionService::Stub::CreateExtension, ce, &ext).ok());

  const std::string want = "sb.evt.extension.created." + tenant.id();
  std::unique_lock lock(mu);
  // Bounded wait for delivery from the server, not a sleep: returns as soon as it arrives.
  REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] {
    return std::find(subjects.begin(), subjects.end(), want) != subjects.end();
  }));
  CHECK(std::find(subjects.begin(), subjects.end(), "sb.evt.tenant.created." + tenant.id()) !=
        subjects.end());
  size_t i = std::find(subjects.begin(), subjects.end(), want) - subjects.begin();
  pb::ExtensionEvent event;
  REQUIRE(event.ParseFromString(bodies[i]));
  CHECK(event.meta().tenant_id() == tenant.id());
  CHECK(event.meta().type() == "extension.created");
  CHECK(event.extension().id() == ext.id());
  CHECK(event.sip_domain() == "acme.sip.test.example");
  CHECK(bodies[i].find("correct horse") == std::string::npos);
}

TEST_CASE("a lookup that finds no room to wait for a worker is answered UNAVAILABLE at once",
          "[integration]") {
  AdminFixture f;
  (void)CreateAlice(f, f.Onboard("acme"));
  f.Settle();
  // Replica B lets no lookup wait for a worker, and is the only one left to answer: what its
  // in-process cache does not hold (nothing yet) is refused rather than left to time out.
  f.config.lookup_max_waiting = 0;
  core::MetricsRegistry metrics_b;
  auto b = f.StartReplica("admin/b", metrics_b);
  f.server.reset();
  const auto refused = Credentials(f, "alice");
  CHECK(refused.error().code() == common::ERROR_CODE_UNAVAILABLE);
  CHECK(refused.error().message() == "too many lookups waiting for the cache or the database");
  CHECK(refused.ha1_md5().empty());
}

}  // namespace
}  // namespace sb::admin
