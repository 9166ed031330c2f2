// RegistrationObserver: told about every REGISTER the registrar stored, on the worker thread
// that handled it (keep-alive tracking, keepalive_service.h). Must not block.
#pragma once

#include <string_view>
#include <vector>

#include "registrar/bindings.h"
#include "switchboard/core/ids.h"

namespace sb::signaling {

class RegistrationObserver {
 public:
  virtual ~RegistrationObserver() = default;
  // `bindings`: the AOR's whole set after the request; `source`: where it came from
  // ("udp:ip:port", as Binding::source).
  virtual void OnRegistered(const TenantId& tenant, std::string_view aor,
                            const std::vector<Binding>& bindings, std::string_view source) = 0;
};

}  // namespace sb::signaling
