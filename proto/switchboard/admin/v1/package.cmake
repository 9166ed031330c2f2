# switchboard.admin.v1: the public gRPC admin API, the lookups other services ask admin over NATS,
# and admin's events. Paths are relative to proto/.
sb_proto(admin GRPC
  PROTOS
    switchboard/admin/v1/tenant.proto
    switchboard/admin/v1/api_key.proto
    switchboard/admin/v1/extension.proto
    switchboard/admin/v1/number.proto
    switchboard/admin/v1/trunk.proto
    switchboard/admin/v1/lookup.proto
    switchboard/admin/v1/events.proto
    switchboard/admin/v1/audit.proto
  DEPS sb::proto_common)
