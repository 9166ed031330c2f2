// The real sb-admin binary, started by the test on free loopback ports with its own NATS, Redis
// and database: standard gRPC health checking, server reflection listing admin's services,
// /metrics with per-method counts and latencies, and refusal to start without a secret key.
#include <arpa/inet.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "rpc/admin_fixture.h"
#include "switchboard/testing/kamailio.h"
#include "switchboard/testing/servers.h"

namespace sb::admin {
namespace {

using testing::kPlatformKey;
using testing::kSecretKey;
namespace pb = ::switchboard::admin::v1;

grpc::ByteBuffer Buffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string Bytes(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(10);
}

// Every Next returns by the call's deadline, which cancels the call.
bool Await(grpc::CompletionQueue& cq, intptr_t want) {
  void* tag = nullptr;
  bool ok = false;
  if (!cq.Next(&tag, &ok)) return false;
  return ok && reinterpret_cast<intptr_t>(tag) == want;
}

// grpc.health.v1.Health/Check for the whole server; the raw HealthCheckResponse bytes.
std::string HealthCheck(const std::shared_ptr<grpc::Channel>& channel, grpc::Status* status) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  auto call = stub.PrepareUnaryCall(&ctx, "/grpc.health.v1.Health/Check", Buffer(""), &cq);
  call->StartCall();
  grpc::ByteBuffer response;
  call->Finish(&response, status, reinterpret_cast<void*>(1));
  REQUIRE(Await(cq, 1));
  cq.Shutdown();
  return status->ok() ? Bytes(response) : std::string();
}

// grpc.reflection.v1alpha.ServerReflection: list_services (field 7, empty string).
std::string ReflectionListServices(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  auto call =
      stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  call->StartCall(reinterpret_cast<void*>(1));
  REQUIRE(Await(cq, 1));
  call->Write(Buffer(std::string("\x3a\x00", 2)), reinterpret_cast<void*>(2));
  REQUIRE(Await(cq, 2));
  call->WritesDone(reinterpret_cast<void*>(3));
  REQUIRE(Await(cq, 3));
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(4));
  REQUIRE(Await(cq, 4));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  REQUIRE(Await(cq, 5));
  cq.Shutdown();
  CHECK(status.ok());
  return Bytes(response);
}

std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval tv{.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  REQUIRE(write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size()));
  std::string out;
  char buf[4096];
  for (int i = 0; i < 10000; ++i) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

// The metric line that has every one of `parts`, or "".
std::string Line(const std::string& text, std::initializer_list<std::string> parts) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    bool all = true;
    for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
    if (all) return line;
    start = end + 1;
  }
  return {};
}

struct Binary {
  explicit Binary(bool with_key = true)
      : nats(sb::testing::NatsServer::Start()),
        redis(sb::testing::RedisServer::Start()),
        grpc_port(sb::testing::FreePort()),
        http_port(sb::testing::FreePort()) {
    std::vector<std::pair<std::string, std::string>> env = {
        {"SB_NATS_URL", nats.url()},
        {"SB_PG_DSN", sb::testing::FreshDatabase("admin")},
        {"SB_REDIS_URL", redis.url()},
        {"SB_HTTP_PORT", std::to_string(http_port)},
        {"SB_ADMIN_GRPC_ADDR", "127.0.0.1:" + std::to_string(grpc_port)},
        {"SB_ADMIN_PLATFORM_DOMAIN", "sip.test.example"},
        {"SB_ADMIN_BOOTSTRAP_KEY", kPlatformKey},
        {"SB_ADMIN_MIGRATIONS_DIR", ADMIN_MIGRATIONS_DIR},
        {"SB_ADMIN_REPLICA", "binary-test"}};
    if (with_key) env.emplace_back("SB_ADMIN_SECRET_KEY", kSecretKey);
    process.emplace(sb::testing::ChildProcess::Start({SB_ADMIN_BINARY}, env, "sb-admin"));
    channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port),
                                  grpc::InsecureChannelCredentials());
  }
  // Bounded: until gRPC accepts connections or the process has exited; its log on failure.
  void WaitReady() {
    const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(60);
    bool connected = false;
    while (!connected && process->Running() && std::chrono::system_clock::now() < deadline) {
      connected = channel->WaitForConnected(
          std::min(deadline, std::chrono::system_clock::now() + std::chrono::seconds(1)));
    }
    if (!connected) FAIL("sb-admin not serving; its log:\n" << process->ReadLog());
  }
  ~Binary() {
    if (process) process->Stop();
  }
  sb::testing::NatsServer nats;
  sb::testing::RedisServer redis;
  int grpc_port;
  int http_port;
  std::optional<sb::testing::ChildProcess> process;
  std::shared_ptr<grpc::Channel> channel;
};

TEST_CASE("sb-admin answers health checks and lists its services through reflection",
          "[integration]") {
  Binary admin;
  admin.WaitReady();
  grpc::Status status;
  // HealthCheckResponse{status: SERVING (1)}.
  CHECK(HealthCheck(admin.channel, &status) == std::string("\x08\x01", 2));
  CHECK(status.ok());

  const std::string services = ReflectionListServices(admin.channel);
  for (const char* name :
       {"switchboard.admin.v1.TenantService", "switchboard.admin.v1.ApiKeyService",
        "switchboard.admin.v1.ExtensionService", "switchboard.admin.v1.NumberService",
        "switchboard.admin.v1.TrunkService", "switchboard.admin.v1.AuditService",
        "grpc.health.v1.Health"}) {
    INFO(name);
    CHECK(services.find(name) != std::string::npos);
  }
}

TEST_CASE("sb-admin counts and times each method by result on /metrics", "[integration]") {
  Binary admin;
  admin.WaitReady();
  auto tenants = pb::TenantService::NewStub(admin.channel);
  pb::ListTenantsRequest req;
  pb::ListTenantsResponse resp;
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    testing::AdminFixture::Authorize(ctx, kPlatformKey);
    REQUIRE(tenants->ListTenants(&ctx, req, &resp).ok());
  }
  grpc::ClientContext anonymous;
  anonymous.set_deadline(Deadline());
  CHECK(tenants->ListTenants(&anonymous, req, &resp).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);

  const std::string metrics = HttpGet(admin.http_port, "/metrics");
  INFO(metrics);
  const std::string ok = Line(metrics, {"sb_admin_rpc_total{", "ListTenants", "OK"});
  REQUIRE_FALSE(ok.empty());
  CHECK(ok.substr(ok.rfind(' ') + 1) == "3");
  const std::string refused =
      Line(metrics, {"sb_admin_rpc_total{", "ListTenants", "UNAUTHENTICATED"});
  REQUIRE_FALSE(refused.empty());
  CHECK(refused.substr(refused.rfind(' ') + 1) == "1");
  const std::string count = Line(metrics, {"sb_admin_rpc_seconds_count{", "ListTenants"});
  REQUIRE_FALSE(count.empty());
  CHECK(count.substr(count.rfind(' ') + 1) == "4");
  CHECK_FALSE(Line(metrics, {"sb_admin_rpc_seconds_bucket{", "ListTenants"}).empty());
}

TEST_CASE("sb-admin refuses to start without SB_ADMIN_SECRET_KEY and says so", "[integration]") {
  Binary admin(/*with_key=*/false);
  const int code = admin.process->WaitExit(std::chrono::seconds(20));
  CHECK(code != 0);
  CHECK(admin.process->ReadLog().find("SB_ADMIN_SECRET_KEY") != std::string::npos);
}

}  // namespace
}  // namespace sb::admin
