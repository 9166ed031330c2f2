// AdminCallRouter's decisions on an in-memory directory of two tenants: acme (extensions 1001,
// 1002, a disabled 1003, number +15551230001 -> ext:1002, an unrouted +15551230009, a trunk
// whose rules send 00... and 9... out) and globex (its own number +15559990001), with a DNS zone
// for gateways given by name. The lookups' real answers over NATS from a real admin are in
// admin_lookups_itest and routing_itest; real DNS (dnsmasq) in routing_itest too.
#include "routing/call_router.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "switchboard/sip/server_location.h"

namespace {

using namespace sb::signaling;
using b2bua::Caller;
using b2bua::Route;

const sb::TenantId kAcme{"tenant-acme"};
const sb::TenantId kGlobex{"tenant-globex"};
constexpr char kAcmeDomain[] = "acme.sb.test";

struct Directory : RoutingLookups {
  std::map<std::string, NumberRoute, std::less<>> numbers;
  std::map<std::string, ExtensionInfo, std::less<>> extensions;  // by "<domain>/<user>"
  bool admin_down = false;

  sb::Status Down() const { return sb::Status::Unavailable("admin did not answer"); }

  sb::Result<NumberRoute> Number(std::string_view e164) const override {
    if (admin_down) return Down();
    // As admin: "+0..." is no E.164 number at all.
    if (e164.substr(0, 2) == "+0") return sb::Status::InvalidArgument("e164: not E.164", "e164");
    auto it = numbers.find(e164);
    if (it == numbers.end()) return sb::Status::NotFound("no such number");
    return it->second;
  }
  sb::Result<TrunkMatch> TrunkBySource(std::string_view) const override {
    return sb::Status::NotFound("not used by the router");
  }
  sb::Result<ExtensionInfo> Extension(std::string_view domain,
                                      std::string_view user) const override {
    if (admin_down) return Down();
    auto it = extensions.find(std::string(domain) + "/" + std::string(user));
    if (it == extensions.end()) return sb::Status::NotFound("no such extension");
    return it->second;
  }
  // acme's trunk "trunk-acme": "00" stripped and "+" prepended, "9" stripped; the caller id
  // passed through. `asked`: the trunk each question named ("" for any).
  sb::Result<OutboundRoute> Outbound(const OutboundQuery& query) const override {
    if (admin_down) return Down();
    asked_trunks.push_back(query.trunk_id);
    const sb::TenantId& tenant = query.tenant;
    const std::string_view dialed = query.dialed;
    if (!query.trunk_id.empty() && query.trunk_id != "trunk-acme") {
      return sb::Status::NotFound("no such trunk");
    }
    std::string rewritten;
    if (tenant == kAcme && dialed.substr(0, 2) == "00") {
      rewritten = "+" + std::string(dialed.substr(2));
    } else if (tenant == kAcme && dialed.substr(0, 1) == "9") {
      rewritten = std::string(dialed.substr(1));
    } else {
      return sb::Status::NotFound("no prefix rule matches");
    }
    return OutboundRoute{.tenant = {kAcme, false, {}},
                         .trunk_id = "trunk-acme",
                         .trunk_name = "carrier",
                         .gateway = gateway,
                         .username = "acme-out",
                         .password = "secret",
                         .dialed = rewritten,
                         .caller_id = query.caller_id,
                         .caller_id_blocked = false};
  }
  mutable std::vector<std::string> asked_trunks;
  sb::sip::Destination gateway{"127.0.0.5", 5070, sb::sip::Transport::kUdp};

  // The zone gateways by name are found in; `dns_down`: no server answers.
  std::map<std::string, std::vector<sb::sip::SrvRecord>> srv;
  std::map<std::string, std::vector<std::string>> addresses;
  bool dns_down = false;
  GatewayLocator Locator() {
    sb::sip::ServerLookups lookups{
        .srv = [this](const std::string& name) -> sb::Result<std::vector<sb::sip::SrvRecord>> {
          if (dns_down) return sb::Status::Unavailable("no name server answered");
          auto it = srv.find(name);
          return it == srv.end() ? std::vector<sb::sip::SrvRecord>{} : it->second;
        },
        .addresses = [this](const std::string& name) -> sb::Result<std::vector<std::string>> {
          if (dns_down) return sb::Status::Unavailable("no name server answered");
          auto it = addresses.find(name);
          return it == addresses.end() ? std::vector<std::string>{} : it->second;
        }};
    return [lookups](const sb::sip::Destination& g) {
      return sb::sip::LocateServer(g, lookups, [](uint32_t) { return 0u; });
    };
  }

  Directory() {
    auto ext = [&](std::string number, std::string caller_id, bool enabled) {
      extensions[std::string(kAcmeDomain) + "/" + number] =
          ExtensionInfo{.tenant = {kAcme, false, {}},
                        .extension_id = "ext-" + number,
                        .extension_number = number,
                        .sip_username = "u" + number,
                        .display_name = {},
                        .caller_id = std::move(caller_id),
                        .enabled = enabled};
    };
    ext("1001", "+15551230001", true);
    ext("1002", "", true);
    ext("1003", "", false);
    numbers["+15551230001"] = {{kAcme, false, kAcmeDomain}, "num-1", "ext:1002"};
    numbers["+15551230009"] = {{kAcme, false, kAcmeDomain}, "num-9", ""};
    numbers["+15559990001"] = {{kGlobex, false, "globex.sb.test"}, "num-g", "ext:2001"};
  }
};

Caller Extension1001() { return {kAcme, kAcmeDomain, "1001", {}}; }
Caller AcmeTrunk() { return {kAcme, kAcmeDomain, "+442071234567", "trunk-acme"}; }
Caller GlobexTrunk() { return {kGlobex, "globex.sb.test", "+442071234567", "trunk-globex"}; }

}  // namespace

TEST_CASE("an extension dials an extension of its tenant - routed to its SIP username", "[unit]") {
  Directory d;
  AdminCallRouter router(d, d.Locator());
  Route r = router.Resolve(Extension1001(), "1002");
  CHECK(r.code == 0);
  CHECK_FALSE(r.trunk);
  CHECK(r.domain == kAcmeDomain);
  CHECK(r.extension == "u1002");
  CHECK(r.from_uri == "sip:1001@acme.sb.test");
  CHECK(r.to_uri == "sip:1002@acme.sb.test");
}

TEST_CASE("an extension dials the tenant's own number with or without + - where admin routes it",
          "[unit]") {
  Directory d;
  AdminCallRouter router(d, d.Locator());
  for (std::string dialed : {"+15551230001", "15551230001"}) {
    Route r = router.Resolve(Extension1001(), dialed);
    CHECK(r.code == 0);
    CHECK_FALSE(r.trunk);
    CHECK(r.extension == "u1002");
  }
}

TEST_CASE(
    "an extension dials out - the trunk's gateway - the rewritten number - its caller id - the "
    "trunk's credentials",
    "[unit]") {
  Directory d;
  AdminCallRouter router(d, d.Locator());
  Route r = router.Resolve(Extension1001(), "00442071234567");
  REQUIRE(r.code == 0);
  REQUIRE(r.trunk);
  CHECK(r.trunk->request_uri == "sip:+442071234567@127.0.0.5:5070");
  CHECK(r.trunk->destination == sb::sip::Destination{"127.0.0.5", 5070, sb::sip::Transport::kUdp});
  CHECK(r.trunk->from_user == "+15551230001");
  CHECK(r.trunk->username == "acme-out");
  CHECK(r.trunk->password == "secret");
  CHECK(r.to_uri == "sip:+442071234567@127.0.0.5");
  CHECK(r.from_uri == "sip:1001@acme.sb.test");
}

TEST_CASE(
    "a call placed through a named trunk - only that trunk is asked - the command's caller id "
    "presented and shown - another trunk or no rule 404",
    "[unit]") {
  Directory d;
  AdminCallRouter router(d, d.Locator());
  const Caller acme{kAcme, kAcmeDomain, {}, {}};
  Route r = router.ThroughTrunk(acme, "trunk-acme", "00442071234567", "+15550009999");
  REQUIRE(r.code == 0);
  REQUIRE(r.trunk);
  CHECK(r.trunk->trunk_id == "trunk-acme");
  CHECK(r.trunk->request_uri == "sip:+442071234567@127.0.0.5:5070");
  CHECK(r.trunk->from_user == "+15550009999");
  CHECK(r.from_uri == "sip:+15550009999@acme.sb.test");
  CHECK(r.to_uri == "sip:+442071234567@127.0.0.5");
  CHECK(d.asked_trunks == std::vector<std::string>{"trunk-acme"});
  // Without a caller id there is nobody to present (no extension places the call).
  Route anonymous = router.ThroughTrunk(acme, "trunk-acme", "9123", "");
  REQUIRE(anonymous.trunk);
  CHECK(anonymous.trunk->from_user.empty());
  CHECK(anonymous.from_uri == "sip:anonymous@anonymous.invalid");
  CHECK(router.ThroughTrunk(acme, "trunk-other", "00442071234567", "").code == 404);
  CHECK(router.ThroughTrunk(acme, "trunk-acme", "555", "").code == 404);
  CHECK(router.ThroughTrunk(acme, "trunk-acme", "1002", "").code == 404);  // not an extension
  CHECK(router.ThroughTrunk(acme, "trunk-acme", "bob", "").code == 404);
  d.admin_down = true;
  CHECK(router.ThroughTrunk(acme, "trunk-acme", "00442071234567", "").code == 503);
}

TEST_CASE("an extension without a caller id presents its number through a trunk", "[unit]") {
  Directory d;
  AdminCallRouter router(d, d.Locator());
  Route r = router.Resolve({kAcme, kAcmeDomain, "1002", {}}, "9123");
  REQUIRE(r.trunk);
  CHECK(r.trunk->request_uri == "sip:123@127.0.0.5:5070");
  CHECK(r.trunk->from_user == "1002");
}

TEST_CASE("another tenant's number goes out through the trunk like any outside number", "[unit]") {
  Directory d;
  AdminCallRouter router(d, d.Locator());
  CHECK(router.Resolve(Extension1001(), "+15559990001").code == 404);  // no "+" rule at acme
  Route r = router.Resolve(Extension1001(), "0015559990001");
  REQUIRE(r.trunk);
  CHECK(r.trunk->request_uri == "sip:+15559990001@127.0.0.5:5070");
}

TEST_CASE("what no rule matches is 404 - a disabled extension 480 - an unrouted number 480",
          "[unit]") {
  Directory d;
  AdminCallRouter router(d, d.Locator());
  CHECK(router.Resolve(Extension1001(), "1999").code == 404);
  CHECK(router.Resolve(Extension1001(), "alice").code == 404);
  CHECK(router.Resolve(Extension1001(), "").code == 404);
  CHECK(router.Resolve(Extension1001(), "1003").code == 480);
  Route unrouted = router.Resolve(Extension1001(), "+15551230009");
  CHECK(unrouted.code == 480);
  CHECK(unrouted.cause == "unavailable");
  CHECK(unrouted.to_uri.empty());
}

TEST_CASE("a suspended tenant's number is refused 403", "[unit]") {
  Directory d;
  d.numbers["+15551230001"].tenant.suspended = true;
  AdminCallRouter router(d, d.Locator());
  CHECK(router.Resolve(AcmeTrunk(), "+15551230001").code == 403);
}

TEST_CASE("admin does not answer - 503", "[unit]") {
  Directory d;
  d.admin_down = true;
  AdminCallRouter router(d, d.Locator());
  CHECK(router.Resolve(Extension1001(), "1002").code == 503);
  CHECK(router.Resolve(AcmeTrunk(), "+15551230001").code == 503);
}

TEST_CASE("a carrier calls the tenant's number - routed to the number's extension", "[unit]") {
  Directory d;
  AdminCallRouter router(d, d.Locator());
  Route r = router.Resolve(AcmeTrunk(), "15551230001");
  CHECK(r.code == 0);
  CHECK_FALSE(r.trunk);
  CHECK(r.domain == kAcmeDomain);
  CHECK(r.extension == "u1002");
  CHECK(r.from_uri == "sip:+442071234567@acme.sb.test");
}

TEST_CASE(
    "a carrier reaches only its tenant's numbers - another tenant's or an unknown number or an "
    "extension is 404",
    "[unit]") {
  Directory d;
  AdminCallRouter router(d, d.Locator());
  CHECK(router.Resolve(GlobexTrunk(), "+15551230001").code == 404);
  CHECK(router.Resolve(AcmeTrunk(), "+15550000000").code == 404);
  CHECK(router.Resolve(AcmeTrunk(), "1002").code == 404);
  CHECK(router.Resolve(AcmeTrunk(), "00442071234567").code == 404);
}

TEST_CASE(
    "a gateway given by name - the Request-URI keeps the name - the call goes to its SRV "
    "targets in order - a name without addresses, DNS that does not answer or TLS 503",
    "[unit]") {
  Directory d;
  AdminCallRouter router(d, d.Locator());
  d.gateway = {"carrier.example", 0, sb::sip::Transport::kTcp};
  d.srv["_sip._tcp.carrier.example"] = {{10, 0, 5080, "gw1.carrier.example"},
                                        {20, 0, 5090, "gw2.carrier.example"}};
  d.addresses["gw1.carrier.example"] = {"192.0.2.1"};
  d.addresses["gw2.carrier.example"] = {"192.0.2.2"};
  Route r = router.Resolve(Extension1001(), "00442071234567");
  REQUIRE(r.code == 0);
  REQUIRE(r.trunk);
  CHECK(r.trunk->request_uri == "sip:+442071234567@carrier.example;transport=tcp");
  CHECK(r.to_uri == "sip:+442071234567@carrier.example");
  CHECK(r.trunk->destination == sb::sip::Destination{"192.0.2.1", 5080, sb::sip::Transport::kTcp});
  CHECK(r.trunk->alternates ==
        std::vector<sb::sip::Destination>{{"192.0.2.2", 5090, sb::sip::Transport::kTcp}});

  // With a port: that name's addresses, no SRV.
  d.gateway = {"gw2.carrier.example", 5070, sb::sip::Transport::kUdp};
  r = router.Resolve(Extension1001(), "00442071234567");
  REQUIRE(r.trunk);
  CHECK(r.trunk->request_uri == "sip:+442071234567@gw2.carrier.example:5070");
  CHECK(r.trunk->destination == sb::sip::Destination{"192.0.2.2", 5070, sb::sip::Transport::kUdp});
  CHECK(r.trunk->alternates.empty());

  d.gateway = {"gone.carrier.example", 0, sb::sip::Transport::kUdp};
  r = router.Resolve(Extension1001(), "00442071234567");
  CHECK(r.code == 503);
  CHECK(r.reason == "Gateway Not Found");
  CHECK(r.cause == "network_failure");
  // No TLS transport on this node: refused before DNS is asked.
  d.gateway = {"gw1.carrier.example", 0, sb::sip::Transport::kTls};
  r = router.Resolve(Extension1001(), "00442071234567");
  CHECK(r.code == 503);
  CHECK(r.reason == "Trunk Transport Unsupported");

  d.gateway = {"carrier.example", 0, sb::sip::Transport::kTcp};
  d.dns_down = true;
  r = router.Resolve(Extension1001(), "00442071234567");
  CHECK(r.code == 503);
  CHECK(r.reason == "Gateway Unresolved");
  CHECK(r.cause == "network_failure");
}
