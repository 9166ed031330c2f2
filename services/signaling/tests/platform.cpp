#include "platform.h"

#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <stdlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <sstream>
#include <thread>

#include "media_process.h"
#include "switchboard/core/clock.h"
#include "switchboard/media_client/node_tracker.h"
#include "switchboard/redis/client.h"
#include "switchboard/testing/nats_connect.h"

namespace sb::signaling::test {

namespace pb = ::switchboard::admin::v1;
using namespace std::chrono_literals;

namespace {

const std::string kPlatformKey = "sbk_" + std::string(43, 'G');

std::filesystem::path MakeDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "sb-sigtest.XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

testing::ChildProcess StartAdmin(const std::string& nats_url, int grpc_port,
                                 const std::string& platform_domain) {
  return testing::ChildProcess::Start(
      {SB_ADMIN_BINARY},
      {{"SB_NATS_URL", nats_url},
       {"SB_PG_DSN", testing::FreshDatabase("sig_itest")},
       {"SB_REDIS_URL", testing::Shared().redis_url},
       {"SB_HTTP_PORT", "0"},
       {"SB_ADMIN_GRPC_ADDR", "127.0.0.1:" + std::to_string(grpc_port)},
       {"SB_ADMIN_PLATFORM_DOMAIN", platform_domain},
       {"SB_ADMIN_BOOTSTRAP_KEY", kPlatformKey},
       {"SB_ADMIN_LOOKUP_WORKERS", "2"},
       {"SB_ADMIN_SECRET_KEY", std::string(64, '7')},
       {"SB_ADMIN_RATE_LIMIT", "100000"}},
      "sb-admin");
}

testing::ChildProcess StartSignaling(
    const std::string& nats_url, int sip_port, int http_port,
    const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::pair<std::string, std::string>> env{
      {"SB_SIGNALING_NODE_ID", testing::UniqueName("sig")},
      {"SB_SIGNALING_UDP_ADDR", "127.0.0.1:" + std::to_string(sip_port)},
      {"SB_SIGNALING_TCP_ADDR", "127.0.0.1:" + std::to_string(sip_port)},
      {"SB_HTTP_PORT", std::to_string(http_port)},
      {"SB_NATS_URL", nats_url},
      {"SB_REDIS_URL", testing::Shared().redis_url},
      {"SB_SIGNALING_NONCE_SECRET", "signaling-itest-secret-0123456789"},
      {"SB_SIGNALING_DRAIN_SECONDS", "1"},
      {"SB_SIGNALING_DRAIN_NOTICE_MS", "10"}};
  for (const auto& [name, value] : extra) {
    auto same = [&](const auto& e) { return e.first == name; };
    std::erase_if(env, same);
    env.emplace_back(name, value);
  }
  return testing::ChildProcess::Start({SB_SIGNALING_BINARY}, env, "sb-signaling");
}

// `env` after the Redis key prefix, which it may override.
std::vector<std::pair<std::string, std::string>> WithPrefix(
    const std::string& prefix, std::vector<std::pair<std::string, std::string>> env) {
  env.insert(env.begin(), {"SB_SIGNALING_REDIS_PREFIX", prefix});
  return env;
}

// `env` after a node id of its own, which it may override.
std::vector<std::pair<std::string, std::string>> WithNodeId(
    std::vector<std::pair<std::string, std::string>> env) {
  env.insert(env.begin(), {"SB_SIGNALING_NODE_ID", testing::UniqueName("sig")});
  return env;
}

// Polls a node's /readyz (bounded): true once it answers 200.
bool Ready(const testing::ChildProcess& node, int http_port, std::chrono::seconds timeout) {
  httplib::Client client("127.0.0.1", http_port);
  client.set_connection_timeout(1s);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline && node.Running()) {
    auto answer = client.Get("/readyz");
    if (answer && answer->status == 200) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

grpc::ClientContext* Authorized(grpc::ClientContext& ctx) {
  ctx.AddMetadata("authorization", "Bearer " + kPlatformKey);
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  return &ctx;
}

}  // namespace

Platform::Platform(PlatformOptions options)
    : dir_(MakeDir()),
      nats_(testing::NatsServer::Start()),
      platform_domain_(options.platform_domain),
      admin_port_(testing::FreePort()),
      sip_port_(testing::FreePort()),
      http_port_(testing::FreePort()),
      admin_(StartAdmin(nats_.url(), admin_port_, platform_domain_)),
      media_(options.media ? std::make_unique<media_client::test::MediaProcess>(nats_.url())
                           : nullptr),
      redis_prefix_(testing::UniqueName("sig") + ":"),
      signaling_env_(WithPrefix(redis_prefix_, std::move(options.signaling_env))),
      first_env_(WithNodeId(signaling_env_)),
      signaling_(StartSignaling(nats_.url(), sip_port_, http_port_, first_env_)) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(admin_port_),
                                     grpc::InsecureChannelCredentials());
  tenants_ = pb::TenantService::NewStub(channel);
  extensions_ = pb::ExtensionService::NewStub(channel);
  numbers_ = pb::NumberService::NewStub(channel);
  trunks_ = pb::TrunkService::NewStub(channel);
}

Platform::~Platform() {
  for (auto& replica : replicas_) replica.process.Stop();
  signaling_.Stop();
  std::error_code ignored;  // a leftover temporary directory is not worth failing a test for
  std::filesystem::remove_all(dir_, ignored);
}

bool Platform::WaitUntilReady(std::chrono::seconds timeout) const {
  return Ready(signaling_, http_port_, timeout);
}

int Platform::AddSignalingReplica() {
  const int sip_port = testing::FreePort();
  const int http_port = testing::FreePort();
  auto env = WithNodeId(signaling_env_);
  auto& added = replicas_.emplace_back(
      Replica{sip_port, http_port, env, StartSignaling(nats_.url(), sip_port, http_port, env)});
  if (!Ready(added.process, http_port, 20s)) FAIL("replica not ready:\n" + added.process.ReadLog());
  return sip_port;
}

Platform::Replica& Platform::ReplicaOn(int sip_port) {
  auto replica = std::find_if(replicas_.begin(), replicas_.end(),
                              [sip_port](const Replica& r) { return r.sip_port == sip_port; });
  INFO("no sb-signaling on port " << sip_port);
  REQUIRE(replica != replicas_.end());
  return *replica;
}

testing::ChildProcess& Platform::SignalingOn(int sip_port) {
  return sip_port == sip_port_ ? signaling_ : ReplicaOn(sip_port).process;
}

std::string Platform::AddMediaNode() {
  REQUIRE(media_);
  auto bus = testing::ConnectNats(nats_.url(), "platform-media");
  core::SystemClock clock;
  media_client::NodeTracker nodes(*bus, clock);
  REQUIRE(nodes.Start().ok());
  more_media_.push_back(std::make_unique<media_client::test::MediaProcess>(nats_.url()));
  const std::string id = more_media_.back()->node_id();
  // Its load reports are out: the nodes' trackers (signaling's) hear of it as this one does.
  INFO(more_media_.back()->ReadLog());
  REQUIRE(nodes.WaitUntil([&] { return nodes.IsLive(id); }, 10s));
  return id;
}

std::string Platform::NodeId(int sip_port) {
  const auto* env = sip_port == sip_port_ ? &first_env_ : &ReplicaOn(sip_port).env;
  // The last setting of a name is the one the node runs with (StartSignaling).
  auto id = std::find_if(env->rbegin(), env->rend(),
                         [](const auto& e) { return e.first == "SB_SIGNALING_NODE_ID"; });
  REQUIRE(id != env->rend());
  return id->second;
}

void Platform::KillSignaling(int sip_port) { SignalingOn(sip_port).Kill(); }

void Platform::TerminateSignaling(int sip_port) {
  testing::ChildProcess& node = SignalingOn(sip_port);
  node.Signal(SIGTERM);
  INFO(node.ReadLog());
  CHECK(node.WaitExit(10s) == 0);
}

void Platform::RestartSignaling() {
  signaling_.Kill();
  signaling_ = StartSignaling(nats_.url(), sip_port_, http_port_, first_env_);
  if (!WaitUntilReady()) FAIL("restarted node not ready:\n" + signaling_.ReadLog());
}

std::string Platform::SignalingLog() const {
  std::string log = signaling_.ReadLog();
  for (const auto& replica : replicas_) {
    log += "\n--- sb-signaling on " + std::to_string(replica.sip_port) + ":\n" +
           replica.process.ReadLog();
  }
  return log;
}

double Platform::Metric(std::string_view sample) const {
  httplib::Client client("127.0.0.1", http_port_);
  auto answer = client.Get("/metrics");
  if (!answer || answer->status != 200) return -1;
  std::istringstream lines(answer->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > sample.size() && line.compare(0, sample.size(), sample) == 0 &&
        line[sample.size()] == ' ') {
      return std::stod(line.substr(sample.size() + 1));
    }
  }
  return -1;
}

pb::Tenant Platform::CreateTenant(std::string slug) {
  if (slug.empty()) {
    slug = testing::UniqueName("sg");
    std::replace(slug.begin(), slug.end(), '_', '-');
  }
  pb::CreateTenantRequest req;
  req.set_slug(slug);
  pb::CreateTenantResponse out;
  grpc::Status status;
  // Admin starts up (migrations) while the test goes on: retry within a deadline.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  do {
    grpc::ClientContext ctx;
    status = tenants_->CreateTenant(Authorized(ctx), req, &out);
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
        status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      break;
    }
    std::this_thread::sleep_for(100ms);
  } while (std::chrono::steady_clock::now() < deadline);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return out.tenant();
}

void Platform::CreateExtension(const pb::Tenant& tenant, const std::string& number,
                               const std::string& password, const std::string& caller_id,
                               const std::string& sip_username) {
  grpc::ClientContext ctx;
  pb::CreateExtensionRequest req;
  req.set_tenant_id(tenant.id());
  req.set_number(number);
  req.set_password(password);
  req.set_caller_id(caller_id);
  req.set_sip_username(sip_username);
  pb::Extension ext;
  auto status = extensions_->CreateExtension(Authorized(ctx), req, &ext);
  INFO(status.error_message());
  REQUIRE(status.ok());
}

void Platform::AddNumber(const pb::Tenant& tenant, const std::string& e164,
                         const std::string& target) {
  grpc::ClientContext ctx;
  pb::AddNumberRequest req;
  req.set_tenant_id(tenant.id());
  req.set_e164(e164);
  req.set_target(target);
  pb::PhoneNumber out;
  auto status = numbers_->AddNumber(Authorized(ctx), req, &out);
  INFO(status.error_message());
  REQUIRE(status.ok());
}

pb::Trunk Platform::CreateTrunk(const pb::Tenant& tenant, pb::CreateTrunkRequest trunk) {
  grpc::ClientContext ctx;
  trunk.set_tenant_id(tenant.id());
  pb::Trunk out;
  auto status = trunks_->CreateTrunk(Authorized(ctx), trunk, &out);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return out;
}

void Platform::Suspend(const pb::Tenant& tenant) {
  grpc::ClientContext ctx;
  pb::SuspendTenantRequest req;
  req.set_id(tenant.id());
  pb::Tenant out;
  REQUIRE(tenants_->SuspendTenant(Authorized(ctx), req, &out).ok());
}

std::unique_ptr<redis::Client> Platform::Redis() const {
  std::string url = testing::Shared().redis_url;
  for (const auto& [name, value] : signaling_env_) {
    if (name == "SB_REDIS_URL") url = value;  // the test's own Redis
  }
  auto options = redis::OptionsFromUrl(url, redis_prefix_);
  REQUIRE(options.ok());
  return std::make_unique<redis::Client>(*options);
}

std::vector<std::string> Platform::StoredContacts(const pb::Tenant& tenant,
                                                  const std::string& aor) const {
  auto reply = Redis()->Run(redis::Command("HKEYS").Key("reg:" + tenant.id() + ":" + aor));
  REQUIRE(reply.ok());
  // An error reply must not read as "no bindings" (CI once saw an unexplained empty set here).
  INFO("HKEYS reg:" << tenant.id() << ":" << aor << " answered "
                    << (reply->error() ? *reply->error() : std::string("no error")));
  REQUIRE(reply->array() != nullptr);
  std::vector<std::string> out;
  for (const auto& item : *reply->array()) out.push_back(*item.str());
  if (out.empty()) {
    // Shown with the caller's next assertion: what the prefix holds when the AOR's hash is gone.
    auto keys = Redis()->Run(redis::Command("KEYS").Key("reg:*"));
    std::string listed;
    if (keys.ok() && keys->array() != nullptr) {
      for (const auto& key : *keys->array()) listed += " " + *key.str();
    }
    UNSCOPED_INFO("no bindings under reg:" << tenant.id() << ":" << aor
                                           << "; this platform's reg: keys:" << listed);
  }
  return out;
}

testing::Kamailio StartBalancer(const std::vector<int>& replica_ports, int udp_workers) {
  std::vector<std::string> uris;
  for (int port : replica_ports) uris.push_back("sip:127.0.0.1:" + std::to_string(port));
  auto options = testing::BalancerOptions(SB_KAMAILIO_LB_CFG, uris);
  for (auto& [name, value] : options.defines) {
    if (name == "SB_LB_CHILDREN") value = std::to_string(udp_workers);
  }
  return testing::Kamailio::Start(options);
}

std::string DestinationOf(const std::string& log, const std::string& what) {
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(what) == std::string::npos) continue;
    if (auto dst = line.find(" dst="); dst != std::string::npos) return line.substr(dst + 5);
  }
  return "(none)";
}

int DestinationPort(const std::string& log, const std::string& what) {
  const std::string uri = DestinationOf(log, what);
  const size_t colon = uri.rfind(':');
  if (!uri.starts_with("sip:") || colon == std::string::npos) return 0;
  return std::atoi(uri.c_str() + colon + 1);
}

}  // namespace sb::signaling::test
