// Registrar bindings (RFC 3261 §10.3): the pure rules that turn a REGISTER and an address of
// record's current bindings into its new bindings or the error to answer. No store, no I/O:
// the registrar loads the bindings (store/redis_binding_store.h), calls ApplyRegister with the
// wall time, saves the result and answers with ContactHeaders.
//
//   auto outcome = sb::signaling::ApplyRegister(request, current, clock.WallNow(), policy,
//                                              "udp:192.0.2.7:40112");
//   if (auto* error = std::get_if<sb::signaling::RegisterError>(&outcome)) Respond(error->code);
//   auto& next = std::get<sb::signaling::RegisterOutcome>(outcome).bindings;
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "switchboard/sip/message.h"

namespace sb::signaling {

using WallTime = std::chrono::system_clock::time_point;

struct Binding {
  std::string contact;  // the Contact URI as registered
  int q_milli = 1000;   // q-value 0.000..1.000 in thousandths (no floating point in state)
  std::string call_id;
  uint32_t cseq = 0;
  WallTime expires_at;
  std::string source;  // "udp:192.0.2.7:40112": where the phone is reachable behind NAT
  // Path header values of the REGISTER (RFC 3327), outermost first: the proxies (the balancer)
  // a request to this contact must be routed through.
  std::vector<std::string> path;
  // RFC 5626 §4.1 / RFC 5627: the phone's +sip.instance as written ("\"<urn:uuid:...>\"") and its
  // reg-id (0: none). A REGISTER naming the same instance and reg-id replaces the binding whatever
  // its contact URI: a phone that moved to another address or NAT mapping leaves no stale one.
  std::string instance{};
  uint32_t reg_id = 0;
  friend bool operator==(const Binding&, const Binding&) = default;
};

struct RegistrarPolicy {
  uint32_t min_expires = 60;        // below: 423 with Min-Expires (§10.3 step 7)
  uint32_t max_expires = 3600;      // above: shortened
  uint32_t default_expires = 3600;  // neither Contact expires nor Expires
  size_t max_contacts = 10;         // per address of record
};

// The reason of the 403 for a REGISTER that would take its AOR past max_contacts, whether the
// rules see it or the store's checked save does (registrar.h).
inline constexpr std::string_view kTooManyContacts = "Too many contacts";

struct RegisterOutcome {
  std::vector<Binding> bindings;  // live bindings after the request, highest q first
  bool changed = false;           // whether anything must be stored
};

struct RegisterError {
  int code = 400;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
};

// The registrar's form of an address of record (§10.3 step 5): "scheme:user@host", scheme and host
// lower-cased, the user's escapes normalised (decoded, then only what a user part must escape is
// escaped again, in upper-case hex), so that sip:%61lice@X and sip:alice@x are one AOR while
// sip:null-%00-null@x stays printable.
std::string CanonicalAor(std::string_view scheme, std::string_view user, std::string_view host);

// The address of record of a REGISTER: its To URI in CanonicalAor form (no port or parameters).
Result<std::string> AddressOfRecord(const sip::Message& request);

// §10.3 steps 6-8 for `request` against `current` (expired bindings are dropped first). A
// Contact with +sip.instance takes the place of the binding with the same instance and reg-id
// (RFC 5626 §6); a reg-id without an instance, or one outside 1..2^31-1, is 400.
std::variant<RegisterOutcome, RegisterError> ApplyRegister(const sip::Message& request,
                                                           std::vector<Binding> current,
                                                           WallTime now,
                                                           const RegistrarPolicy& policy,
                                                           const std::string& source);

// Whether two Contact URIs name one binding: equivalent by RFC 3261 §19.1.4, as §10.3 step 7
// compares them. "sip:a@h" and "sip:a@h;unknownparam" are one (a parameter in only one of them is
// ignored, RFC 4475 §3.3.13), "sip:%00@h" and "sip:%00%00@h" are two (§3.1.1.4). A REGISTER with
// an equivalent Contact refreshes the binding, which takes the URI as the REGISTER wrote it.
bool SameContact(std::string_view a, std::string_view b);

// The Contact values of a 200 to REGISTER: each binding with its remaining expires and q, and its
// +sip.instance and reg-id as registered (RFC 5626 §6: the phone recognises its own flows).
std::vector<std::string> ContactHeaders(const std::vector<Binding>& bindings, WallTime now);

// "0.5" -> 500; "1" -> 1000; nullopt for anything that is not a qvalue (§25.1).
std::optional<int> ParseQValue(std::string_view text);

}  // namespace sb::signaling
