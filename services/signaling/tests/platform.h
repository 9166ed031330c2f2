// The platform as a deployment runs it, for the tests that drive sb-signaling through its sockets:
// a private nats-server, a fresh database on the shared PostgreSQL, the shared Redis, the real
// sb-admin, an sb-media node when calls need one, and the sb-signaling binary; tenants and
// extensions created through admin's gRPC API. Every process is stopped when the Platform goes.
//
//   sb::signaling::test::Platform p({.media = true, .signaling_env = {{"SB_..._SECONDS", "3"}}});
//   REQUIRE(p.WaitUntilReady());              // /readyz: a live media node, calls accepted
//   auto tenant = p.CreateTenant();
//   p.CreateExtension(tenant, "1001", "pass-1001-secret");
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchboard/admin/v1/extension.grpc.pb.h"
#include "switchboard/admin/v1/number.grpc.pb.h"
#include "switchboard/admin/v1/tenant.grpc.pb.h"
#include "switchboard/admin/v1/trunk.grpc.pb.h"
#include "switchboard/redis/client.h"
#include "switchboard/testing/child_process.h"
#include "switchboard/testing/kamailio.h"
#include "switchboard/testing/servers.h"

namespace sb::media_client::test {
class MediaProcess;
}

namespace sb::signaling::test {

// The Kamailio balancer (deploy/kamailio/switchboard-lb.cfg) in front of the sb-signaling
// replicas on these SIP ports of 127.0.0.1, probing them every second. Start it once they
// answer, so that its first probes find them up. `udp_workers`: its UDP processes (SB_LB_CHILDREN),
// which relay in parallel: two unless a test needs the node's order kept.
testing::Kamailio StartBalancer(const std::vector<int>& replica_ports, int udp_workers = 2);

// Where the balancer sent the first request its log names in a line containing `what` (its
// " dst=" field: "sip:IP:PORT"), or "(none)".
std::string DestinationOf(const std::string& log, const std::string& what);
// The port of that destination (a replica's SIP port), or 0 when the log names none.
int DestinationPort(const std::string& log, const std::string& what);

struct PlatformOptions {
  bool media = false;  // an sb-media node (sb-signaling is ready for calls once it reports)
  // Admin's platform domain: tenants' SIP domains are <slug>.<platform domain>.
  std::string platform_domain = "sip.sbtest.example";
  // sb-signaling settings added to (or overriding) the test defaults.
  std::vector<std::pair<std::string, std::string>> signaling_env{};
};

class Platform {
 public:
  explicit Platform(PlatformOptions options = {});
  ~Platform();
  Platform(const Platform&) = delete;
  Platform& operator=(const Platform&) = delete;

  // A directory for the test's own files (scenarios, configs), removed with the Platform.
  const std::filesystem::path& dir() const { return dir_; }
  const std::string& nats_url() const { return nats_.url(); }
  testing::NatsServer& nats() { return nats_; }  // to stop and restart (same port and store)
  int sip_port() const { return sip_port_; }     // UDP and TCP, on 127.0.0.1
  const std::string& platform_domain() const { return platform_domain_; }

  // Polls sb-signaling's /readyz (bounded): true once it answers 200.
  bool WaitUntilReady(std::chrono::seconds timeout = std::chrono::seconds(20)) const;
  // Another sb-signaling replica of the same deployment (the same NATS, Redis, nonce secret and
  // settings; its own node id and ports), as a balancer's second destination; stopped with the
  // Platform. Returns its SIP port (UDP and TCP on 127.0.0.1) once its /readyz answers 200.
  int AddSignalingReplica();
  // The node id (SB_SIGNALING_NODE_ID) of the node listening on `sip_port`: the token of its
  // command subjects, sb.cmd.signaling.<node id>.<operation>.
  std::string NodeId(int sip_port);
  // SIGKILLs the node (the first or an added replica) listening on `sip_port`, as a crash.
  void KillSignaling(int sip_port);
  // SIGTERMs that node, as Kubernetes stops a pod, and waits for its drain
  // (SB_SIGNALING_DRAIN_SECONDS, 1 in tests) and exit.
  void TerminateSignaling(int sip_port);
  // The first node SIGKILLed and started again under its node id and ports, as a StatefulSet
  // restarts a pod: a new run, which does not carry the calls of the run before it. Returns
  // once its /readyz answers 200.
  void RestartSignaling();
  // Another sb-media node on the platform's NATS (the Platform must have been made with media),
  // stopped with the Platform. Returns its node id once its load reports (every 200 ms) are
  // heard, as signaling hears them.
  std::string AddMediaNode();
  // The value of a sample of sb-signaling's /metrics ("name" or "name{labels}"); -1 when absent.
  double Metric(std::string_view sample) const;
  bool SignalingRunning() const { return signaling_.Running(); }
  // The first node's log, then each added replica's.
  std::string SignalingLog() const;

  // A new tenant (its SIP domain is <slug>.<platform domain>; a unique slug unless one is
  // given); retried while admin starts.
  switchboard::admin::v1::Tenant CreateTenant(std::string slug = {});
  // `sip_username` empty: the number is the extension's SIP (and digest) username.
  void CreateExtension(const switchboard::admin::v1::Tenant& tenant, const std::string& number,
                       const std::string& password, const std::string& caller_id = {},
                       const std::string& sip_username = {});
  // A number (E.164) of the tenant routed to `target` ("ext:<number>").
  void AddNumber(const switchboard::admin::v1::Tenant& tenant, const std::string& e164,
                 const std::string& target);
  // A trunk of the tenant as `trunk` describes it (its tenant_id is set here).
  switchboard::admin::v1::Trunk CreateTrunk(const switchboard::admin::v1::Tenant& tenant,
                                            switchboard::admin::v1::CreateTrunkRequest trunk);
  void Suspend(const switchboard::admin::v1::Tenant& tenant);

  // A client of the shared Redis (or the test's own, SB_REDIS_URL in signaling_env) under this
  // platform's own key prefix (each platform has one, so that no other test's replicas sweep its
  // keys or ban its addresses).
  std::unique_ptr<redis::Client> Redis() const;
  const std::string& redis_prefix() const { return redis_prefix_; }
  // The contacts bound to (tenant, aor), read straight from Redis.
  std::vector<std::string> StoredContacts(const switchboard::admin::v1::Tenant& tenant,
                                          const std::string& aor) const;

 private:
  std::filesystem::path dir_;
  testing::NatsServer nats_;
  std::string platform_domain_;
  int admin_port_;
  int sip_port_;
  int http_port_;
  testing::ChildProcess admin_;
  std::unique_ptr<media_client::test::MediaProcess> media_;
  std::vector<std::unique_ptr<media_client::test::MediaProcess>> more_media_;
  std::string redis_prefix_;
  std::vector<std::pair<std::string, std::string>> signaling_env_;
  // The first node's settings: signaling_env_ with its node id (which signaling_env_ may set).
  std::vector<std::pair<std::string, std::string>> first_env_;
  testing::ChildProcess signaling_;
  struct Replica {
    int sip_port;
    int http_port;
    std::vector<std::pair<std::string, std::string>> env;  // with its node id
    testing::ChildProcess process;
  };
  std::vector<Replica> replicas_;                    // beyond the first
  Replica& ReplicaOn(int sip_port);                  // the replica on that port, or the test fails
  testing::ChildProcess& SignalingOn(int sip_port);  // the node on that port, or the test fails
  std::unique_ptr<switchboard::admin::v1::TenantService::Stub> tenants_;
  std::unique_ptr<switchboard::admin::v1::ExtensionService::Stub> extensions_;
  std::unique_ptr<switchboard::admin::v1::NumberService::Stub> numbers_;
  std::unique_ptr<switchboard::admin::v1::TrunkService::Stub> trunks_;
};

}  // namespace sb::signaling::test
