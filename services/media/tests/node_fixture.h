// The integration tests' fixture: a real nats-server (private, started per test case), the media
// node's real object graph (NatsBus, EventPublisher, MediaNode with its epoll workers, the
// CommandServer, the ops HTTP server), and RTP peers: UDP sockets on 127.0.0.1 playing phones.
#pragma once

#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "net/media_node.h"
#include "rpc/command_server.h"
#include "rpc/event_publisher.h"
#include "rpc/load_reporter.h"
#include "rpc/operations.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/bus/subjects.h"
#include "switchboard/bus/typed.h"
#include "switchboard/core/http_server.h"
#include "switchboard/media/v1/commands.pb.h"
#include "switchboard/media/v1/events.pb.h"
#include "switchboard/sip/sdp.h"
#include "switchboard/testing/event_inbox.h"
#include "switchboard/testing/servers.h"
#include "switchboard/testing/udp_socket.h"

namespace sb::media::test {

namespace v1 = switchboard::media::v1;
using Clock = std::chrono::steady_clock;

// A phone's RTP socket on 127.0.0.1 (kernel-chosen port).
class RtpPeer {
 public:
  uint16_t port() const { return socket_.port(); }

  std::string Offer(const std::string& formats, const std::string& extra = "") const {
    return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
           std::to_string(port()) + " RTP/AVP " + formats + "\r\n" + extra + "a=rtcp-mux\r\n";
  }

  // Where the node said to send: the port of its answer.
  void Target(const std::string& answer) {
    auto sd = sdp::Parse(answer);
    REQUIRE(sd.ok());
    REQUIRE_FALSE(sd->media.empty());
    node_port_ = sd->media[0].port;
  }

  void Send(std::span<const uint8_t> datagram) const { socket_.SendTo(node_port_, datagram); }

  // Sends one RTP packet of our stream.
  void SendRtp(uint8_t pt, std::span<const uint8_t> payload, uint32_t ts_step,
               bool marker = false) {
    std::vector<uint8_t> pkt(rtp::kRtpFixedHeaderSize + payload.size());
    REQUIRE(rtp::BuildRtp({.marker = marker,
                           .payload_type = pt,
                           .sequence = seq_++,
                           .timestamp = ts_,
                           .ssrc = ssrc},
                          payload, pkt)
                .ok());
    ts_ += ts_step;
    Send(pkt);
  }

  // Every datagram that arrives until `until` (RTCP included), bounded by the deadline.
  std::vector<std::vector<uint8_t>> ReceiveUntil(Clock::time_point until) {
    std::vector<std::vector<uint8_t>> out;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) break;
      auto datagram = socket_.Receive(left);
      if (datagram) out.push_back(std::move(datagram->data));
    }
    return out;
  }

  uint32_t ssrc = 0x51515151;

 private:
  testing::UdpSocket socket_;
  uint16_t node_port_ = 0;
  uint16_t seq_ = 1;
  uint32_t ts_ = 1000;
};

using testing::EventInbox;

class NodeFixture {
 public:
  explicit NodeFixture(int workers = 2)
      : nats(testing::NatsServer::Start()),
        ids(clock),
        node_id(testing::UniqueName("media")),
        tenant(testing::UniqueName("tenant")),
        recordings(std::filesystem::temp_directory_path() / node_id) {
    std::filesystem::create_directories(recordings);
    bus::NatsBusOptions options;
    options.url = nats.url();
    options.name = "media-test";
    auto connected = bus::NatsBus::Connect(options);
    REQUIRE(connected.ok());
    bus = std::move(*connected);
    events = std::make_unique<EventPublisher>(*bus, clock, ids, node_id, metrics);
    // A range of its own per test process, so that parallel tests rarely meet (and when they
    // do, the node moves on to the next bindable pair).
    std::mt19937 random(static_cast<uint32_t>(::getpid()));
    uint16_t base = static_cast<uint16_t>(20000 + 2 * (random() % 4000));
    node = std::make_unique<MediaNode>(NodeOptions{.node_id = node_id,
                                                   .bind_address = "127.0.0.1",
                                                   .advertised_address = "127.0.0.1",
                                                   .port_min = base,
                                                   .port_max = static_cast<uint16_t>(base + 199),
                                                   .recordings_dir = recordings.string(),
                                                   .workers = workers},
                                       clock, *events, metrics, ids);
    REQUIRE(node->Start().ok());
    commands = std::make_unique<CommandServer>(*bus, *node, metrics);
    REQUIRE(commands->Start().ok());
    REQUIRE(bus->Flush(std::chrono::seconds(2)).ok());
  }

  ~NodeFixture() {
    commands.reset();
    node.reset();
    std::filesystem::remove_all(recordings);
  }

  template <typename Reply>
  Reply Command(std::string_view op, const google::protobuf::MessageLite& request) {
    auto subject = bus::subjects::NodeCommand(ops::kService, node_id, op);
    REQUIRE(subject.ok());
    auto reply = bus::RequestProto<Reply>(*bus, *subject, request, std::chrono::seconds(5));
    REQUIRE(reply.ok());
    return *reply;
  }

  // A leg for `peer` from its offer; points the peer at the node's port.
  std::string CreateLeg(RtpPeer& peer, const std::string& offer, const std::string& leg_id,
                        v1::LegOptions options = {}) {
    v1::CreateLegRequest req;
    req.set_tenant_id(tenant);
    req.set_call_id("call-" + leg_id);
    req.set_leg_id(leg_id);
    req.set_sdp_type(v1::SDP_TYPE_OFFER);
    req.set_sdp(offer);
    *req.mutable_options() = options;
    auto reply = Command<v1::LegReply>(ops::kCreateLeg, req);
    INFO(reply.error().message());
    REQUIRE(reply.error().code() == 0);
    peer.Target(reply.sdp());
    return reply.sdp();
  }

  std::string EventPattern(std::string_view type) const {
    return "sb.evt.media." + std::string(type) + "." + tenant;
  }

  testing::NatsServer nats;
  core::SystemClock clock;
  core::UuidV7Generator ids;
  core::MetricsRegistry metrics;
  std::string node_id;
  std::string tenant;
  std::filesystem::path recordings;
  std::unique_ptr<bus::NatsBus> bus;
  std::unique_ptr<EventPublisher> events;
  std::unique_ptr<MediaNode> node;
  std::unique_ptr<CommandServer> commands;
};

// Paces a real-time RTP source: frame i goes out at start + i * 20 ms.
inline void PaceFrame(Clock::time_point start, size_t i) {
  std::this_thread::sleep_until(start + std::chrono::milliseconds(20) * i);
}

}  // namespace sb::media::test
