// A two-party call's media in three requests over a real nats-server, with real RTP over loopback
// UDP: create_leg_pair makes the caller's leg and the node's offer to the callee, update_leg with
// bridge_with completes and bridges the callee's leg, destroy_legs tears both down; a pair whose
// second leg cannot be made leaves no leg behind and says which leg was wrong.
#include <catch2/catch.hpp>

#include "node_fixture.h"

namespace sb::media {
namespace {

using test::Clock;
using test::NodeFixture;
using test::RtpPeer;
namespace v1 = switchboard::media::v1;
using switchboard::common::v1::ERROR_CODE_ALREADY_EXISTS;
using switchboard::common::v1::ERROR_CODE_INVALID_ARGUMENT;
using switchboard::common::v1::ERROR_CODE_NOT_FOUND;

v1::CreateLegRequest NewLeg(const NodeFixture& f, const std::string& leg_id,
                            const std::string& offer) {
  v1::CreateLegRequest leg;
  leg.set_tenant_id(f.tenant);
  leg.set_call_id("call-pair");
  leg.set_leg_id(leg_id);
  if (!offer.empty()) {
    leg.set_sdp_type(v1::SDP_TYPE_OFFER);
    leg.set_sdp(offer);
  }
  return leg;
}

v1::CreateLegPairRequest Pair(v1::CreateLegRequest a, v1::CreateLegRequest b) {
  v1::CreateLegPairRequest pair;
  *pair.mutable_a() = std::move(a);
  *pair.mutable_b() = std::move(b);
  return pair;
}

// The endpoint's answer to the node's offer on `leg_id`, then the bridge with `bridge_with`.
v1::UpdateLegRequest AnswerAndBridge(const std::string& leg_id, const std::string& answer,
                                     const std::string& bridge_with) {
  v1::UpdateLegRequest update;
  update.set_leg_id(leg_id);
  update.set_sdp_type(v1::SDP_TYPE_ANSWER);
  update.set_sdp(answer);
  update.set_bridge_with(bridge_with);
  return update;
}

TEST_CASE("a call's legs are made - answered and bridged - and destroyed in one request each",
          "[natstest][leg_pair]") {
  NodeFixture f;
  RtpPeer caller, callee;
  auto pair = f.Command<v1::LegPairReply>(
      ops::kCreateLegPair, Pair(NewLeg(f, "a", caller.Offer("0 8")), NewLeg(f, "b", "")));
  INFO(pair.error().message());
  REQUIRE(pair.error().code() == 0);
  CHECK(pair.a().leg_id() == "a");
  CHECK(pair.a().codec() == "PCMU");  // the caller's first choice
  CHECK(pair.b().leg_id() == "b");
  CHECK(pair.b().codec().empty());  // the node's offer: nothing negotiated yet
  CHECK(pair.b().sdp().find("m=audio ") != std::string::npos);
  CHECK(f.node->Load().legs == 2);
  caller.Target(pair.a().sdp());
  callee.Target(pair.b().sdp());

  // The callee answers PCMA only: the bridge transcodes.
  auto answered =
      f.Command<v1::LegReply>(ops::kUpdateLeg, AnswerAndBridge("b", callee.Offer("8"), "a"));
  INFO(answered.error().message());
  REQUIRE(answered.error().code() == 0);
  CHECK(answered.codec() == "PCMA");
  CHECK(answered.transcoding());

  std::vector<uint8_t> silence(160, 0xff);  // PCMU
  for (int i = 0; i < 5; ++i) caller.SendRtp(0, silence, 160);
  size_t pcma = 0;
  for (const auto& p : callee.ReceiveUntil(Clock::now() + std::chrono::milliseconds(500))) {
    auto packet = rtp::ParseRtp(p);
    pcma += packet.ok() && packet->header.payload_type == 8;
  }
  CHECK(pcma >= 4);  // transcoded as the caller's packets come

  // An unknown leg among them does not keep the others alive; its NOT_FOUND is the answer.
  v1::DestroyLegsRequest destroy;
  destroy.add_leg_ids("a");
  destroy.add_leg_ids("nobody");
  destroy.add_leg_ids("b");
  CHECK(f.Command<v1::Ack>(ops::kDestroyLegs, destroy).error().code() == ERROR_CODE_NOT_FOUND);
  CHECK(f.node->Load().legs == 0);
  destroy.clear_leg_ids();
  CHECK(f.Command<v1::Ack>(ops::kDestroyLegs, destroy).error().code() == 0);  // nothing to do
}

TEST_CASE("a pair whose second leg cannot be made leaves no leg and names the leg at fault",
          "[natstest][leg_pair][errors]") {
  NodeFixture f;
  RtpPeer caller;
  struct Case {
    std::string name;
    v1::CreateLegRequest a, b;
    int code;
    std::string field;
  };
  v1::CreateLegRequest untyped = NewLeg(f, "b", "");
  untyped.set_sdp(caller.Offer("0"));  // SDP without saying offer or answer
  const std::vector<Case> cases = {
      {"b without sdp_type", NewLeg(f, "a", caller.Offer("0")), untyped,
       ERROR_CODE_INVALID_ARGUMENT, "b.sdp_type"},
      {"b with an offer that is not SDP", NewLeg(f, "a", caller.Offer("0")),
       NewLeg(f, "b", "not sdp"), ERROR_CODE_INVALID_ARGUMENT, "b.sdp"},
      {"a with an offer that is not SDP", NewLeg(f, "a", "not sdp"), NewLeg(f, "b", ""),
       ERROR_CODE_INVALID_ARGUMENT, "a.sdp"},
      {"b with the id of a", NewLeg(f, "a", caller.Offer("0")), NewLeg(f, "a", ""),
       ERROR_CODE_ALREADY_EXISTS, ""},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.name) {
      auto reply = f.Command<v1::LegPairReply>(ops::kCreateLegPair, Pair(c.a, c.b));
      INFO(reply.error().message());
      CHECK(reply.error().code() == c.code);
      CHECK(reply.error().field() == c.field);
      CHECK_FALSE(reply.has_a());
      CHECK(f.node->Load().legs == 0);
    }
  }
}

TEST_CASE("an answer whose bridge fails still completes the leg and says why",
          "[natstest][leg_pair][errors]") {
  NodeFixture f;
  RtpPeer callee;
  auto pair = f.Command<v1::LegPairReply>(
      ops::kCreateLegPair, Pair(NewLeg(f, "a", RtpPeer().Offer("0")), NewLeg(f, "b", "")));
  REQUIRE(pair.error().code() == 0);
  auto answered =
      f.Command<v1::LegReply>(ops::kUpdateLeg, AnswerAndBridge("b", callee.Offer("0"), "gone"));
  CHECK(answered.error().code() == ERROR_CODE_NOT_FOUND);
  CHECK(answered.codec() == "PCMU");  // the answer was taken before the bridge failed
  CHECK_FALSE(answered.transcoding());
}

}  // namespace
}  // namespace sb::media
