// CallWhereabouts: which signaling node serves the commands for a call, for the commands sent to
// any node (sb.cmd.signaling.<operation>, rpc/call_command_server.h). A requester that knows the
// call's node (Call.signaling_node_id in its events) sends there; one whose node has gone for
// good (a pod replaced under another name, a node scaled away) or that does not know it sends to
// any node, and the node that takes the command asks this where the call is: another live node
// gets the command passed on, and a call whose node is gone is acted on here from its record.
//
//   class StoredCallWhereabouts : public CallWhereabouts { ... };   // store/
//   CallCommandServer commands(bus, node_id, b2bua, &whereabouts);
#pragma once

#include <optional>
#include <string>

#include "switchboard/core/ids.h"
#include "switchboard/core/status.h"

namespace sb::signaling {

class CallWhereabouts {
 public:
  virtual ~CallWhereabouts() = default;
  // The node id of another live node carrying `call`, or nullopt when this node serves its
  // commands: it carries the call, the call's node is gone (its record is acted on here), or no
  // node is known to carry it (NOT_FOUND here). May block (called on the bus's threads).
  virtual Result<std::optional<std::string>> ServingNode(const CallId& call) = 0;
};

}  // namespace sb::signaling
