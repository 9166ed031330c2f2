// MediaClient and NodeTracker against the real sb-media executable on a real nats-server: the
// tracker learns the node from its load reports, the client anchors two phones' legs on it,
// bridges and destroys them; errors come back with the node's codes; a draining node is not
// picked and a stopped one is reported lost.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>

#include "switchboard/bus/nats_bus.h"
#include "switchboard/media_client/media_client.h"
#include "switchboard/media_client/node_tracker.h"
#include "switchboard/testing/servers.h"

namespace sb::media_client {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A phone's RTP socket on 127.0.0.1, so that its offer names a port that is really there.
class Phone {
 public:
  Phone() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0);
    socklen_t len = sizeof(sa);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
    port_ = ntohs(sa.sin_port);
  }
  ~Phone() { ::close(fd_); }
  Phone(const Phone&) = delete;
  Phone& operator=(const Phone&) = delete;

  std::string Offer(const std::string& payload_types) const {
    return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
           std::to_string(port_) + " RTP/AVP " + payload_types + "\r\na=rtcp-mux\r\n";
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// Waits for the child's exit within the timeout (pidfd + poll: no sleeping); its exit status,
// or -1 after SIGKILL when it did not exit in time.
int WaitExit(pid_t pid, int timeout_ms) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    ::poll(&p, 1, timeout_ms);
    ::close(pidfd);
  }
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

// One sb-media process with its own node id, port range and recordings folder; killed when the
// test ends however it ends.
class MediaProcess {
 public:
  explicit MediaProcess(const std::string& nats_url)
      : node_id_(testing::UniqueName("media")),
        dir_(std::filesystem::temp_directory_path() / node_id_) {
    std::filesystem::create_directories(dir_);
    // A range of its own (100 port pairs) so that parallel tests rarely meet; when they do, the
    // node moves on to the next bindable pair.
    std::mt19937 random(std::random_device{}());
    const int base = 30000 + 2 * static_cast<int>(random() % 1200);
    const std::string http_port = std::to_string(testing::FreePort());
    const std::string log = (dir_ / "sb-media.log").string();
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::setenv("SB_NATS_URL", nats_url.c_str(), 1);
      ::setenv("SB_HTTP_PORT", http_port.c_str(), 1);
      ::setenv("SB_MEDIA_NODE_ID", node_id_.c_str(), 1);
      ::setenv("SB_MEDIA_BIND_ADDR", "127.0.0.1", 1);
      ::setenv("SB_MEDIA_ADVERTISED_ADDR", "127.0.0.1", 1);
      ::setenv("SB_MEDIA_PORT_MIN", std::to_string(base).c_str(), 1);
      ::setenv("SB_MEDIA_PORT_MAX", std::to_string(base + 199).c_str(), 1);
      ::setenv("SB_MEDIA_RECORDINGS_DIR", dir_.c_str(), 1);
      ::setenv("SB_MEDIA_LOAD_INTERVAL_MS", "200", 1);
      ::setenv("SB_MEDIA_DRAIN_SECONDS", "1", 1);
      if (FILE* out = std::freopen(log.c_str(), "w", stdout)) (void)out;
      ::execl(SB_MEDIA_BIN, "sb-media", nullptr);
      ::_exit(127);
    }
  }
  ~MediaProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  const std::string& node_id() const { return node_id_; }

  // SIGTERM, then the exit status once it has drained and exited (-1 when it had to be killed).
  int Terminate() {
    if (!terminating_) SignalTerm();
    int status = WaitExit(pid_, 10000);
    pid_ = -1;
    return status;
  }
  void SignalTerm() {
    REQUIRE(::kill(pid_, SIGTERM) == 0);
    terminating_ = true;
  }

 private:
  std::string node_id_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  bool terminating_ = false;
};

std::unique_ptr<bus::NatsBus> Connect(const std::string& url) {
  bus::NatsBusOptions options;
  options.url = url;
  options.name = "media-client-test";
  auto bus = bus::NatsBus::Connect(options);
  REQUIRE(bus.ok());
  return std::move(*bus);
}

// A private nats-server per test: another test's media nodes on a shared server would report on
// the same subject and could be picked.
struct Cluster {
  testing::NatsServer nats = testing::NatsServer::Start();
  std::unique_ptr<bus::NatsBus> bus = Connect(nats.url());
  core::SystemClock clock;
  NodeTracker tracker{*bus, clock};
};

TEST_CASE("the picked node anchors two legs from SDP offers then bridges and destroys them",
          "[natstest][media_client]") {
  Cluster cluster;
  REQUIRE(cluster.tracker.Start().ok());
  MediaProcess node(cluster.nats.url());
  REQUIRE(cluster.tracker.WaitUntil([&] { return cluster.tracker.IsLive(node.node_id()); },
                                    seconds(10)));

  auto picked = cluster.tracker.PickLeastLoaded();
  REQUIRE(picked.ok());
  CHECK(picked->node_id == node.node_id());
  CHECK(picked->capacity == 100);
  CHECK(picked->advertised_address == "127.0.0.1");

  MediaClient media(*cluster.bus, picked->node_id, seconds(5));
  Phone alice;
  Phone bob;
  media_v1::CreateLegRequest a;
  a.set_tenant_id("tenant-1");
  a.set_call_id("call-1");
  a.set_leg_id("alice");
  a.set_sdp_type(media_v1::SDP_TYPE_OFFER);
  a.set_sdp(alice.Offer("0"));
  auto leg_a = media.CreateLeg(a);
  REQUIRE(leg_a.ok());
  CHECK(leg_a->leg_id() == "alice");
  CHECK(leg_a->codec() == "PCMU");
  CHECK(leg_a->sdp().find("c=IN IP4 127.0.0.1") != std::string::npos);

  media_v1::CreateLegRequest b = a;
  b.set_leg_id("bob");
  b.set_sdp(bob.Offer("8"));
  auto leg_b = media.CreateLeg(b);
  REQUIRE(leg_b.ok());
  CHECK(leg_b->codec() == "PCMA");

  auto bridged = media.Bridge("alice", "bob");
  REQUIRE(bridged.ok());
  CHECK(bridged->transcoding());  // PCMU on one side, PCMA on the other

  // The node counts the legs in its next reports.
  CHECK(cluster.tracker.WaitUntil(
      [&] {
        auto r = cluster.tracker.Find(node.node_id());
        return r.ok() && r->legs == 2;
      },
      seconds(5)));

  CHECK(media.Unbridge("alice").ok());
  CHECK(media.DestroyLeg("alice").ok());
  CHECK(media.DestroyLeg("bob").ok());
  // A second destroy is the node's NOT_FOUND, not a transport error.
  CHECK(media.DestroyLeg("alice").code() == StatusCode::kNotFound);
  CHECK(cluster.tracker.WaitUntil(
      [&] {
        auto r = cluster.tracker.Find(node.node_id());
        return r.ok() && r->legs == 0;
      },
      seconds(5)));
  CHECK(node.Terminate() == 0);
}

TEST_CASE("the node's refusals keep their code and field and a silent node is UNAVAILABLE",
          "[natstest][media_client]") {
  Cluster cluster;
  REQUIRE(cluster.tracker.Start().ok());
  MediaProcess node(cluster.nats.url());
  REQUIRE(cluster.tracker.WaitUntil([&] { return cluster.tracker.IsLive(node.node_id()); },
                                    seconds(10)));
  MediaClient media(*cluster.bus, node.node_id(), seconds(5));

  media_v1::CreateLegRequest untyped;
  untyped.set_tenant_id("tenant-1");
  untyped.set_call_id("call-1");
  untyped.set_sdp(Phone().Offer("0"));  // SDP without saying offer or answer
  auto refused = media.CreateLeg(untyped);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(refused.status().field() == "sdp_type");

  CHECK(media.Bridge("nobody", "nobody-else").status().code() == StatusCode::kNotFound);

  MediaClient nowhere(*cluster.bus, "no-such-node", milliseconds(300));
  const auto started = std::chrono::steady_clock::now();
  auto silent = nowhere.DestroyLeg("x");
  CHECK(silent.code() == StatusCode::kUnavailable);
  CHECK(silent.message().find("no-such-node") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - started < seconds(3));  // bounded, never a hang

  MediaClient bad_id(*cluster.bus, "not a token", milliseconds(300));
  CHECK(bad_id.DestroyLeg("x").code() == StatusCode::kInvalidArgument);
}

TEST_CASE("a draining node is not picked and a stopped node is reported lost once",
          "[natstest][media_client]") {
  Cluster cluster;
  REQUIRE(cluster.tracker.Start().ok());
  MediaProcess node(cluster.nats.url());
  REQUIRE(cluster.tracker.WaitUntil([&] { return cluster.tracker.IsLive(node.node_id()); },
                                    seconds(10)));
  REQUIRE(cluster.tracker.PickLeastLoaded().ok());
  CHECK(cluster.tracker.TakeLost().empty());

  node.SignalTerm();
  REQUIRE(cluster.tracker.WaitUntil(
      [&] {
        auto r = cluster.tracker.Find(node.node_id());
        return r.ok() && r->draining;
      },
      seconds(5)));
  CHECK(cluster.tracker.PickLeastLoaded().status().code() == StatusCode::kUnavailable);
  CHECK(node.Terminate() == 0);

  // Three missed 200 ms reports after the exit.
  auto lost = cluster.tracker.WaitLost(seconds(5));
  CHECK(lost == std::vector<std::string>{node.node_id()});
  CHECK_FALSE(cluster.tracker.IsLive(node.node_id()));
  CHECK(cluster.tracker.TakeLost().empty());
  CHECK(cluster.tracker.bad_reports() == 0);
}

}  // namespace
}  // namespace sb::media_client
