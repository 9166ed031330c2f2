// The scripts of a pipeline (Command::Eval) that the server answered NOSCRIPT (first use, SCRIPT
// FLUSH, a restart): one more pipeline loads each once and runs those commands again, and its
// replies take the NOSCRIPT ones' places. Shared by the blocking Client and the LoopConnection.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "switchboard/core/status.h"
#include "switchboard/redis/client.h"
#include "switchboard/redis/reply.h"

namespace sb::redis::internal {

class ScriptReload {
 public:
  // `replies` are those of `commands`, sent with the keys' `prefix`.
  ScriptReload(const std::vector<Command>& commands, std::string_view prefix,
               const std::vector<Reply>& replies);

  // Nothing to load: the replies are final.
  bool empty() const { return again_.empty(); }
  // The pipeline to send: SCRIPT LOAD of each script, then the commands to run again.
  const std::vector<std::vector<std::string>>& commands() const { return again_; }
  // Puts the reruns' replies (`retried`, one per commands()) in `replies`; a failed or
  // mismatched SCRIPT LOAD is the Status.
  Status Apply(std::vector<Reply> retried, std::vector<Reply>& replies) const;

 private:
  struct Step {
    const Script* load;  // a SCRIPT LOAD of it, or (nullptr) command `rerun` again
    size_t rerun;
  };
  std::vector<Step> steps_;
  std::vector<std::vector<std::string>> again_;
};

}  // namespace sb::redis::internal
