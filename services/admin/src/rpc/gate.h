// What every admin RPC goes through: authentication from "authorization: Bearer <key>", the
// per-key rate limit, per-method metrics (sb_admin_rpc_total{method,code},
// sb_admin_rpc_seconds{method}) and one log line per failed call; then the handler's Status is
// mapped to gRPC in one place (convert.h).
//
//   return gate_.Run(ctx, "CreateTenant", [&](const Principal& p) -> Status { ... });
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string_view>

#include "domain/provisioning.h"
#include "domain/rate_limit.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/metrics.h"

namespace sb::admin::rpc {

class Gate {
 public:
  Gate(Provisioning& provisioning, RateLimiter& limiter, core::MetricsRegistry& metrics,
       const core::Logger& log)
      : provisioning_(provisioning), limiter_(limiter), metrics_(metrics), log_(log) {}

  grpc::Status Run(grpc::ServerContext* context, std::string_view method,
                   const std::function<Status(const Principal&)>& handler);

 private:
  Provisioning& provisioning_;
  RateLimiter& limiter_;
  core::MetricsRegistry& metrics_;
  const core::Logger& log_;
};

}  // namespace sb::admin::rpc
