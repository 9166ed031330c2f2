// Session timers (RFC 4028): the negotiation of Session-Expires / Min-SE as the UAS of a request
// (§9) and as the UAC of one (§7.1-§7.4), and the clock of one dialog's session (§10): when the
// refresher sends its refresh (half the interval) and when the other side gives the session up
// (the interval minus the lesser of 32 s and a third of it). Pure: headers in, headers and terms
// out; time from the injected Clock.
//
//   // UAS: an INVITE, re-INVITE or UPDATE from the peer.
//   auto answer = sb::sip::NegotiateAsUas(request, {.session_expires = 1800, .min_se = 90});
//   if (answer.reject_code != 0) Respond(answer.reject_code, answer.reason, answer.headers);
//   else Respond(200, ..., answer.headers);   // then timer.Refreshed(answer.terms) or start one
//
//   // UAC: our INVITE carries UacTimerHeaders(1800, 90, false); its 2xx decides.
//   if (auto terms = sb::sip::TermsFromAnswer(response)) sb::sip::SessionTimer timer(clock,
//   *terms); timer.OnTimers();   // kRefresh: send a re-INVITE / UPDATE; kExpire: BYE
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchboard/core/clock.h"
#include "switchboard/sip/message.h"

namespace sb::sip {

inline constexpr std::string_view kOptionTimer = "timer";

using HeaderLines = std::vector<std::pair<std::string, std::string>>;

// A node's local policy (RFC 4028 §4, §5: 1800 s recommended, 90 s the smallest Min-SE a UA
// should use; a smaller one is for tests).
struct SessionTimerPolicy {
  uint32_t session_expires = 1800;  // asked for as UAC, granted as UAS when the peer asks none
  uint32_t min_se = 90;             // the smallest interval accepted
};

// What one dialog's session runs under after a 2xx: its interval and whether this side
// refreshes it.
struct SessionTerms {
  uint32_t interval = 0;  // seconds
  bool we_refresh = false;
  bool operator==(const SessionTerms&) const = default;
};

// §9: the answer of a UAS to a request that may set or refresh the session timer.
struct UasTimerAnswer {
  // 0: accept with `headers` on the 2xx (Session-Expires with its refresher, Require: timer
  // when the peer supports timers) and run the session under `terms`. Otherwise the response:
  // 422 with Min-SE (interval below ours), 400 naming a malformed Session-Expires or Min-SE.
  int reject_code = 0;
  std::string reason;
  HeaderLines headers;
  SessionTerms terms;
};
// The peer supports timers when its request says so in Supported or Require. Without a
// Session-Expires we grant policy.session_expires (at least the request's Min-SE); the refresher
// is the one the request names, else the peer when it supports timers, else us.
UasTimerAnswer NegotiateAsUas(const Message& request, const SessionTimerPolicy& policy);

// §7.1 / §7.4: Session-Expires (with refresher=uac when `we_refresh`, i.e. a refresh by the
// current refresher) and Min-SE for our INVITE or refresh. Supported: timer is the caller's.
HeaderLines UacTimerHeaders(uint32_t session_expires, uint32_t min_se, bool we_refresh);

// §7.4 / §9: any re-INVITE or UPDATE within a session refreshes it, so one we send keeps the
// session's terms: Session-Expires with the current refresher (refresher=uac when we refresh,
// uas when the peer does), Min-SE, and Supported: timer. Without them a peer would take the
// request as turning its session timer off (§9), and stop refreshing a session we expect it to.
HeaderLines SessionRefreshHeaders(SessionTerms terms, uint32_t min_se);

// §7.3: the interval to ask again after a 422 to a request that asked `asked` seconds: the
// 422's Min-SE, or nullopt when it names none larger (the request is not retried).
std::optional<uint32_t> IntervalAfter422(const Message& response, uint32_t asked);

// §7.2: the terms a 2xx to our INVITE or refresh sets; nullopt when it carries no (valid)
// Session-Expires, which means no session timer. A missing refresher parameter leaves the
// refreshes to us (the UAC), so that the session is not lost for want of one.
std::optional<SessionTerms> TermsFromAnswer(const Message& response);

// §10: the clock of one dialog's session. The refresher's refresh is due at half the interval
// (once per interval: a refresh that fails leaves the session to expire); the session expires
// for the refresher at the end of the interval, for the other side at the interval minus
// min(32 s, interval / 3), when it should send the BYE.
class SessionTimer {
 public:
  enum class Action { kNone, kRefresh, kExpire };

  // The session started (or was last refreshed) now, under `terms`. Borrows `clock`.
  SessionTimer(const core::Clock& clock, SessionTerms terms);

  // A 2xx to a refresh in either direction: the interval starts again, under the new terms.
  void Refreshed(SessionTerms terms);
  // When OnTimers has something to do next.
  core::Clock::TimePoint NextDeadline() const;
  // What is due now: kRefresh once per interval for the refresher, then kExpire.
  Action OnTimers();

  const SessionTerms& terms() const { return terms_; }

 private:
  core::Clock::TimePoint RefreshAt() const;
  core::Clock::TimePoint ExpireAt() const;

  const core::Clock& clock_;
  SessionTerms terms_;
  core::Clock::TimePoint started_;
  bool refresh_sent_ = false;
};

}  // namespace sb::sip
