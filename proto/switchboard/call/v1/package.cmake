# switchboard.call.v1: call events on JetStream (sb.evt.call.<type>.<tenant_id>) and the commands
# a signaling node serves for the calls it carries (sb.cmd.signaling.<node_id>.<operation>).
# Paths are relative to proto/.
sb_proto(call
  PROTOS
    switchboard/call/v1/events.proto
    switchboard/call/v1/commands.proto
  DEPS sb::proto_common)
