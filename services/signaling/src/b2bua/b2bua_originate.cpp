// Calls this node places (an originate command): the node is the UAC of a one-legged call.
//
//   originate(caller 1001, dialled 1002)  [route as if 1001 dialled it, or out through the
//                                          trunk the command names]  -> the command's reply
//                                          (the call id; a refused route is its error instead)
//                                          "created"
//   [leg b on the least-loaded media node, offering]
//   --INVITE (node's offer)--> every contact of 1002, or the trunk's gateway (as any call)
//   <--180/183--  "ringing" (an early SDP is not given to the node: nobody hears it)
//   <--200--  its SDP completes leg b; ACK; "answered".  Busy, no answer within the command's
//   timeout, a failure: "ended" with the cause and code, as for any call.
//   BYE from the far end, or a hangup command: "ended" (normal / hangup_command).
//
// The answered call's one party is side b: play and record act on its leg, re-INVITEs are
// answered by the node, INFO and OPTIONS answered here, a REFER refused (403); a bridge command
// joins it to another call (b2bua_bridge.cpp).
#include <utility>

#include "b2bua/b2bua.h"

namespace sb::signaling::b2bua {
namespace {

// What a refused route means to the command that asked for the call.
Status RouteRefusal(const Route& route) {
  const std::string why = std::to_string(route.code) + " " + route.reason;
  switch (route.code) {
    case 404:
      return Status::NotFound("nothing by that name to call (" + why + ")");
    case 503:
      return Status::Unavailable("routing is unavailable (" + why + ")");
    default:
      return Status::FailedPrecondition("the call cannot be placed (" + why + ")");
  }
}

}  // namespace

void B2bua::Originate(Origination origination, std::function<void(Result<std::string>)> created) {
  if (!origination.call_id.empty() && Find(origination.call_id) != nullptr) {
    // The requester's retry of a call already placed (the call id is its idempotency key).
    Call* call = Find(origination.call_id);
    if (call->caller.tenant != origination.caller.tenant) {
      created(Status::AlreadyExists("call id " + origination.call_id + " is taken"));
    } else {
      created(call->id);
    }
    return;
  }
  Call call;
  call.id = origination.call_id.empty() ? FreshCallId() : origination.call_id;
  call.originated = true;
  call.one_legged = true;
  call.phase = Phase::kRouting;
  call.caller = std::move(origination.caller);
  call.dialed = std::move(origination.dialed);
  call.from_uri = std::move(origination.from_uri);
  call.ring_timeout = origination.timeout;
  call.started = endpoint_.clock().WallNow();
  call.created = std::move(created);
  const std::string id = call.id;
  Caller caller = call.caller;
  std::string dialed = call.dialed;
  calls_.emplace(id, std::move(call));
  auto route = std::make_shared<Route>();
  Status queued = offloader_.Run(
      [this, route, caller, dialed, trunk = std::move(origination.trunk_id),
       caller_id = std::move(origination.trunk_caller_id)] {
        *route = trunk.empty() ? ports_.router.Resolve(caller, dialed)
                               : ports_.router.ThroughTrunk(caller, trunk, dialed, caller_id);
      },
      [this, id, route] { OriginateRouted(id, std::move(*route)); });
  if (!queued.ok()) Fail(id, 503, "Overloaded", "");
}

void B2bua::OriginateRouted(const std::string& id, Route route) {
  Call* call = Find(id);
  if (call == nullptr) return;
  auto created = std::move(call->created);
  call->created = nullptr;
  if (route.code != 0) {
    // Not placed: the command says why, and no call events exist for it.
    created(RouteRefusal(route));
    calls_.erase(id);
    return;
  }
  // The command's caller id wins inside the tenant; a trunk presents what its policy says.
  if (call->from_uri.empty()) call->from_uri = std::move(route.from_uri);
  call->to_uri = !route.to_uri.empty() ? std::move(route.to_uri)
                                       : "sip:" + call->dialed + "@" + call->caller.domain;
  call->phase = Phase::kLocating;
  CallSummary summary = Summary(*call);
  ports_.events.Created(summary);
  created(id);
  Ring(id, std::move(route));
}

void B2bua::AnchorOriginated(const std::string& id) {
  Call* call = Find(id);
  auto leg = std::make_shared<Result<MediaAnchor::Leg>>(Status::Internal("not run"));
  TenantId tenant = call->caller.tenant;
  const std::string b = MediaLeg(*call, 'b');
  Status queued = offloader_.Run(
      [this, leg, tenant, id, b] { *leg = ports_.media.CreateLeg(tenant, id, b, {}, {}); },
      [this, id, leg, b] {
        Call* call = Find(id);
        if (call == nullptr) {
          // Hung up while the node worked: its leg is an orphan now.
          if (leg->ok()) DestroyMedia((*leg)->node_id, {b});
          return;
        }
        if (!leg->ok()) {
          Anchored(id, leg->status());
          return;
        }
        call->media_node = (*leg)->node_id;
        call->b_offer = (*leg)->sdp;
        Anchored(id, Status::Ok());
      });
  if (!queued.ok()) Fail(id, 503, "Overloaded", "network_failure");
}

}  // namespace sb::signaling::b2bua
