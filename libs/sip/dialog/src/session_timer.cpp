#include "switchboard/sip/session_timer.h"

#include <algorithm>

#include "switchboard/sip/headers.h"

namespace sb::sip {
namespace {

// Min-SE is delta-seconds *(SEMI generic-param) (§5), Session-Expires' grammar without a
// refresher: the same parser reads it.
Result<std::optional<uint32_t>> MinSeOf(const Message& m) {
  auto value = m.Header(HeaderId::kMinSE);
  if (!value) return std::optional<uint32_t>();
  auto parsed = ParseSessionExpires(*value);
  if (!parsed.ok()) return Status::InvalidArgument("bad Min-SE");
  return std::optional<uint32_t>(parsed->delta_seconds);
}

bool SupportsTimer(const Message& m) {
  return m.HasToken(HeaderId::kSupported, kOptionTimer) ||
         m.HasToken(HeaderId::kRequire, kOptionTimer);
}

}  // namespace

UasTimerAnswer NegotiateAsUas(const Message& request, const SessionTimerPolicy& policy) {
  UasTimerAnswer answer;
  auto asked = request.SessionExpires();
  if (!asked.ok() || (asked->has_value() && (*asked)->delta_seconds == 0)) {
    answer.reject_code = 400;
    answer.reason = "Invalid Session-Expires";
    return answer;
  }
  auto min_se = MinSeOf(request);
  if (!min_se.ok()) {
    answer.reject_code = 400;
    answer.reason = "Invalid Min-SE";
    return answer;
  }
  const bool supported = SupportsTimer(request);
  uint32_t interval = std::max(policy.session_expires, min_se->value_or(0));
  std::string_view refresher;
  if (asked->has_value()) {
    interval = (*asked)->delta_seconds;
    if (interval < policy.min_se) {
      // §9: only a UAC that supports timers can retry with a larger interval; for one that
      // does not (a proxy asked) the UAS refreshes, so it may as well use its own minimum.
      if (supported) {
        answer.reject_code = 422;
        answer.reason = "Session Interval Too Small";
        answer.headers.emplace_back("Min-SE", std::to_string(policy.min_se));
        return answer;
      }
      interval = policy.min_se;
    }
    refresher = (*asked)->refresher;
  }
  // §9: a UAC without timer support cannot refresh, whatever a proxy wrote.
  if (!supported) refresher = "uas";
  if (refresher != "uac" && refresher != "uas") refresher = supported ? "uac" : "uas";
  answer.terms = {.interval = interval, .we_refresh = refresher == "uas"};
  answer.headers.emplace_back("Session-Expires",
                              std::to_string(interval) + ";refresher=" + std::string(refresher));
  if (supported) answer.headers.emplace_back("Require", std::string(kOptionTimer));
  return answer;
}

HeaderLines UacTimerHeaders(uint32_t session_expires, uint32_t min_se, bool we_refresh) {
  std::string se = std::to_string(session_expires);
  if (we_refresh) se += ";refresher=uac";
  return {{"Session-Expires", se}, {"Min-SE", std::to_string(min_se)}};
}

HeaderLines SessionRefreshHeaders(SessionTerms terms, uint32_t min_se) {
  return {{"Session-Expires", std::to_string(terms.interval) +
                                  (terms.we_refresh ? ";refresher=uac" : ";refresher=uas")},
          {"Min-SE", std::to_string(std::min(min_se, terms.interval))},
          {"Supported", std::string(kOptionTimer)}};
}

std::optional<uint32_t> IntervalAfter422(const Message& response, uint32_t asked) {
  auto min_se = MinSeOf(response);
  if (!min_se.ok() || !min_se->has_value() || **min_se <= asked) return std::nullopt;
  return **min_se;
}

std::optional<SessionTerms> TermsFromAnswer(const Message& response) {
  auto se = response.SessionExpires();
  if (!se.ok() || !se->has_value() || (*se)->delta_seconds == 0) return std::nullopt;
  return SessionTerms{.interval = (*se)->delta_seconds, .we_refresh = (*se)->refresher != "uas"};
}

SessionTimer::SessionTimer(const core::Clock& clock, SessionTerms terms)
    : clock_(clock), terms_(terms), started_(clock.Now()) {}

void SessionTimer::Refreshed(SessionTerms terms) {
  terms_ = terms;
  started_ = clock_.Now();
  refresh_sent_ = false;
}

core::Clock::TimePoint SessionTimer::RefreshAt() const {
  return started_ + std::chrono::milliseconds(uint64_t{terms_.interval} * 500);
}

core::Clock::TimePoint SessionTimer::ExpireAt() const {
  const std::chrono::seconds interval(terms_.interval);
  if (terms_.we_refresh) return started_ + interval;
  const auto margin = std::min<std::chrono::milliseconds>(
      std::chrono::seconds(32), std::chrono::milliseconds(uint64_t{terms_.interval} * 1000 / 3));
  return started_ + interval - margin;
}

core::Clock::TimePoint SessionTimer::NextDeadline() const {
  return terms_.we_refresh && !refresh_sent_ ? RefreshAt() : ExpireAt();
}

SessionTimer::Action SessionTimer::OnTimers() {
  const auto now = clock_.Now();
  if (now >= ExpireAt()) return Action::kExpire;
  if (terms_.we_refresh && !refresh_sent_ && now >= RefreshAt()) {
    refresh_sent_ = true;
    return Action::kRefresh;
  }
  return Action::kNone;
}

}  // namespace sb::sip
