// sbctl against a running admin service: the commands people and scripts use, with the endpoint
// and key from flags and from the environment, tables and --json.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "rpc/admin_fixture.h"

namespace sb::admin {
namespace {

using testing::AdminFixture;
using testing::kPlatformKey;

struct Run {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

Run Sbctl(const std::string& env, const std::string& args) {
  const std::string cmd = env + " " + SBCTL_PATH + " " + args + " 2>&1";
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The environment that points sbctl at the fixture's admin with `key`.
std::string Env(AdminFixture& f, const std::string& key) {
  return "SB_ADMIN_ADDR=127.0.0.1:" + std::to_string(f.server->grpc_port()) + " SB_API_KEY=" + key;
}

TEST_CASE("sbctl onboards a tenant and provisions an extension and a number", "[integration]") {
  AdminFixture f;
  const std::string addr = "--addr 127.0.0.1:" + std::to_string(f.server->grpc_port());

  auto created = Sbctl("", "tenant create acme --json " + addr + " --key " + kPlatformKey);
  REQUIRE(created.exit_code == 0);
  auto j = nlohmann::json::parse(created.output);
  CHECK(j["tenant"]["sip_domain"] == "acme.sip.test.example");
  const std::string key = j["first_api_key"]["secret"];
  REQUIRE(key.rfind("sbk_", 0) == 0);

  // Endpoint and key from the environment this time; a table by default.
  const std::string env = Env(f, key);
  auto ext = Sbctl(env, "ext create 1001 --password s3cret-pass --name Alice");
  REQUIRE(ext.exit_code == 0);
  CHECK(ext.output.find("NUMBER") != std::string::npos);
  CHECK(ext.output.find("1001") != std::string::npos);
  CHECK(ext.output.find("Alice") != std::string::npos);

  auto num = Sbctl(env, "number add +15551230001 --to ext:1001 --json");
  REQUIRE(num.exit_code == 0);
  auto nj = nlohmann::json::parse(num.output);
  CHECK(nj["e164"] == "+15551230001");
  CHECK(nj["target"] == "ext:1001");

  auto list = Sbctl(env, "ext list --json");
  REQUIRE(list.exit_code == 0);
  CHECK(nlohmann::json::parse(list.output)["extensions"].size() == 1);

  auto tenants = Sbctl("", "tenant list " + addr + " --key " + kPlatformKey);
  REQUIRE(tenants.exit_code == 0);
  CHECK(tenants.output.find("acme.sip.test.example") != std::string::npos);

  // And away again: the number, the extension, then the tenant (a platform key's command).
  auto number_deleted = Sbctl(env, "number delete " + nj["id"].get<std::string>());
  CHECK(number_deleted.exit_code == 0);
  CHECK(number_deleted.output == "deleted\n");
  const std::string ext_id =
      nlohmann::json::parse(list.output)["extensions"][0]["id"].get<std::string>();
  CHECK(Sbctl(env, "ext delete " + ext_id + " --json").output == "{}\n");
  CHECK_FALSE(nlohmann::json::parse(Sbctl(env, "ext list --json").output).contains("extensions"));
  const std::string tenant_id = j["tenant"]["id"];
  auto tenant_deleted =
      Sbctl("", "tenant delete " + tenant_id + " " + addr + " --key " + kPlatformKey);
  CHECK(tenant_deleted.exit_code == 0);
  CHECK(Sbctl(env, "ext list").exit_code == 1);  // its key went with it
}

TEST_CASE(
    "sbctl creates a trunk with its prefix rules - without a port its gateway is left to DNS SRV "
    "- a rule that is not MATCH:STRIP:PREPEND is refused before asking - update changes what is "
    "given - delete",
    "[integration]") {
  AdminFixture f;
  const std::string env = Env(f, f.Onboard("acme"));
  auto created = Sbctl(env,
                       "trunk create carrier --host sip.carrier.example --user acme "
                       "--password trunk-pass-1 --prefix 00:2:+ --prefix 9:1: "
                       "--source 203.0.113.0/24 --json");
  REQUIRE(created.exit_code == 0);
  auto j = nlohmann::json::parse(created.output);
  CHECK(j["host"] == "sip.carrier.example");
  CHECK_FALSE(j.contains("port"));  // 0, left out of proto JSON: found by DNS SRV
  REQUIRE(j["prefix_rules"].size() == 2);
  CHECK(j["prefix_rules"][0]["match"] == "00");
  CHECK(j["prefix_rules"][0]["strip"] == 2);
  CHECK(j["prefix_rules"][0]["prepend"] == "+");
  CHECK(j["prefix_rules"][1]["match"] == "9");
  CHECK_FALSE(j["prefix_rules"][1].contains("prepend"));
  auto table = Sbctl(env, "trunk list");
  REQUIRE(table.exit_code == 0);
  CHECK(table.output.find("sip.carrier.example ") != std::string::npos);  // no ":0"

  auto bad = Sbctl(env, "trunk create other --host sip.other.example --prefix 00-2-+");
  CHECK(bad.exit_code == 1);
  CHECK(bad.output.find("MATCH:STRIP:PREPEND") != std::string::npos);

  // update: only what is given changes; a list given replaces the old one.
  const std::string id = j["id"];
  auto updated = Sbctl(env, "trunk update " + id + " --port 5080 --prefix 011:3:+ --json");
  REQUIRE(updated.exit_code == 0);
  auto u = nlohmann::json::parse(updated.output);
  CHECK(u["port"] == 5080);
  CHECK(u["host"] == "sip.carrier.example");
  CHECK(u["username"] == "acme");
  REQUIRE(u["prefix_rules"].size() == 1);
  CHECK(u["prefix_rules"][0]["match"] == "011");
  CHECK(u["inbound_sources"].size() == 1);
  auto cleared = Sbctl(env, "trunk update " + id + " --no-sources --port 0 --json");
  REQUIRE(cleared.exit_code == 0);
  auto cj = nlohmann::json::parse(cleared.output);
  CHECK_FALSE(cj.contains("inbound_sources"));
  CHECK_FALSE(cj.contains("port"));  // back to DNS SRV
  CHECK(cj["prefix_rules"].size() == 1);

  auto deleted = Sbctl(env, "trunk delete " + id);
  REQUIRE(deleted.exit_code == 0);
  CHECK(deleted.output.find("deleted") != std::string::npos);
  auto none = Sbctl(env, "trunk list --json");
  REQUIRE(none.exit_code == 0);
  CHECK_FALSE(nlohmann::json::parse(none.output).contains("trunks"));
  auto gone = Sbctl(env, "trunk delete " + id);
  CHECK(gone.exit_code == 1);
}

TEST_CASE("sbctl reports the API's refusal with the field and exit code 1", "[integration]") {
  AdminFixture f;
  const std::string key = f.Onboard("acme");
  const std::string env = Env(f, key);
  auto bad = Sbctl(env, "number add 5551230001");
  CHECK(bad.exit_code == 1);
  CHECK(bad.output.find("field e164") != std::string::npos);
  auto denied = Sbctl(env, "tenant create other");
  CHECK(denied.exit_code == 1);
  CHECK(denied.output.find("platform API key") != std::string::npos);
  auto unauthenticated = Sbctl(env.substr(0, env.find(" SB_API_KEY")), "ext list");
  CHECK(unauthenticated.exit_code == 1);
}

TEST_CASE("sbctl lists the audit log as a table and as JSON with its filters", "[integration]") {
  AdminFixture f;
  const std::string key = f.Onboard("acme");
  const std::string env = Env(f, key);
  REQUIRE(Sbctl(env, "ext create 1001 --password s3cret-pass").exit_code == 0);
  REQUIRE(Sbctl(env, "number add +15551230001 --to ext:1001").exit_code == 0);

  auto table = Sbctl(env, "audit list");
  REQUIRE(table.exit_code == 0);
  CHECK(table.output.find("ACTION") != std::string::npos);
  CHECK(table.output.find("tenant.create") != std::string::npos);
  CHECK(table.output.find("number.add") != std::string::npos);

  auto json = Sbctl(env, "audit list --type extension --since 2020-01-01T00:00:00Z --json");
  REQUIRE(json.exit_code == 0);
  auto j = nlohmann::json::parse(json.output);
  REQUIRE(j["entries"].size() == 1);
  CHECK(j["entries"][0]["action"] == "extension.create");

  auto paged = Sbctl(env, "audit list --page-size 1");
  REQUIRE(paged.exit_code == 0);
  CHECK(paged.output.find("more: --page-token p1.") != std::string::npos);

  auto bad_time = Sbctl(env, "audit list --since yesterday");
  CHECK(bad_time.exit_code == 1);
  CHECK(bad_time.output.find("--since") != std::string::npos);
  auto bad_type = Sbctl(env, "audit list --type widget");
  CHECK(bad_type.exit_code == 1);
  CHECK(bad_type.output.find("field resource_type") != std::string::npos);
}

}  // namespace
}  // namespace sb::admin
