// RedisCallStore: the B2BUA's answered calls in Redis (b2bua::CallStore), so that any replica can
// end a call whose node died: a BYE for a dialog it never saw, or a hangup command, finds both
// dialogs here and BYEs the other side. Keys (under the client's prefix, e.g. "signaling:"):
//   call:<call_id>                      the StoredCall, fields separated by \x1f (unit separator)
//   dialog:<sip_call_id>:<local_tag>    -> call_id, one per dialog (caller's and callee's side)
// all expiring after `ttl` (refreshed by every Save), so a call nobody ended cannot linger for
// ever.
//
//   sb::signaling::RedisCallStore store(redis, std::chrono::hours(12));
//   store.Save(call);                                    // after the 200 to the caller
//   auto found = store.FindByDialog("a84b4c76e6", "9fxced76sl");   // on another replica
//
// Thread-safe as the client is; each method blocks on Redis (run it offloaded).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "b2bua/ports.h"
#include "switchboard/redis/client.h"

namespace sb::signaling {

class RedisCallStore final : public b2bua::CallStore {
 public:
  RedisCallStore(redis::Client& client, std::chrono::seconds ttl) : client_(client), ttl_(ttl) {}

  Status Save(const b2bua::StoredCall& call) override;
  Result<b2bua::StoredCall> FindByDialog(std::string_view sip_call_id,
                                         std::string_view local_tag) override;
  Result<b2bua::StoredCall> Find(std::string_view call_id) override;
  Status Remove(const b2bua::StoredCall& call) override;

  // The stored form, exposed for tests of its round trip.
  static std::string Encode(const b2bua::StoredCall& call);
  static Result<b2bua::StoredCall> Decode(std::string_view text);

 private:
  redis::Client& client_;
  std::chrono::seconds ttl_;
};

}  // namespace sb::signaling
