#include "registrar/bindings.h"

#include <algorithm>
#include <cstdio>

#include "switchboard/core/ascii.h"
#include "switchboard/sip/headers.h"
#include "switchboard/sip/uri.h"

namespace sb::signaling {
namespace {

RegisterError Error(int code, std::string reason,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
  return RegisterError{code, std::move(reason), std::move(headers)};
}

}  // namespace

std::optional<int> ParseQValue(std::string_view text) {
  // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
  if (text.empty() || (text[0] != '0' && text[0] != '1')) return std::nullopt;
  int whole = text[0] - '0';
  int milli = 0;
  if (text.size() > 1) {
    if (text[1] != '.' || text.size() > 5) return std::nullopt;
    int scale = 100;
    for (char c : text.substr(2)) {
      if (c < '0' || c > '9') return std::nullopt;
      milli += (c - '0') * scale;
      scale /= 10;
    }
  }
  if (whole == 1 && milli != 0) return std::nullopt;
  return whole * 1000 + milli;
}

Result<std::string> AddressOfRecord(const sip::Message& request) {
  auto to = request.To();
  if (!to.ok()) return Status::InvalidArgument("bad To", "To");
  const sip::Uri& uri = (*to)->uri;
  if (!uri.is_sip() || uri.host.empty() || uri.user.empty()) {
    return Status::InvalidArgument("the To of a REGISTER must be a sip URI with a user", "To");
  }
  return CanonicalAor(uri.scheme_text, uri.user, uri.host);
}

std::string CanonicalAor(std::string_view scheme, std::string_view user, std::string_view host) {
  return core::AsciiLowered(scheme) + ":" +
         sip::Escape(sip::Unescape(user), sip::UriComponent::kUser) + "@" +
         core::AsciiLowered(host);
}

std::variant<RegisterOutcome, RegisterError> ApplyRegister(const sip::Message& request,
                                                           std::vector<Binding> current,
                                                           WallTime now,
                                                           const RegistrarPolicy& policy,
                                                           const std::string& source) {
  RegisterOutcome outcome;
  size_t before = current.size();
  std::erase_if(current, [&](const Binding& b) { return b.expires_at <= now; });
  outcome.changed = current.size() != before;

  auto call_id = request.CallId();
  auto cseq = request.GetCSeq();
  auto expires_header = request.Expires();
  auto contacts = request.NameAddrs(sip::HeaderId::kContact);
  if (!call_id.ok() || !cseq.ok() || !expires_header.ok() || !contacts.ok()) {
    return Error(400, "Bad REGISTER");
  }
  const uint32_t cseq_number = (*cseq)->number;

  // Contact: * removes every binding; only with Expires: 0 and alone (§10.3 step 6).
  bool star = std::any_of(contacts->begin(), contacts->end(),
                          [](const sip::NameAddr& c) { return c.star; });
  if (star) {
    if (contacts->size() != 1 || !expires_header->has_value() || **expires_header != 0) {
      return Error(400, "Contact * needs Expires: 0 and no other Contact");
    }
    bool out_of_order = false;
    std::erase_if(current, [&](const Binding& b) {
      // A binding of the same Call-ID is removed only by a newer CSeq.
      if (b.call_id == *call_id && cseq_number <= b.cseq) {
        out_of_order = true;
        return false;
      }
      return true;
    });
    if (out_of_order) return Error(500, "Out of order REGISTER");
    outcome.bindings = std::move(current);
    outcome.changed = true;
    return outcome;
  }

  for (const sip::NameAddr& contact : *contacts) {
    sip::Params params = contact.params();
    uint32_t expires = policy.default_expires;
    if (auto e = params.Get("expires")) {
      auto parsed = sip::ParseUint32(*e);
      if (!parsed.ok()) return Error(400, "Bad Contact expires");
      expires = *parsed;
    } else if (expires_header->has_value()) {
      expires = **expires_header;
    }
    if (expires != 0 && expires < policy.min_expires) {
      return Error(423, {}, {{"Min-Expires", std::to_string(policy.min_expires)}});
    }
    expires = std::min(expires, policy.max_expires);
    int q = 1000;
    if (auto q_text = params.Get("q")) {
      auto parsed = ParseQValue(*q_text);
      if (!parsed) return Error(400, "Bad Contact q");
      q = *parsed;
    }
    std::string instance(params.Get("+sip.instance").value_or(""));
    if (instance.find_first_of("\x1f\r\n") != std::string::npos) {
      return Error(400, "Bad Contact +sip.instance");
    }
    uint32_t reg_id = 0;
    if (auto r = params.Get("reg-id")) {
      auto parsed = sip::ParseUint32(*r);
      if (!parsed.ok() || *parsed == 0 || *parsed > 0x7fffffffu) {
        return Error(400, "Bad Contact reg-id");
      }
      if (instance.empty()) return Error(400, "Contact reg-id without +sip.instance");
      reg_id = *parsed;
    }
    std::string uri(contact.uri.text);
    auto existing = std::find_if(current.begin(), current.end(), [&](const Binding& b) {
      return !instance.empty() && b.instance == instance && b.reg_id == reg_id;
    });
    if (existing == current.end()) {
      existing = std::find_if(current.begin(), current.end(),
                              [&](const Binding& b) { return SameContact(b.contact, uri); });
    }
    if (existing != current.end() && existing->call_id == *call_id &&
        cseq_number <= existing->cseq) {
      return Error(500, "Out of order REGISTER");
    }
    outcome.changed = true;
    if (expires == 0) {
      if (existing != current.end()) current.erase(existing);
      continue;
    }
    Binding binding{.contact = uri,
                    .q_milli = q,
                    .call_id = std::string(*call_id),
                    .cseq = cseq_number,
                    .expires_at = now + std::chrono::seconds(expires),
                    .source = source,
                    .path = {},
                    .instance = std::move(instance),
                    .reg_id = reg_id};
    if (existing != current.end()) {
      *existing = std::move(binding);
    } else {
      current.push_back(std::move(binding));
    }
  }
  if (current.size() > policy.max_contacts) return Error(403, std::string(kTooManyContacts));
  std::stable_sort(current.begin(), current.end(),
                   [](const Binding& a, const Binding& b) { return a.q_milli > b.q_milli; });
  outcome.bindings = std::move(current);
  return outcome;
}

bool SameContact(std::string_view a, std::string_view b) {
  if (a == b) return true;
  auto ua = sip::ParseUri(a);
  auto ub = sip::ParseUri(b);
  return ua.ok() && ub.ok() && sip::UriEquivalent(*ua, *ub);
}

std::vector<std::string> ContactHeaders(const std::vector<Binding>& bindings, WallTime now) {
  std::vector<std::string> out;
  for (const Binding& b : bindings) {
    auto left = std::chrono::ceil<std::chrono::seconds>(b.expires_at - now).count();
    std::string value = "<" + b.contact + ">;expires=" + std::to_string(std::max<int64_t>(left, 0));
    if (b.q_milli != 1000) {
      char q[8];
      std::snprintf(q, sizeof q, "0.%03d", b.q_milli);
      value += ";q=";
      value += q;
    }
    if (!b.instance.empty()) value += ";+sip.instance=" + b.instance;
    if (b.reg_id != 0) value += ";reg-id=" + std::to_string(b.reg_id);
    out.push_back(std::move(value));
  }
  return out;
}

}  // namespace sb::signaling
