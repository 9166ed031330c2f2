# switchboard.media.v1: commands addressed to one media node (sb.cmd.media.<node>.<operation>),
# media events and node load reports. Paths are relative to proto/.
sb_proto(media
  PROTOS
    switchboard/media/v1/commands.proto
    switchboard/media/v1/events.proto
  DEPS sb::proto_common)
