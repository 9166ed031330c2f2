// The harness itself, against the real servers it starts: each private server accepts a client
// of its own protocol, NATS keeps its port and JetStream store across kill -9 and restart, Redis
// comes back on its port, and a server is gone once its owner is.
#include <arpa/inet.h>
#include <hiredis.h>
#include <libpq-fe.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <string>

#include "switchboard/testing/servers.h"

namespace {

using sb::testing::NatsServer;
using sb::testing::PostgresServer;
using sb::testing::RedisServer;

// Whether a UDP socket can be bound at ip:port (closed again).
bool UdpBinds(const char* ip, int port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip, &addr.sin_addr);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

struct NatsConn {
  natsConnection* nc = nullptr;
  explicit NatsConn(const std::string& url) {
    natsOptions* opts = nullptr;
    natsOptions_Create(&opts);
    natsOptions_SetURL(opts, url.c_str());
    natsOptions_SetAllowReconnect(opts, false);
    status = natsConnection_Connect(&nc, opts);
    natsOptions_Destroy(opts);
  }
  ~NatsConn() { natsConnection_Destroy(nc); }
  natsStatus status;
};

std::string PgQuery(const std::string& dsn, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(dsn.c_str()), &PQfinish);
  REQUIRE(PQstatus(c.get()) == CONNECTION_OK);
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), sql.c_str()), &PQclear);
  REQUIRE(PQresultStatus(r.get()) == PGRES_TUPLES_OK);
  return PQntuples(r.get()) > 0 ? PQgetvalue(r.get(), 0, 0) : "";
}

using RedisPtr = std::unique_ptr<redisContext, decltype(&redisFree)>;
RedisPtr RedisConnect(int port) {
  return RedisPtr(redisConnectWithTimeout("127.0.0.1", port, timeval{2, 0}), &redisFree);
}
std::string RedisCmd(redisContext* c, const char* cmd) {
  auto* r = static_cast<redisReply*>(redisCommand(c, cmd));
  if (!r) return "<no reply>";
  std::string out(r->str ? std::string(r->str, r->len) : std::to_string(r->integer));
  freeReplyObject(r);
  return out;
}

}  // namespace

TEST_CASE("a private NATS server takes clients and keeps port and JetStream store over kill -9",
          "[testing][nats]") {
  NatsServer nats = NatsServer::Start();
  REQUIRE(nats.url() == "nats://127.0.0.1:" + std::to_string(nats.port()));

  const std::string stream = sb::testing::UniqueName("HARNESS");
  {
    NatsConn conn(nats.url());
    REQUIRE(conn.status == NATS_OK);
    jsCtx* js = nullptr;
    REQUIRE(natsConnection_JetStream(&js, conn.nc, nullptr) == NATS_OK);
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = stream.c_str();
    const std::string subject = "harness." + stream;
    const char* subjects[] = {subject.c_str()};
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    jsStreamInfo* si = nullptr;
    jsErrCode jerr{};
    REQUIRE(js_AddStream(&si, js, &cfg, nullptr, &jerr) == NATS_OK);
    jsStreamInfo_Destroy(si);
    jsPubAck* ack = nullptr;
    REQUIRE(js_Publish(&ack, js, subject.c_str(), "kept", 4, nullptr, &jerr) == NATS_OK);
    jsPubAck_Destroy(ack);
    jsCtx_Destroy(js);
  }

  const int port = nats.port();
  nats.Kill();
  CHECK_FALSE(Accepts(port));
  CHECK(NatsConn(nats.url()).status != NATS_OK);

  nats.Restart();
  REQUIRE(nats.port() == port);
  NatsConn conn(nats.url());
  REQUIRE(conn.status == NATS_OK);
  jsCtx* js = nullptr;
  REQUIRE(natsConnection_JetStream(&js, conn.nc, nullptr) == NATS_OK);
  jsStreamInfo* si = nullptr;
  jsErrCode jerr{};
  REQUIRE(js_GetStreamInfo(&si, js, stream.c_str(), nullptr, &jerr) == NATS_OK);
  CHECK(si->State.Msgs == 1);
  jsStreamInfo_Destroy(si);
  jsCtx_Destroy(js);
}

TEST_CASE("a NATS server stopped with SIGTERM comes back on its port", "[testing][nats]") {
  NatsServer nats = NatsServer::Start();
  const int port = nats.port();
  nats.Stop();
  CHECK_FALSE(Accepts(port));
  nats.Restart();
  CHECK(NatsConn(nats.url()).status == NATS_OK);
}

TEST_CASE("a private PostgreSQL 15 server takes clients and is gone with its owner",
          "[testing][pg]") {
  int port = 0;
  {
    PostgresServer pg = PostgresServer::Start();
    port = pg.port();
    REQUIRE(pg.dsn() ==
            "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres dbname=postgres");
    CHECK(PgQuery(pg.dsn(), "SHOW server_version_num").starts_with("15"));
    CHECK(PgQuery(pg.dsn(), "SHOW fsync") == "off");
  }
  CHECK_FALSE(Accepts(port));
  // sipp and the SIP tests bind UDP on other loopback addresses than 127.0.0.1.
  CHECK(UdpBinds("127.0.0.61", port));
}

TEST_CASE("FreePort never hands out a port twice - with also_free_above the neighbour is free too",
          "[testing]") {
  std::set<int> ports;
  for (int i = 0; i < 200; ++i) ports.insert(sb::testing::FreePort());
  CHECK(ports.size() == 200);
  const int rtp = sb::testing::FreePort(2);
  CHECK_FALSE(ports.count(rtp));
  CHECK(UdpBinds("127.0.0.1", rtp + 2));
  // The neighbour is reserved as well: a later FreePort does not return it.
  for (int i = 0; i < 200; ++i) CHECK(sb::testing::FreePort() != rtp + 2);
}

TEST_CASE("a private Redis server answers, dies with kill -9 and restarts on its port",
          "[testing][redis]") {
  RedisServer redis = RedisServer::Start();
  REQUIRE(redis.host() == "127.0.0.1");
  REQUIRE(redis.url() == "redis://127.0.0.1:" + std::to_string(redis.port()));
  {
    auto c = RedisConnect(redis.port());
    REQUIRE(c->err == 0);
    CHECK(RedisCmd(c.get(), "SET harness-key v") == "OK");
    CHECK(RedisCmd(c.get(), "GET harness-key") == "v");
  }
  const int port = redis.port();
  redis.Kill();
  CHECK(RedisConnect(port)->err != 0);

  redis.Restart();
  REQUIRE(redis.port() == port);
  auto c = RedisConnect(port);
  REQUIRE(c->err == 0);
  CHECK(RedisCmd(c.get(), "PING") == "PONG");
  // No persistence: a restarted test redis starts empty.
  CHECK(RedisCmd(c.get(), "EXISTS harness-key") == "0");
}

TEST_CASE("the shared servers of a run are reachable and hand out isolated names",
          "[testing][shared]") {
  const auto& s = sb::testing::Shared();
  CHECK(&s == &sb::testing::Shared());
  CHECK(NatsConn(s.nats_url).status == NATS_OK);
  CHECK(PgQuery(s.pg_dsn, "SELECT 1") == "1");
  auto c = RedisConnect(s.redis_port);
  REQUIRE(c->err == 0);
  CHECK(s.redis_url == "redis://" + s.redis_host + ":" + std::to_string(s.redis_port));
  CHECK(RedisCmd(c.get(), "PING") == "PONG");

  SECTION("FreshDatabase gives a new empty database per call") {
    const std::string a = sb::testing::FreshDatabase("harness");
    const std::string b = sb::testing::FreshDatabase("harness");
    REQUIRE(a != b);
    CHECK(PgQuery(a, "SELECT current_database()").starts_with("harness_"));
    CHECK(PgQuery(a, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0");
    PgQuery(a, "CREATE TABLE only_in_a (x int); SELECT 1");
    CHECK(PgQuery(b, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'") == "0");
  }
  SECTION("UniqueName does not repeat") {
    std::set<std::string> names;
    for (int i = 0; i < 1000; ++i) names.insert(sb::testing::UniqueName("x"));
    CHECK(names.size() == 1000);
    CHECK(names.begin()->starts_with("x_"));
  }
}

TEST_CASE("FreePort returns a loopback port nobody listens on", "[testing]") {
  const int port = sb::testing::FreePort();
  CHECK(port > 0);
  CHECK(port < 65536);
  CHECK_FALSE(Accepts(port));
}
