// The dialog layer (RFC 3261 §12): dialog state created from a request and a response with a To
// tag, its route set, CSeq spaces and remote target, and the in-dialog requests built from it.
// Pure values: a Dialog owns copies of what it needs and never refers to a Message.
//
//   // UAC: the INVITE we sent, a 180 or 200 with a To tag.
//   auto dialog = sb::sip::Dialog::CreateUac(invite, response);
//   // Later: the ACK for the 2xx, then a BYE, each with a new Via branch from the caller.
//   auto ack = dialog->MakeAck(invite_cseq, "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK...");
//   auto bye = dialog->MakeRequest("BYE", "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK...");
//   Send(bye->Build());
//
//   // UAS: a request inside the dialog is checked first (§12.2.2).
//   auto check = dialog->OnRequest(request);
//   if (check.reject_code != 0) Reply(request, check.reject_code, check.reason);  // e.g. 500
//
// Routing (§12.2.1.1): with a loose-routing first hop (";lr") the Request-URI is the remote target
// and the route set goes into Route; with a strict router the first route becomes the
// Request-URI and the remote target the last Route.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/core/status.h"
#include "switchboard/sip/builder.h"
#include "switchboard/sip/message.h"

namespace sb::sip {

struct DialogId {
  std::string call_id;
  std::string local_tag;
  std::string remote_tag;
  friend bool operator==(const DialogId&, const DialogId&) = default;
  friend auto operator<=>(const DialogId&, const DialogId&) = default;
};

enum class DialogState { kEarly, kConfirmed, kTerminated };
std::string_view DialogStateName(DialogState state);

// What the UAS does with an in-dialog request: 0 = accept, else answer with this code.
struct RequestCheck {
  int reject_code = 0;
  std::string reason;
};

class Dialog {
 public:
  // §12.1.2. `request` is the dialog-creating request we sent, `response` a 101-299 with a To tag.
  static Result<Dialog> CreateUac(const Message& request, const Message& response);
  // §12.1.1. `request` is the dialog-creating request received; `local_tag` the To tag of our
  // 101-299 response; `local_contact` our Contact URI; `initial_local_cseq` a random start for
  // our own requests (§8.1.1.5: below 2**31).
  static Result<Dialog> CreateUas(const Message& request, std::string_view local_tag,
                                  int status_code, std::string_view local_contact,
                                  uint32_t initial_local_cseq);
  // A confirmed dialog carried on from a description kept outside it (another node's record of
  // the dialog, after a failover): our requests go on from `next_local_cseq`, and the peer's
  // next CSeq is taken as it comes (its last one is not known).
  struct Description {
    DialogId id;
    bool uac = false;
    std::string local_uri, remote_uri, local_target, remote_target;
    std::vector<std::string> route_set;
    uint32_t next_local_cseq = 1;
    bool peer_allows_update = false;
  };
  static Result<Dialog> Restore(Description description);

  const DialogId& id() const { return id_; }
  DialogState state() const { return state_; }
  bool is_uac() const { return uac_; }
  bool secure() const { return secure_; }
  // From/To values without the tags as they were (display name and URI parameters kept).
  const std::string& local_uri() const { return local_uri_; }
  const std::string& remote_uri() const { return remote_uri_; }
  const std::string& local_target() const { return local_target_; }
  const std::string& remote_target() const { return remote_target_; }
  // name-addr values in the order requests must carry them.
  const std::vector<std::string>& route_set() const { return route_set_; }
  std::optional<uint32_t> local_cseq() const { return local_cseq_; }
  std::optional<uint32_t> remote_cseq() const { return remote_cseq_; }

  // A response inside this dialog, or to the request that created it:
  // - 2xx to the initial INVITE: the early dialog is confirmed and its route set recomputed from
  //   the 2xx (§13.2.2.4); a 2xx to a re-INVITE or UPDATE refreshes the remote target (§12.2.1.2);
  // - 481 or 408 to an in-dialog request terminates the dialog (§12.2.1.2);
  // - a 3xx-6xx to the initial INVITE terminates an early dialog (§12.3).
  void OnResponse(const Message& response);

  // §12.2.2 for a request received in this dialog: out-of-order CSeq -> 500; on acceptance the
  // remote CSeq is recorded and re-INVITE / UPDATE refresh the remote target.
  RequestCheck OnRequest(const Message& request);

  // A request in the dialog (§12.2.1.1) with the next local CSeq (CANCEL is built from the
  // INVITE, see BuildCancel; ACK with MakeAck). `via` is the complete Via value with a new
  // branch. INVITE, UPDATE, SUBSCRIBE, NOTIFY and REFER carry our Contact.
  Result<MessageBuilder> MakeRequest(std::string_view method, std::string_view via);
  // The ACK for a 2xx to the INVITE with CSeq `invite_cseq` (§13.2.2.4).
  Result<MessageBuilder> MakeAck(uint32_t invite_cseq, std::string_view via) const;

  // RFC 3262 §4 (7.2): the PRACK for a reliable provisional response received in this dialog,
  // with the next local CSeq and RAck = the response's RSeq, CSeq number and method.
  Result<MessageBuilder> MakePrack(const Message& reliable_provisional, std::string_view via);

  // Offer/answer bookkeeping for UPDATE (RFC 3311) and re-INVITE (RFC 3261 §14), early or
  // confirmed. The TU drives it, since the dialog never sees the bodies we send:
  //   if (dialog.StartLocalOffer().ok()) send UPDATE with SDP;     // else wait: one at a time
  //   auto check = dialog.TakeRemoteOffer();  // a received UPDATE with SDP: 491 / 500 / take it
  //   dialog.OfferSettled();                  // once we answered the remote offer
  // A final response to our UPDATE settles our offer by itself (OnResponse).
  enum class Negotiation { kIdle, kLocalOffer, kRemoteOffer };
  Negotiation negotiation() const { return negotiation_; }
  // RFC 3311 §5.1: no new offer while one is pending either way (FailedPrecondition).
  Status StartLocalOffer();
  // RFC 3311 §5.2: 491 while our offer is unanswered (glare), 500 while an earlier remote offer
  // is unanswered (the TU adds a Retry-After of 0-10 s); reject_code 0 = taken, now pending.
  RequestCheck TakeRemoteOffer();
  // The pending offer got its answer or was refused.
  void OfferSettled() { negotiation_ = Negotiation::kIdle; }
  // RFC 3311 §5.1: the peer listed UPDATE in an Allow of this dialog (the dialog-creating
  // request or response, or a later target refresh).
  bool PeerAllowsUpdate() const { return peer_allows_update_; }

  // RFC 3261 §12.3: after a BYE, or by the TU's decision.
  void Terminate() { state_ = DialogState::kTerminated; }

 private:
  Dialog() = default;
  MessageBuilder Skeleton(std::string_view method, std::string_view via, uint32_t cseq) const;

  DialogId id_;
  DialogState state_ = DialogState::kEarly;
  bool uac_ = false;
  bool secure_ = false;
  std::string local_uri_, remote_uri_, local_target_, remote_target_;
  std::vector<std::string> route_set_;
  std::optional<uint32_t> local_cseq_, remote_cseq_;
  uint32_t local_cseq_base_ = 1;  // the UAS's first CSeq
  std::string initial_method_;
  Negotiation negotiation_ = Negotiation::kIdle;
  bool peer_allows_update_ = false;
};

// The dialog a message belongs to, seen from our side: for a request we receive the local tag is
// the To tag; for a response we receive it is the From tag. nullopt without both tags.
std::optional<DialogId> DialogIdOfReceivedRequest(const Message& request);
std::optional<DialogId> DialogIdOfReceivedResponse(const Message& response);

}  // namespace sb::sip
