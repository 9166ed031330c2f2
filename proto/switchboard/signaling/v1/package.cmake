# switchboard.signaling.v1: registration events on JetStream (sb.evt.registration.<type>.<tenant>).
# Paths are relative to proto/.
sb_proto(signaling
  PROTOS
    switchboard/signaling/v1/events.proto
  DEPS sb::proto_common)
