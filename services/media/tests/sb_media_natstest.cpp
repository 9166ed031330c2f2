// The sb-media executable itself: started with its settings against a real nats-server, driven
// over NATS, stopped with SIGTERM. Checks the composition root: settings, load reports, command
// subjects, and the drain (draining report, final statistics of the leg still alive, exit 0).
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "node_fixture.h"

namespace sb::media {
namespace {

namespace v1 = switchboard::media::v1;
using test::EventInbox;
using test::RtpPeer;

// Waits for the child to exit within the timeout (pidfd + poll: no sleeping); its exit status,
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

TEST_CASE("sb-media serves commands, reports load, and drains on SIGTERM", "[natstest][process]") {
  auto nats = testing::NatsServer::Start();
  bus::NatsBusOptions options;
  options.url = nats.url();
  auto bus = bus::NatsBus::Connect(options);
  REQUIRE(bus.ok());
  const std::string node_id = testing::UniqueName("media");
  const std::string tenant = testing::UniqueName("tenant");
  EventInbox loads(**bus, "sb.evt.media.node_load.platform");
  EventInbox stats(**bus, "sb.evt.media.leg_stats." + tenant);
  const auto dir = std::filesystem::temp_directory_path() / node_id;
  const std::string http_port = std::to_string(testing::FreePort());

  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::setenv("SB_NATS_URL", nats.url().c_str(), 1);
    ::setenv("SB_HTTP_PORT", http_port.c_str(), 1);
    ::setenv("SB_MEDIA_NODE_ID", node_id.c_str(), 1);
    ::setenv("SB_MEDIA_BIND_ADDR", "127.0.0.1", 1);
    ::setenv("SB_MEDIA_ADVERTISED_ADDR", "127.0.0.1", 1);
    ::setenv("SB_MEDIA_PORT_MIN", "42000", 1);
    ::setenv("SB_MEDIA_PORT_MAX", "42199", 1);
    ::setenv("SB_MEDIA_RECORDINGS_DIR", dir.c_str(), 1);
    ::setenv("SB_MEDIA_LOAD_INTERVAL_MS", "200", 1);
    ::setenv("SB_MEDIA_DRAIN_SECONDS", "1", 1);
    ::execl(SB_MEDIA_BIN, "sb-media", nullptr);
    ::_exit(127);
  }

  auto first = loads.Wait<v1::NodeLoad>(
      [&](const v1::NodeLoad& l, const bus::Message&) { return l.node_id() == node_id; },
      std::chrono::seconds(10));
  REQUIRE(first.has_value());
  CHECK(first->capacity() == 100);
  CHECK_FALSE(first->draining());

  RtpPeer phone;
  v1::CreateLegRequest req;
  req.set_tenant_id(tenant);
  req.set_call_id("call-1");
  req.set_leg_id("leg-1");
  req.set_sdp_type(v1::SDP_TYPE_OFFER);
  req.set_sdp(phone.Offer("0"));
  auto subject = bus::subjects::NodeCommand(ops::kService, node_id, ops::kCreateLeg);
  REQUIRE(subject.ok());
  auto leg = bus::RequestProto<v1::LegReply>(**bus, *subject, req, std::chrono::seconds(5));
  REQUIRE(leg.ok());
  REQUIRE(leg->error().code() == 0);
  CHECK(leg->sdp().find("c=IN IP4 127.0.0.1") != std::string::npos);

  REQUIRE(::kill(pid, SIGTERM) == 0);
  auto draining = loads.Wait<v1::NodeLoad>(
      [&](const v1::NodeLoad& l, const bus::Message&) {
        return l.node_id() == node_id && l.draining();
      },
      std::chrono::seconds(5));
  CHECK(draining.has_value());
  CHECK(WaitExit(pid, 10000) == 0);
  // The leg nobody destroyed was cut at the end of the drain, with its final statistics.
  auto final = stats.Wait<v1::LegStatisticsEvent>(
      [](const v1::LegStatisticsEvent& e, const bus::Message&) { return e.final(); },
      std::chrono::seconds(5));
  REQUIRE(final.has_value());
  CHECK(final->leg().leg_id() == "leg-1");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sb::media
